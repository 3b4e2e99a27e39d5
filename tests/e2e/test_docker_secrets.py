"""``run.get_secret`` from a script running in Docker (v1's DockerConfiguration(use_docker=True)) on a real
engine: the container reaches the service with the run's own token and reads its workspace's secrets, and the
value is in no file the service, the agent or the build wrote."""

from __future__ import annotations

import hashlib
import secrets

from jupyter_aml import Experiment, ScriptRunConfig
from jupyter_aml.sdk.runconfig import DockerConfiguration
from tests.e2e.conftest import write_script
from tests.e2e.test_docker_runs import base_image, docker_env, log_texts, service  # noqa: F401 - fixtures

SCRIPT = """
import hashlib, socket
from azureml.core import Run

run = Run.get_context()
value = run.get_secret("registry-token")
print("IN", socket.gethostname(), "SHA", hashlib.sha256(value.encode()).hexdigest(), flush=True)
print("MISSING", run.get_secrets(["registry-token", "absent"])["absent"], flush=True)
"""


def test_a_docker_run_reads_its_workspaces_secret(service, tmp_path, base_image):  # noqa: F811
    ws = service.workspace("kv-docker")
    value = "dk-" + secrets.token_hex(16)
    ws.get_default_keyvault().set_secret("registry-token", value)
    config = ScriptRunConfig(write_script(tmp_path / "src", SCRIPT), "script.py", environment=docker_env(base_image),
                             docker_runtime_config=DockerConfiguration(use_docker=True))
    run = Experiment(ws, "kv-docker").submit(config)
    run.wait_for_completion(raise_on_error=True)
    texts = log_texts(run)
    line = next(t for t in texts if t.startswith("IN "))
    assert line.endswith("SHA " + hashlib.sha256(value.encode()).hexdigest()), texts[-30:]
    assert "MISSING None" in texts
    reads = [a for a in ws.get_activity() if a["action"] == "secrets/getvalue"]
    assert len(reads) == 2 and all(a["user"].endswith(f"(run {run.id})") for a in reads)
    needle = value.encode()
    for top in (service.root, service.root.parent / f"{service.root.name}-runs"):
        for path in top.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert needle not in path.read_bytes(), f"the secret's value in plain text in {path}"
