"""``run.get_secret`` on a compute cluster (an AmlCompute: the embedded Dask LocalCluster), as on a remote
compute in v1: the node's agent passes the run's own token, and the script reads its workspace's secret."""

from __future__ import annotations

import hashlib
import secrets
import time
from pathlib import Path

from jupyter_aml import Experiment, ScriptRunConfig
from tests.e2e.conftest import ServiceProcess, write_script

SCRIPT = """
import hashlib
from azureml.core import Run

run = Run.get_context()
print("SHA", hashlib.sha256(run.get_secret("warehouse-password").encode()).hexdigest(), flush=True)
"""


def test_a_cluster_run_reads_its_workspaces_secret(service: ServiceProcess, tmp_path: Path) -> None:
    client = service.client()
    client.post("workspaces", {"name": "kv-cluster"})
    client.post("workspaces/kv-cluster/computes", {"name": "cpu-cluster", "type": "AmlCompute", "max_nodes": 1,
                                                   "idle_seconds_before_scaledown": 60})
    deadline = time.monotonic() + 120
    while client.get("workspaces/kv-cluster/computes/cpu-cluster")["state"] != "Running":
        assert time.monotonic() < deadline, "the cluster never came up"
        time.sleep(0.3)
    ws = service.workspace("kv-cluster")
    value = "cl-" + secrets.token_hex(16)
    ws.get_default_keyvault().set_secret("warehouse-password", value)
    config = ScriptRunConfig(write_script(tmp_path / "src", SCRIPT), "script.py",
                             compute_target="cpu-cluster")
    run = Experiment(ws, "kv-cluster").submit(config)
    run.wait_for_completion(raise_on_error=True)
    texts = [line["text"] for line in run.get_logs()]
    assert "SHA " + hashlib.sha256(value.encode()).hexdigest() in texts, texts[-30:]
    reads = [a for a in ws.get_activity() if a["action"] == "secrets/getvalue"]
    assert [a["user"].endswith(f"(run {run.id})") for a in reads] == [True]
