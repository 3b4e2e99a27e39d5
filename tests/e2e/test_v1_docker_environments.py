"""v1's Docker settings on the real engine: ``env.docker.enabled = True`` set through a v1 RunConfiguration (and kept
by a registered environment and a .runconfig file) produces a Docker run; ``Environment.from_dockerfile`` builds its
base image; ``env.build(ws)`` builds the run image; what the target cannot honour fails with the reason."""

from __future__ import annotations

import socket
import uuid

import pytest

from jupyter_aml import Experiment
from jupyter_aml.agent.container import container_hostname, container_name
from jupyter_aml.errors import InvalidInput, NotFound
from jupyter_aml.sdk.config import ScriptRunConfig
from jupyter_aml.sdk.environment import Environment
from jupyter_aml.sdk.run_configuration import RunConfiguration
from tests.e2e.conftest import wait_status, write_script
from tests.serving.docker_env import ensure_engine, python_base_image

SCRIPT = "import os, socket\nprint('IN', socket.gethostname(), 'FROM', os.environ.get('FROM_DOCKERFILE'), flush=True)\n"


def texts(run) -> list[str]:
    return [line["text"] for line in run.get_logs()]


def finished(run, timeout: float = 300) -> str:
    return wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=timeout)


def test_docker_enabled_through_v1_objects_makes_a_docker_run(service, tmp_path):
    base = python_base_image(ensure_engine())
    ws = service.workspace()
    src = write_script(tmp_path / "src", SCRIPT)
    rc = RunConfiguration()
    rc.environment.docker.enabled = True  # the v1 way: on the run configuration's environment
    rc.environment.docker.base_image = base
    run = Experiment(ws, "v1-docker").submit(ScriptRunConfig(src, "script.py", run_config=rc))
    assert finished(run) == "Completed", "\n".join(texts(run)[-40:])
    assert any(t.startswith(f"IN {container_hostname(container_name(run.id))} ") for t in texts(run))

    # kept by the registry and by a .runconfig file
    env = Environment("boxed-v1")
    env.docker.enabled, env.docker.base_image = True, base
    registered = env.register(ws)
    assert Environment.get(ws, "boxed-v1").docker.enabled
    rc2 = RunConfiguration(script="script.py")
    rc2.environment = Environment.get(ws, "boxed-v1")
    rc2.save(src, "boxed")
    again = Experiment(ws, "v1-docker").submit(ScriptRunConfig(str(src), run_config=RunConfiguration.load(src,
                                                                                                          "boxed")))
    assert finished(again) == "Completed", "\n".join(texts(again)[-40:])
    assert any(t.startswith(f"IN {container_hostname(container_name(again.id))} ") for t in texts(again))
    details = registered.get_image_details(ws)
    assert details["dockerImage"]["name"] == base  # no pip packages: the base image as it is

    off = RunConfiguration.load(src, "boxed")
    off.environment.docker.enabled = False
    host = Experiment(ws, "v1-docker").submit(ScriptRunConfig(str(src), run_config=off))
    assert finished(host) == "Completed"
    assert any(t.startswith(f"IN {socket.gethostname()} ") for t in texts(host))


def test_from_dockerfile_builds_the_base_image(service, tmp_path):
    base = python_base_image(ensure_engine())
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nENV FROM_DOCKERFILE=yes-{uuid.uuid4().hex[:8]}\n")
    env = Environment.from_dockerfile("from-df", tmp_path / "Dockerfile")
    env.docker.enabled = True
    marker = env.docker.base_dockerfile.split("ENV FROM_DOCKERFILE=")[1].strip()  # type: ignore[union-attr]
    run = Experiment(service.workspace(), "v1-docker").submit(ScriptRunConfig(
        write_script(tmp_path / "src", SCRIPT), "script.py", environment=env))
    assert finished(run) == "Completed", "\n".join(texts(run)[-40:])
    lines = texts(run)
    assert any(t.startswith("building base image jupyter-aml/base:") for t in lines)
    assert any(t.endswith(f"FROM {marker}") for t in lines), "\n".join(lines[-20:])

    broken = Environment.from_dockerfile("broken", "FROM no-such/image:0\n")
    broken.docker.enabled = True
    bad = Experiment(service.workspace(), "v1-docker").submit(ScriptRunConfig(
        write_script(tmp_path / "src2", SCRIPT), "script.py", environment=broken))
    assert finished(bad) == "Failed"
    assert "base_dockerfile failed" in bad.get_details()["error"]["message"]


def test_a_python_version_the_image_does_not_have_is_refused(service, tmp_path):
    base = python_base_image(ensure_engine())
    env = Environment("old-python")
    env.docker.enabled, env.docker.base_image = True, base
    env.python.python_version = "3.8"
    run = Experiment(service.workspace(), "v1-docker").submit(ScriptRunConfig(
        write_script(tmp_path / "src", SCRIPT), "script.py", environment=env))
    assert finished(run) == "Failed"
    assert "needs Python 3.8, and the image" in run.get_details()["error"]["message"]


def test_a_docker_run_on_a_compute_instance_is_refused_before_it_is_stored(service, tmp_path):
    image = python_base_image(ensure_engine())
    ws = service.workspace()
    client = service.client()
    client.post("workspaces/e2e/computes", {"name": "no-engine-box", "type": "ComputeInstance", "image": image})
    try:
        env = Environment("boxed-on-instance")
        env.docker.enabled, env.docker.base_image = True, image
        exp = Experiment(ws, "v1-docker-instance")
        with pytest.raises(InvalidInput, match="compute instance 'no-engine-box' cannot run a Docker run"):
            exp.submit(ScriptRunConfig(write_script(tmp_path / "src", SCRIPT), "script.py", environment=env,
                                       compute_target="no-engine-box"))
        with pytest.raises(NotFound):  # nothing was stored, not even the experiment
            list(exp.get_runs())
    finally:
        client.delete("workspaces/e2e/computes/no-engine-box", params={"force": "true"})
