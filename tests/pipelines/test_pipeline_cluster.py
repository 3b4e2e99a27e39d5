"""A pipeline over two computes: a step on the local target and a step on an AmlCompute cluster (the embedded
Dask LocalCluster) in one pipeline, with data between them; allow_reuse=False re-runs its step only."""

from __future__ import annotations

import time
from pathlib import Path

from azureml.pipeline.core import Pipeline, PipelineData
from azureml.pipeline.steps import PythonScriptStep

from tests.e2e.conftest import write_script

PREP = """
import os, sys
os.makedirs(sys.argv[1], exist_ok=True)
open(os.path.join(sys.argv[1], "numbers.txt"), "w").write("1 2 3 4")
"""
TRAIN = """
import os, socket, sys
numbers = [int(x) for x in open(os.path.join(sys.argv[1], "numbers.txt")).read().split()]
print("total", sum(numbers), "on", os.environ.get("AZUREML_COMPUTE_NAME", os.environ.get("AML_COMPUTE", "?")))
"""


def _cluster_running(service, ws_name: str, name: str) -> None:
    client = service.client()
    client.post(f"workspaces/{ws_name}/computes", {"name": name, "type": "AmlCompute", "max_nodes": 1,
                                                   "idle_seconds_before_scaledown": 60})
    deadline = time.monotonic() + 120
    while client.get(f"workspaces/{ws_name}/computes/{name}")["state"] != "Running":
        assert time.monotonic() < deadline, "the cluster did not start"
        time.sleep(0.3)


def test_a_local_step_feeds_a_cluster_step(service, tmp_path: Path) -> None:
    ws = service.workspace("mixed")
    _cluster_running(service, "mixed", "cpu-cluster")
    src = tmp_path / "src"
    write_script(src, PREP, "prep.py")
    write_script(src, TRAIN, "train.py")
    numbers = PipelineData("numbers")
    prep = PythonScriptStep("prep.py", name="prep", arguments=[numbers], outputs=[numbers],
                            source_directory=str(src), compute_target="local")
    train = PythonScriptStep("train.py", name="train", arguments=[numbers], inputs=[numbers],
                             source_directory=str(src), compute_target="cpu-cluster", allow_reuse=False)
    pipeline = Pipeline(ws, [prep, train])
    run = pipeline.submit("mixed")
    assert run.wait_for_completion(show_output=False, timeout_seconds=180) == "Completed"
    steps = {s.name: s for s in run.get_steps()}
    targets = {name: ws._api.get_run(ws.name, s.id)["compute_target"] for name, s in steps.items()}
    assert targets == {"prep": "local", "train": "cpu-cluster"}
    assert any("total 10" in line["text"] for line in steps["train"].get_logs())

    again = pipeline.submit("mixed")
    assert again.wait_for_completion(show_output=False, timeout_seconds=180) == "Completed"
    reused = {s.name: s.get_properties()["azureml.isreused"] for s in again.get_steps()}
    assert reused == {"prep": "true", "train": "false"}  # allow_reuse=False: train runs again, prep does not
