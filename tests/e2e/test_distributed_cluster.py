"""Distributed jobs on an AmlCompute cluster (the embedded Dask LocalCluster): gang-scheduled over its nodes,
all or nothing; a failing rank or a cancel stops every process on every node; two gangs never deadlock."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from jupyter_aml import Experiment, ScriptRunConfig
from jupyter_aml.sdk.distributed import MpiConfiguration, PyTorchConfiguration
from tests.e2e.conftest import ServiceProcess, wait_status, write_script
from tests.e2e.test_distributed_local import ALL_REDUCE, ECHO_VARS


def _until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _cluster(service: ServiceProcess, name: str, max_nodes: int) -> None:
    client = service.client()
    client.post("workspaces", {"name": "e2e"})
    client.post("workspaces/e2e/computes", {"name": name, "type": "AmlCompute", "max_nodes": max_nodes,
                                            "idle_seconds_before_scaledown": 60})
    _until(lambda: client.get(f"workspaces/e2e/computes/{name}")["state"] == "Running", 120, f"{name} Running")


def _logs(service: ServiceProcess, run_id: str) -> list[dict[str, Any]]:
    return service.client().get(f"workspaces/e2e/runs/{run_id}/logs", params={"limit": 5000})["items"]


def _run_pids(run_id: str) -> list[int]:
    """Every live process of the run on this machine (its agents, its ranks), by the variables they carry."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"AML_RUN_ID={run_id}".encode() in environ and state not in ("Z", "X"):
            found.append(int(entry))
    return found


def test_all_reduce_over_two_nodes_with_every_rank_in_the_one_run(service: ServiceProcess, tmp_path: Path) -> None:
    _cluster(service, "gpu-cluster", 2)
    ws = service.workspace()
    folder = write_script(tmp_path / "ddp", ALL_REDUCE + ECHO_VARS, "train.py")
    config = ScriptRunConfig(folder, "train.py", compute_target="gpu-cluster",
                             distributed_job_config=PyTorchConfiguration("Gloo", process_count=2, node_count=2))
    run = Experiment(ws, "ddp-cluster").submit(config)
    details = run.wait_for_completion(show_output=False)
    assert details["status"] == "Completed", details
    metrics = run.get_metrics()
    assert metrics["allreduce"] == [3.0, 3.0]
    seen = sorted((json.loads(v) for v in metrics["vars"]), key=lambda v: int(v["RANK"]))
    assert [(v["RANK"], v["NODE_RANK"], v["LOCAL_RANK"]) for v in seen] == [("0", "0", "0"), ("1", "1", "0")]
    assert seen[0]["MASTER_ADDR"] == seen[1]["MASTER_ADDR"] and seen[0]["MASTER_PORT"] == seen[1]["MASTER_PORT"]
    assert seen[1]["AZUREML_NODE_COUNT"] == "2" and seen[1]["AZ_BATCHAI_TASK_INDEX"] == "1"
    lines = _logs(service, run.id)
    for rank in (0, 1):
        assert f"rank {rank} of 2: all-reduce gave 3.0" in [
            line["text"] for line in lines if line["stream"] == f"70_driver_log_{rank}"]
    names = run.get_file_names()
    assert {"azureml-logs/70_driver_log_0.txt", "azureml-logs/70_driver_log_1.txt"} <= set(names)

    # MPI over both nodes, two processes each: ranks laid out by node
    mpi = ScriptRunConfig(folder := write_script(tmp_path / "mpi", ECHO_VARS, "train.py"), "train.py",
                          compute_target="gpu-cluster",
                          distributed_job_config=MpiConfiguration(process_count_per_node=2, node_count=2))
    run = Experiment(ws, "mpi-cluster").submit(mpi)
    assert run.wait_for_completion(show_output=False)["status"] == "Completed"
    seen = sorted((json.loads(v) for v in run.get_metrics()["vars"]), key=lambda v: int(v["OMPI_COMM_WORLD_RANK"]))
    assert [(v["OMPI_COMM_WORLD_RANK"], v["OMPI_COMM_WORLD_NODE_RANK"], v["OMPI_COMM_WORLD_LOCAL_RANK"])
            for v in seen] == [("0", "0", "0"), ("1", "0", "1"), ("2", "1", "0"), ("3", "1", "1")]
    assert {v["OMPI_COMM_WORLD_SIZE"] for v in seen} == {"4"} and {v["OMPI_COMM_WORLD_LOCAL_SIZE"] for v in seen} \
        == {"2"}


FAIL_ON_NODE_1 = """
import os, sys, time
print("started", os.environ["RANK"], flush=True)
if os.environ["NODE_RANK"] == "1":
    time.sleep(2)
    print("node 1 gives up", file=sys.stderr, flush=True)
    sys.exit(7)
time.sleep(300)
"""

SLEEPER = """
import os, time
print("started", os.environ["RANK"], flush=True)
time.sleep(300)
"""


def test_a_failing_rank_and_a_cancel_stop_every_node(service: ServiceProcess, tmp_path: Path) -> None:
    _cluster(service, "cpu-cluster", 2)
    ws = service.workspace()
    dist = PyTorchConfiguration("Gloo", process_count=2, node_count=2)
    failing = Experiment(ws, "fail").submit(ScriptRunConfig(write_script(tmp_path / "f", FAIL_ON_NODE_1), "script.py",
                                                            compute_target="cpu-cluster", distributed_job_config=dist))
    assert wait_status(failing, {"Completed", "Failed", "Canceled"}, timeout=120) == "Failed"
    error = failing.get_details()["error"]
    assert "process rank 1 (node 1) exited with code 7" in error["message"], error
    assert "node 1 gives up" in error.get("details", "")
    _until(lambda: not _run_pids(failing.id), 30, "every process of the failed run to be gone")

    sleeper = ScriptRunConfig(write_script(tmp_path / "c", SLEEPER), "script.py", compute_target="cpu-cluster",
                              distributed_job_config=dist)
    canceled = Experiment(ws, "cancel").submit(sleeper)
    _until(lambda: {line["text"] for line in _logs(service, canceled.id)} >= {"started 0", "started 1"}, 120,
           "both ranks to start")
    assert len(_run_pids(canceled.id)) >= 4  # two agents and two ranks, on two nodes

    def busy_nodes() -> int:  # the studio's node chips: the run on both nodes
        nodes = service.client().get("workspaces/e2e/computes/cpu-cluster")["nodes"]
        return sum(canceled.id in node["run_ids"] and node["state"] == "busy" for node in nodes)

    assert _until(lambda: busy_nodes() == 2, 20, "the run to show on both nodes")
    canceled.cancel()
    assert wait_status(canceled, {"Completed", "Failed", "Canceled"}, timeout=60) == "Canceled"
    _until(lambda: not _run_pids(canceled.id), 40, "every process on every node to be gone")


GANG = """
import os, time
from azureml.core import Run
run = Run.get_context()
run.log("start", time.time())
time.sleep(3)
run.log("end", time.time())
"""


def test_two_gangs_that_each_need_more_than_half_the_cluster_run_one_after_the_other(
        service: ServiceProcess, tmp_path: Path) -> None:
    _cluster(service, "three", 3)
    ws = service.workspace()
    folder = write_script(tmp_path / "gang", GANG)
    dist = PyTorchConfiguration("Gloo", process_count=2, node_count=2)
    first, second = (Experiment(ws, "gangs").submit(ScriptRunConfig(folder, "script.py", compute_target="three",
                                                                    distributed_job_config=dist)) for _ in range(2))

    def second_waits() -> str | None:  # while the first holds 2 of the 3 nodes, the second holds none
        queue = service.client().get("workspaces/e2e/computes/three")["queue"]
        return next((item["reason"] for item in queue if item["run_id"] == second.id), None)

    assert "waiting for 2 nodes of 'three' at once (a distributed run): 2 of 3 busy" in _until(
        second_waits, 20, "the second gang to wait")
    for run in (first, second):
        assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=180) == "Completed", run.get_details()
    a, b = first.get_metrics(), second.get_metrics()
    assert len(a["start"]) == len(b["start"]) == 2  # both ranks of each gang ran
    # all or nothing, one gang at a time: every rank of one gang ended before any rank of the other started
    assert max(a["end"]) <= min(b["start"]) or max(b["end"]) <= min(a["start"]), (a, b)
