"""The whole run loop on local compute: SDK, REST and an unchanged Azure ML v1 script."""

from __future__ import annotations

import hashlib
import io
import shutil
import time
import zipfile

import git

from jupyter_aml import Experiment, ScriptRunConfig
from tests.e2e.conftest import REPO


def test_examples_project_through_the_sdk(service, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(REPO / "examples" / "train-digits", project)
    repo = git.Repo.init(project)
    repo.index.add(["train.py", ".amlignore"])
    repo.index.commit("initial")
    repo.create_remote("origin", "https://user:secret@example.com/team/digits.git")
    (project / "train.py").write_text((project / "train.py").read_text() + "\n# tweak\n")  # dirty

    ws = service.workspace()
    config = ScriptRunConfig(source_directory=project, script="train.py", arguments=["--sweep", "0.5", "2"])
    run = Experiment(ws, "digits").submit(config, tags={"suite": "e2e"})
    details = run.wait_for_completion(show_output=False)
    assert details["status"] == "Completed"
    assert details["tags"]["suite"] == "e2e" and details["tags"]["model"] == "logistic-regression"

    metrics = run.get_metrics()
    assert len(metrics["accuracy"]) == 3 and 0.8 < metrics["final_accuracy"] <= 1.0
    assert metrics["C"] == 1.0
    assert len(metrics["class_counts"]) == 10
    assert metrics["learning_curve"]["samples"][-1] == 1347
    assert set(metrics["confusion"]) == {str(k) for k in range(10)}

    logs = service.client().get(f"workspaces/e2e/runs/{run.id}/logs")["items"]
    assert any("final accuracy" in line["text"] for line in logs)
    assert run.get_file_names() == ["outputs/model.pkl"]
    local = run.download_file("outputs/model.pkl", tmp_path / "model.pkl")
    assert local.stat().st_size > 100

    children = run.get_children()
    assert sorted(c.get_metrics()["C"] for c in children) == [0.5, 2.0]
    assert {c.get_status() for c in children} == {"Completed"}
    assert set(run.get_metrics(recursive=True)) == {run.id, *(c.id for c in children)}

    info = run._refresh()["git"]
    assert info["repository"] == "https://example.com/team/digits.git"  # credentials stripped
    assert info["dirty"] and "# tweak" in info["diff"] and info["commit"] == repo.head.commit.hexsha

    snapshot = service.client().request("GET", f"workspaces/e2e/snapshots/{details['snapshotId']}/zip")
    names = zipfile.ZipFile(io.BytesIO(snapshot)).namelist()
    assert "train.py" in names and not any(n.startswith("outputs/") for n in names)


def test_azureml_v1_script_runs_unchanged(service):
    ws = service.workspace()
    config = ScriptRunConfig(source_directory=REPO / "examples" / "azureml-v1", script="train.py")
    run = Experiment(ws, "v1").submit(config)
    assert run.wait_for_completion()["status"] == "Completed"
    metrics = run.get_metrics()
    assert metrics["max_depth"] == [2, 4, 8]
    assert len(metrics["cv_accuracy"]) == 3 and all(0.3 < v < 1 for v in metrics["cv_accuracy"])
    assert run.get_file_names() == ["outputs/summary.txt"]


def test_submit_through_plain_rest(service, tmp_path):
    client = service.client()
    client.post("workspaces", {"name": "rest"})
    script = b"import sys\nprint('args', sys.argv[1:])\n"
    digest = hashlib.sha256(script).hexdigest()
    assert client.post("workspaces/rest/blobs/missing", {"hashes": [digest]})["missing"] == [digest]
    client.request("PUT", f"workspaces/rest/blobs/{digest}", data=script, content_type="application/octet-stream")
    snap = client.post(
        "workspaces/rest/snapshots",
        {"files": [{"path": "main.py", "sha256": digest, "size": len(script), "mode": 0o644}]},
    )
    run = client.post(
        "workspaces/rest/runs",
        {
            "experiment": "plain",
            "snapshot_id": snap["id"],
            "run_config": {"script": "main.py", "arguments": ["--x", "1"]},
        },
    )
    deadline = time.monotonic() + 60
    while client.get(f"workspaces/rest/runs/{run['id']}")["status"] != "Completed":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    lines = [item["text"] for item in client.get(f"workspaces/rest/runs/{run['id']}/logs")["items"]]
    assert "args ['--x', '1']" in lines


def test_interactive_run_from_a_notebook_process(service):
    ws = service.workspace()
    run = Experiment(ws, "notebook").start_logging(display_name="exploration")
    for step in range(500):
        run.log("loss", 1.0 / (step + 1), step=step)
    run.log_list("sizes", [1, 2, 3])
    with run.child_run("inner") as child:
        child.log("x", 1)
    run.complete()
    assert run.get_status() == "Completed"
    metrics = run.get_metrics()
    assert len(metrics["loss"]) == 500 and metrics["sizes"] == [1, 2, 3]
    assert run.get_children()[0].get_metrics() == {"x": 1.0}


def test_missing_script_and_unknown_compute_are_refused_before_any_run(service, tmp_path):
    import pytest

    from jupyter_aml.errors import InvalidInput

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "real.py").write_text("print(1)\n")
    exp = Experiment(service.workspace(), "bad")
    with pytest.raises(InvalidInput, match=r"nope\.py"):
        exp.submit(ScriptRunConfig(tmp_path / "src", "nope.py"))
    with pytest.raises(InvalidInput, match="gpu-farm") as err:
        exp.submit(ScriptRunConfig(tmp_path / "src", "real.py", compute_target="gpu-farm"))
    assert "local" in err.value.hint
    assert service.client().get("workspaces/e2e/runs")["total"] == 0
