"""What the studio reads of pipelines (core/pipeline_views.py): the list of a workspace's pipeline runs with step
counts (``GET …/pipelines/runs``) and a run's graph with data and run_after edges (``GET …/pipelines/runs/{id}/
graph``), on a real service; the edge and count rules without one."""

from __future__ import annotations

from pathlib import Path

import pytest
from azureml.core import Experiment, ScriptRunConfig
from azureml.pipeline.core import Pipeline, PipelineData
from azureml.pipeline.steps import PythonScriptStep

from jupyter_aml.core.pipeline_views import counts, edges
from jupyter_aml.core.pipelines_models import PipelineRunCreate, PipelineStepState
from jupyter_aml.errors import AMLError
from tests.e2e.conftest import write_script

SNAP = "0" * 64
WRITE = ("import sys, os\nos.makedirs(sys.argv[2], exist_ok=True)\n"
         "open(os.path.join(sys.argv[2], 'x'), 'w').write('1')\n")
READ = "import sys, os\nprint(open(os.path.join(sys.argv[2], 'x')).read())\n"


def _step(name: str, outputs: tuple[str, ...] = (), inputs: tuple[tuple[str, str], ...] = (),
          after: tuple[str, ...] = ()) -> dict[str, object]:
    return {"name": name, "snapshot_id": SNAP, "run_after": list(after),
            "run_config": {"script": "s.py", "outputs": [{"name": o} for o in outputs]},
            "inputs": [{"name": n, "source": s} for n, s in inputs]}


def test_edges_carry_their_data_and_run_after() -> None:
    spec = PipelineRunCreate.model_validate({"experiment": "e", "steps": [
        _step("a", outputs=("a1", "a2")), _step("b", inputs=(("x", "a1"), ("y", "a2")), after=("a",)),
        _step("c", after=("b",)), _step("d", inputs=(("z", "a1"),))]})
    got = {(e.source, e.target): (e.data, e.run_after) for e in edges(spec)}
    assert got == {("a", "b"): (["a1", "a2"], True), ("b", "c"): ([], True), ("a", "d"): (["a1"], False)}


def test_counts_say_how_far_a_pipeline_got() -> None:
    def state(status: str, reused: str | None = None) -> PipelineStepState:
        return PipelineStepState(name=status, status=status, run_id=None, depends_on=[], compute_target="local",
                                 allow_reuse=True, reused_from=reused)

    got = counts([state("Completed", "r1"), state("Completed"), state("Running"), state("Failed"),
                  state("NotStarted"), state("Skipped"), state("Queued")])
    assert got.model_dump() == {"total": 7, "completed": 2, "reused": 1, "running": 2, "failed": 1,
                                "not_started": 1, "skipped": 1}


def test_pipeline_runs_are_listed_with_step_counts_and_their_graph(service, tmp_path: Path) -> None:
    ws = service.workspace("studio-pipes")
    src = tmp_path / "src"
    write_script(src, WRITE, "write.py")
    write_script(src, READ, "read.py")
    write_script(src, "print('not a pipeline')\n", "plain.py")
    prepared = PipelineData("prepared")
    prep = PythonScriptStep("write.py", name="prep", arguments=["--out", prepared], outputs=[prepared],
                            source_directory=str(src), compute_target="local")
    train = PythonScriptStep("read.py", name="train", arguments=["--data", prepared], inputs=[prepared],
                             source_directory=str(src), compute_target="local")
    report = PythonScriptStep("read.py", name="report", arguments=["--data", prepared, "report"], inputs=[prepared],
                              source_directory=str(src), compute_target="local")
    report.run_after(train)
    pipeline = Pipeline(ws, steps=[prep, train, report])
    first = Experiment(ws, "pipes").submit(pipeline)
    assert first.wait_for_completion(show_output=False) == "Completed"
    plain = Experiment(ws, "pipes").submit(ScriptRunConfig(source_directory=str(src), script="plain.py"))
    again = pipeline.submit("pipes-again")  # unchanged: every step reused
    assert again.wait_for_completion(show_output=False) == "Completed"

    client = service.client()
    listed = client.get("/workspaces/studio-pipes/pipelines/runs")
    assert [i["run"]["id"] for i in listed["items"]] == [again.id, first.id]  # newest first, no plain run
    assert listed["total"] == 2 and listed["next_page_token"] is None
    assert listed["items"][0]["steps"] == {"total": 3, "completed": 3, "reused": 3, "running": 0, "failed": 0,
                                           "not_started": 0, "skipped": 0}
    assert listed["items"][1]["steps"]["completed"] == 3 and listed["items"][1]["steps"]["reused"] == 0
    one = client.get("/workspaces/studio-pipes/pipelines/runs", params={"experiment": "pipes", "page_size": 1})
    assert [i["run"]["id"] for i in one["items"]] == [first.id] and one["next_page_token"] is None
    failed = client.get("/workspaces/studio-pipes/pipelines/runs", params={"status": "Failed"})
    assert failed["items"] == [] and failed["total"] == 0

    graph = client.get(f"/workspaces/studio-pipes/pipelines/runs/{first.id}/graph")
    assert graph["run_id"] == first.id and graph["steps"] == ["prep", "train", "report"]
    assert sorted((e["source"], e["target"], tuple(e["data"]), e["run_after"]) for e in graph["edges"]) == [
        ("prep", "report", ("prepared",), False), ("prep", "train", ("prepared",), False),
        ("train", "report", (), True)]
    plain.wait_for_completion(show_output=False)
    with pytest.raises(AMLError, match="is not a pipeline run"):
        client.get(f"/workspaces/studio-pipes/pipelines/runs/{plain.id}/graph")
    with pytest.raises(AMLError, match="page_size"):
        client.get("/workspaces/studio-pipes/pipelines/runs", params={"page_size": 0})
