"""The service restarts (kill -9) while runs run on a compute cluster and on a compute instance: each run is
reattached and ends with its true status; a node killed after the restart fails its run, with its logs, within
60 s, and nothing is left Running."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_aml import Experiment, ScriptRunConfig
from tests.e2e.conftest import ServiceProcess, wait_status, write_script
from tests.serving.docker_env import ensure_engine, python_base_image

SCRIPT = ("import sys, time\nprint('started', sys.argv[1], flush=True)\ntime.sleep(float(sys.argv[1]))\n"
          "print('done', flush=True)\n")


def _until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _create(service: ServiceProcess, body: dict[str, Any]) -> None:
    client = service.client()
    client.post("workspaces", {"name": "e2e"})
    client.post("workspaces/e2e/computes", body)
    _until(lambda: client.get(f"workspaces/e2e/computes/{body['name']}")["state"] == "Running", 120,
           f"{body['name']} to be Running")


def _logs(service: ServiceProcess, run_id: str) -> str:
    page = service.client().get(f"workspaces/e2e/runs/{run_id}/logs")
    return "\n".join(line["text"] for line in page["items"])


def _restart_and_check(service: ServiceProcess, tmp_path: Path, target: str, kill_node: Any) -> None:
    src = write_script(tmp_path / "src", SCRIPT)
    exp = Experiment(service.workspace(), "restart")
    survivor = exp.submit(ScriptRunConfig(src, "script.py", ["8"], compute_target=target))
    wait_status(survivor, {"Running"}, timeout=120)
    service.kill9()
    service.start()
    survivor.experiment.workspace._client = service.client()
    assert wait_status(survivor, {"Completed", "Failed"}, timeout=120) == "Completed"
    assert "done" in _logs(service, survivor.id)

    doomed = exp.submit(ScriptRunConfig(src, "script.py", ["300"], compute_target=target))
    wait_status(doomed, {"Running"}, timeout=120)
    _until(lambda: "started 300" in _logs(service, doomed.id), 60, "the script's first line")
    killed_at = time.monotonic()
    kill_node()
    assert wait_status(doomed, {"Failed", "Completed", "Canceled"}, timeout=60) == "Failed"
    assert time.monotonic() - killed_at < 60
    assert "started 300" in _logs(service, doomed.id)  # the logs it shipped are kept
    runs = service.client().get("workspaces/e2e/runs")["items"]
    assert not [r["id"] for r in runs if r["status"] in ("Running", "Queued", "Starting", "Preparing")]


def test_a_cluster_run_is_reattached_and_a_lost_node_fails_its_run(service: ServiceProcess, tmp_path: Path) -> None:
    _create(service, {"name": "cpu-cluster", "type": "AmlCompute", "max_nodes": 2,
                      "idle_seconds_before_scaledown": 30})

    def kill_worker() -> None:
        import json

        import distributed

        address = json.loads((service.root / "computes" / "e2e" / "cpu-cluster" / "host.json").read_text())["address"]
        dask_: Any = distributed  # untyped
        with dask_.Client(address, timeout=10) as client:
            pids = client.run(os.getpid)
        for pid in pids.values():  # the busy node and any idle one: a lost machine
            os.kill(pid, signal.SIGKILL)

    _restart_and_check(service, tmp_path, "cpu-cluster", kill_worker)


def test_an_instance_run_is_reattached_and_a_killed_container_fails_its_run(service: ServiceProcess,
                                                                           tmp_path: Path) -> None:
    image = python_base_image(ensure_engine())
    _create(service, {"name": "dev-box", "type": "ComputeInstance", "image": image})

    def kill_container() -> None:
        found = subprocess.run(["docker", "ps", "-q", "--filter", "label=aml.workspace=e2e", "--filter",
                                "label=aml.compute=dev-box"], check=True, capture_output=True, text=True).stdout.split()
        assert len(found) == 1, found
        subprocess.run(["docker", "kill", found[0]], check=True, capture_output=True)

    try:
        _restart_and_check(service, tmp_path, "dev-box", kill_container)
    finally:
        service.client().delete("workspaces/e2e/computes/dev-box", params={"force": "true"})


@pytest.fixture(autouse=True)
def _no_leftover_containers(service: ServiceProcess) -> Any:
    yield
    found = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=aml.root={service.root}"],
                           capture_output=True, text=True).stdout.split()
    if found:
        subprocess.run(["docker", "rm", "-f", *found], capture_output=True)
