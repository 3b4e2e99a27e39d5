"""Distributed jobs on local compute: every process on this machine, each with its rank (docs/distributed.md).

A real ``torch.distributed`` gloo all-reduce on the CPU, MPI's and TensorFlow's variables, one log per process,
and a failing rank that fails the run and stops the others.
"""

from __future__ import annotations

import json
import time

from jupyter_aml import Experiment, ScriptRunConfig
from jupyter_aml.sdk.distributed import MpiConfiguration, PyTorchConfiguration, TensorflowConfiguration
from tests.e2e.conftest import wait_status, write_script

ALL_REDUCE = """
import os
import torch
import torch.distributed as dist
from azureml.core import Run

dist.init_process_group("gloo", init_method="env://")
rank, world = dist.get_rank(), dist.get_world_size()
assert rank == int(os.environ["RANK"]) and world == int(os.environ["WORLD_SIZE"])
t = torch.tensor([float(rank + 1)])
dist.all_reduce(t, op=dist.ReduceOp.SUM)
run = Run.get_context()
run.log("allreduce", float(t.item()))
run.log(f"rank_{rank}_local_rank", int(os.environ["LOCAL_RANK"]))
print(f"rank {rank} of {world}: all-reduce gave {t.item()}", flush=True)
dist.destroy_process_group()
"""


def _logs(service, run_id: str) -> list[dict]:
    return service.client().get(f"workspaces/e2e/runs/{run_id}/logs", params={"limit": 5000})["items"]


def test_pytorch_all_reduce_on_local_compute(service, tmp_path):
    ws = service.workspace()
    folder = write_script(tmp_path / "ddp", ALL_REDUCE, "train.py")
    config = ScriptRunConfig(source_directory=folder, script="train.py",
                             distributed_job_config=PyTorchConfiguration(communication_backend="Gloo",
                                                                         process_count=2))
    run = Experiment(ws, "ddp").submit(config)
    details = run.wait_for_completion(show_output=False)
    assert details["status"] == "Completed", details
    metrics = run.get_metrics()
    assert metrics["allreduce"] == [3.0, 3.0]  # both ranks logged into the one run: 1 + 2
    assert metrics["rank_0_local_rank"] == 0 and metrics["rank_1_local_rank"] == 1
    lines = _logs(service, run.id)
    for rank in (0, 1):
        mine = [line["text"] for line in lines if line["stream"] == f"70_driver_log_{rank}"]
        assert f"rank {rank} of 2: all-reduce gave 3.0" in mine
    names = run.get_file_names()
    assert "azureml-logs/70_driver_log_0.txt" in names and "azureml-logs/70_driver_log_1.txt" in names
    text = run.download_file("azureml-logs/70_driver_log_1.txt", tmp_path / "log1.txt").read_text()
    assert "rank 1 of 2: all-reduce gave 3.0" in text and "rank 0 of 2" not in text
    log_files = run.get_details()["logFiles"]  # v1's names of the run's log streams (core/run_logs.py)
    assert "azureml-logs/70_driver_log_0.txt" in log_files and "azureml-logs/70_driver_log_1.txt" in log_files
    all_logs = run.get_all_logs(tmp_path / "all-logs")
    assert any(p.endswith("70_driver_log_1.txt") for p in all_logs)


FAILING = """
import os, sys, time
from azureml.core import Run
rank = int(os.environ["RANK"])
Run.get_context().log("started", rank)
if rank == 1:
    time.sleep(1)
    print("rank 1 gives up", file=sys.stderr, flush=True)
    sys.exit(3)
open(f"outputs/alive-{rank}", "w").close() if os.path.isdir("outputs") else None
time.sleep(120)
print("rank 0 should have been stopped", flush=True)
"""


def test_a_failing_rank_fails_the_run_and_stops_the_others(service, tmp_path):
    ws = service.workspace()
    folder = write_script(tmp_path / "fail", FAILING, "train.py")
    config = ScriptRunConfig(source_directory=folder, script="train.py",
                             distributed_job_config=PyTorchConfiguration(process_count=3))
    started = time.monotonic()
    run = Experiment(ws, "ddp-fail").submit(config)
    assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=90) == "Failed"
    assert time.monotonic() - started < 60  # the others did not sleep their 120 s
    error = run.get_details()["error"]
    assert "process rank 1" in error["message"] and "exited with code 3" in error["message"], error
    assert "rank 1 gives up" in error.get("details", "")
    texts = [line["text"] for line in _logs(service, run.id)]
    assert "rank 0 should have been stopped" not in texts
    assert sorted(run.get_metrics()["started"]) == [0, 1, 2]


ECHO_VARS = """
import json, os
from azureml.core import Run
names = [n for n in os.environ if n.startswith(("OMPI_COMM_WORLD_", "PMI_")) or n in (
    "RANK", "WORLD_SIZE", "LOCAL_RANK", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT", "TF_CONFIG",
    "AZ_BATCHAI_TASK_INDEX", "AZUREML_NODE_COUNT")]
Run.get_context().log("vars", json.dumps({n: os.environ[n] for n in sorted(names)}))
"""


def _vars_of(run) -> list[dict]:
    return sorted((json.loads(v) for v in run.get_metrics()["vars"]),
                  key=lambda v: int(v.get("RANK", v.get("OMPI_COMM_WORLD_RANK", 0))))


def test_mpi_variables(service, tmp_path):
    ws = service.workspace()
    folder = write_script(tmp_path / "mpi", ECHO_VARS, "train.py")
    config = ScriptRunConfig(source_directory=folder, script="train.py",
                             distributed_job_config=MpiConfiguration(process_count_per_node=3))
    run = Experiment(ws, "mpi").submit(config)
    assert run.wait_for_completion(show_output=False)["status"] == "Completed"
    seen = _vars_of(run)
    assert [v["OMPI_COMM_WORLD_RANK"] for v in seen] == ["0", "1", "2"]
    for rank, v in enumerate(seen):
        assert v["OMPI_COMM_WORLD_SIZE"] == "3" and v["OMPI_COMM_WORLD_LOCAL_RANK"] == str(rank)
        assert v["OMPI_COMM_WORLD_LOCAL_SIZE"] == "3" and v["OMPI_COMM_WORLD_NODE_RANK"] == "0"
        assert v["PMI_RANK"] == str(rank) and v["RANK"] == str(rank) and v["NODE_RANK"] == "0"
        assert v["MASTER_ADDR"] == "127.0.0.1" and int(v["MASTER_PORT"]) > 0


def test_tf_config(service, tmp_path):
    ws = service.workspace()
    folder = write_script(tmp_path / "tf", ECHO_VARS, "train.py")
    config = ScriptRunConfig(source_directory=folder, script="train.py",
                             distributed_job_config=TensorflowConfiguration(worker_count=2, parameter_server_count=1))
    run = Experiment(ws, "tf").submit(config)
    assert run.wait_for_completion(show_output=False)["status"] == "Completed"
    configs = [json.loads(v["TF_CONFIG"]) for v in _vars_of(run)]
    cluster = configs[0]["cluster"]
    assert len(cluster["worker"]) == 2 and len(cluster["ps"]) == 1
    assert len(set(cluster["worker"] + cluster["ps"])) == 3  # a port of its own for every task
    assert all(c["cluster"] == cluster for c in configs)
    assert [c["task"] for c in configs] == [{"type": "worker", "index": 0}, {"type": "worker", "index": 1},
                                            {"type": "ps", "index": 0}]


def test_more_nodes_than_the_target_gives_one_run_is_refused_before_anything_is_stored(service, tmp_path):
    ws = service.workspace()
    folder = write_script(tmp_path / "two", "print('never')\n", "train.py")
    config = ScriptRunConfig(source_directory=folder, script="train.py",
                             distributed_job_config=PyTorchConfiguration(process_count=2, node_count=2))
    exp = Experiment(ws, "too-many")
    try:
        exp.submit(config)
    except Exception as exc:  # InvalidInput through REST
        assert "needs 2 nodes" in str(exc) and "'local' (local) runs a run on at most 1 node(s)" in str(exc)
    else:
        raise AssertionError("a 2-node run on local compute was accepted")
    assert service.client().get("workspaces/e2e/runs")["items"] == []


RAISING = """
import os
rank = int(os.environ["RANK"])
if rank == 1:
    raise ValueError(f"shard {rank} is empty")
import time
time.sleep(120)
"""


def test_a_rank_that_raises_names_its_exception_and_frame(service, tmp_path):
    folder = write_script(tmp_path / "raise", RAISING, "train.py")
    run = Experiment(service.workspace(), "ddp-raise").submit(ScriptRunConfig(
        source_directory=folder, script="train.py", distributed_job_config=PyTorchConfiguration(process_count=2)))
    assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=90) == "Failed"
    error = run.get_details()["error"]
    assert error["message"] == "process rank 1 (node 0): ValueError: shard 1 is empty at train.py:5 in <module>"
    assert error["exception_type"] == "ValueError"
    assert error["frame"] == {"file": "train.py", "line": 5, "function": "<module>"}
