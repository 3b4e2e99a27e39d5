"""Runs whose script runs in Docker (v1's DockerConfiguration(use_docker=True)), on a real engine, against the real
service: the image built from the environment, live logs, outputs, metrics, cancel, a missing base image."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_aml import Environment, Experiment, ScriptRunConfig
from jupyter_aml.agent.container import container_hostname, container_name
from jupyter_aml.sdk.runconfig import DockerConfiguration
from tests.e2e.conftest import ServiceProcess, kill_processes_using, wait_status, write_script
from tests.serving.docker_env import ensure_engine, python_base_image

SCRIPT = """
import json, os, socket, time
import six
from azureml.core import Run

run = Run.get_context()
print("HOSTNAME", socket.gethostname(), flush=True)
print("MARKER", json.dumps(json.load(open("/opt/aml-image.json"))), flush=True)
print("HOST_FOLDER", os.path.exists(os.environ["HOST_ONLY"]), "SIX", six.__file__, "CWD", os.getcwd(), flush=True)
print("MODE", os.environ.get("MODE"), "UID", os.getuid(), flush=True)
print("PATH", os.environ["PATH"], flush=True)
os.makedirs("outputs", exist_ok=True)
with open("outputs/x.txt", "w") as fh:
    fh.write("written in the container")
run.log("acc", 0.75)
print("STREAMED before the end", flush=True)
deadline = time.time() + 90
while "release" not in run.get_tags() and time.time() < deadline:
    time.sleep(0.2)
print("released", "release" in run.get_tags())
"""


@pytest.fixture(scope="module")
def base_image() -> str:
    return python_base_image(ensure_engine())


@pytest.fixture
def service(tmp_path: Path, database_url: str | None) -> Iterator[ServiceProcess]:
    """The e2e service with the default runner (bubblewrap where it is installed, as in CI): the agent of a Docker
    run is shown the engine's socket, its script never is."""
    svc = ServiceProcess(tmp_path / "root", extra=["--AMLExtension.heartbeat_interval=1"], database_url=database_url)
    svc.root.mkdir()
    svc.start()
    yield svc
    svc.stop()
    kill_processes_using(svc.root)


def containers(label: str) -> list[str]:
    out = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={label}"], capture_output=True, text=True,
                         check=True)
    return out.stdout.split()


def docker_env(base: str, pip: list[str] | None = None) -> Environment:
    env = Environment("in-docker")
    env.docker.base_image = base
    if pip:
        env.add_pip_packages(pip)
    return env


def log_texts(run) -> list[str]:
    return [line["text"] for line in run.get_logs()]


def wait_log(run, needle: str, timeout: float = 300) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = log_texts(run)
        if any(needle in t for t in texts):
            return texts
        assert run.get_status() not in ("Completed", "Failed", "Canceled"), "\n".join(texts[-40:])
        time.sleep(0.3)
    raise AssertionError(f"{needle!r} never appeared:\n" + "\n".join(log_texts(run)[-40:]))


def test_script_runs_in_the_image_with_its_requirements(service, tmp_path, base_image):
    ws = service.workspace()
    fresh = ["six", f"# built by this test session {uuid.uuid4().hex}"]  # a new image: this run builds it
    env = docker_env(base_image, fresh)
    env.environment_variables["MODE"] = "boxed"
    env.environment_variables["HOST_ONLY"] = str(tmp_path / "src")  # on the host, not in the container
    src = write_script(tmp_path / "src", SCRIPT)
    config = ScriptRunConfig(src, "script.py", environment=env,
                             docker_runtime_config=DockerConfiguration(use_docker=True))
    run = Experiment(ws, "docker").submit(config)

    texts = wait_log(run, "STREAMED before the end")
    assert run.get_status() == "Running"  # the line arrived while the script still ran
    run.tag("release", "1")
    assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=120) == "Completed", \
        "\n".join(log_texts(run)[-40:])

    texts = log_texts(run)
    hostname = next(t.split()[1] for t in texts if t.startswith("HOSTNAME "))
    assert hostname != socket.gethostname() and hostname == container_hostname(container_name(run.id))
    marker = json.loads(next(t for t in texts if t.startswith("MARKER ")).split(" ", 1)[1])
    assert marker["base_image"] == base_image and marker["pip"] == fresh
    where = next(t for t in texts if t.startswith("HOST_FOLDER "))
    assert "HOST_FOLDER False" in where and "SIX /opt/venv/" in where and where.endswith(f"/{run.id}/wd")
    assert f"MODE boxed UID {os.getuid()}" in texts
    assert "PATH /opt/venv/bin:/usr/local/bin:/usr/bin:/bin" in texts  # the venv before the base image's PATH
    assert "released True" in texts
    assert "outputs/x.txt" in run.get_file_names()
    assert run.download_file("outputs/x.txt", tmp_path / "x.txt").read_text() == "written in the container"
    assert run.get_metrics()["acc"] == 0.75
    assert any(t.startswith("building image jupyter-aml/env:") for t in texts)

    again = Experiment(ws, "docker").submit(ScriptRunConfig(
        write_script(tmp_path / "src2", "import six\nprint('again', six.__version__)\n"), "script.py",
        environment=docker_env(base_image, fresh), docker_runtime_config=DockerConfiguration(use_docker=True)))
    assert wait_status(again, {"Completed", "Failed", "Canceled"}, timeout=120) == "Completed"
    texts = log_texts(again)
    tag = next(t.split()[2] for t in texts if t.startswith("reusing image jupyter-aml/env:"))
    assert "again 1." in texts[-20:] or any(t.startswith("again 1.") for t in texts)
    assert not containers(f"aml.journal={_journal(service, run)}")
    subprocess.run(["docker", "rmi", tag], capture_output=True, check=True)


def _journal(service, run) -> str:
    work = _work_root(service)
    return str(work / run.id / "journal" / "main.jsonl")


def _work_root(service) -> Path:
    found = sorted(Path(str(service.root) + "-runs").glob("**/work"))
    assert found, "no work root beside the service's root"
    return found[0]


def test_environment_docker_enabled_and_no_pip_uses_the_base_image_as_it_is(service, tmp_path, base_image):
    env = docker_env(base_image)
    env.docker.enabled = True  # v1's older switch: on the environment
    src = write_script(tmp_path / "src", "import socket\nprint('IN', socket.gethostname())\n")
    run = Experiment(service.workspace(), "docker").submit(ScriptRunConfig(src, "script.py", environment=env))
    assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=120) == "Completed"
    texts = log_texts(run)
    assert f"IN {container_hostname(container_name(run.id))}" in texts, "\n".join(texts)
    assert not any("building image" in t for t in texts)


def test_a_base_image_alone_still_runs_on_the_host(service, tmp_path, base_image):
    src = write_script(tmp_path / "src", "import socket\nprint('IN', socket.gethostname())\n")
    run = Experiment(service.workspace(), "docker").submit(
        ScriptRunConfig(src, "script.py", environment=docker_env("no-such/image:1")))
    assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=120) == "Completed"
    assert f"IN {socket.gethostname()}" in log_texts(run)


def test_cancel_stops_the_container(service, tmp_path, base_image):
    src = write_script(tmp_path / "src", "import time\nprint('sleeping', flush=True)\ntime.sleep(600)\n")
    run = Experiment(service.workspace(), "docker").submit(ScriptRunConfig(
        src, "script.py", environment=docker_env(base_image),
        docker_runtime_config=DockerConfiguration(use_docker=True)))
    wait_log(run, "sleeping", timeout=120)
    journal = _journal(service, run)
    assert len(containers(f"aml.journal={journal}")) == 1
    started = time.monotonic()
    run.cancel()
    assert wait_status(run, {"Canceled", "Failed", "Completed"}, timeout=60) == "Canceled"
    assert time.monotonic() - started < 30
    deadline = time.monotonic() + 20
    while containers(f"aml.journal={journal}") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not containers(f"aml.journal={journal}")


def test_a_killed_agent_leaves_no_container(service, tmp_path, base_image):
    src = write_script(tmp_path / "src", "import time\nprint('sleeping', flush=True)\ntime.sleep(600)\n")
    run = Experiment(service.workspace(), "docker").submit(ScriptRunConfig(
        src, "script.py", environment=docker_env(base_image),
        docker_runtime_config=DockerConfiguration(use_docker=True)))
    wait_log(run, "sleeping", timeout=120)
    journal = _journal(service, run)
    assert len(containers(f"aml.journal={journal}")) == 1
    agent = json.loads((Path(journal).parent.parent / "agent.json").read_text())
    os.killpg(int(agent["pgid"]), signal.SIGKILL)  # no SIGTERM the agent could act on
    deadline = time.monotonic() + 30
    while containers(f"aml.journal={journal}") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not containers(f"aml.journal={journal}")


def test_a_missing_base_image_fails_the_run_with_the_fix(service, tmp_path):
    ensure_engine()
    src = write_script(tmp_path / "src", "print('never')\n")
    run = Experiment(service.workspace(), "docker").submit(ScriptRunConfig(
        src, "script.py", environment=docker_env("jupyter-aml-test/absent:0", ["six"]),
        docker_runtime_config=DockerConfiguration(use_docker=True)))
    assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=120) == "Failed"
    message = run.get_details()["error"]["message"]
    assert "'jupyter-aml-test/absent:0' is not in the Docker engine" in message
    assert "nothing is pulled" in message and "docker load" in message
    assert "never" not in log_texts(run)


def test_a_cluster_node_runs_the_script_in_docker_too(service, tmp_path, base_image):
    client = service.client()
    client.post("workspaces", {"name": "e2e"})
    client.post("workspaces/e2e/computes", {"name": "cpu-cluster", "type": "AmlCompute", "max_nodes": 1})
    deadline = time.monotonic() + 120
    while client.get("workspaces/e2e/computes/cpu-cluster")["state"] != "Running":
        assert time.monotonic() < deadline, "the cluster never became Running"
        time.sleep(0.3)
    src = write_script(tmp_path / "src", "import os, socket\nfrom azureml.core import Run\n"
                                         "print('NODE', socket.gethostname())\nRun.get_context().log('n', 1)\n"
                                         "for p in ('/sys/fs/cgroup/memory.max', "
                                         "'/sys/fs/cgroup/memory/memory.limit_in_bytes'):\n"
                                         "    if os.path.exists(p): print('LIMIT', open(p).read().strip())\n"
                                         "os.makedirs('outputs', exist_ok=True)\n"
                                         "open('outputs/node.txt', 'w').write('ok')\n")
    run = Experiment(service.workspace(), "docker").submit(ScriptRunConfig(
        src, "script.py", compute_target="cpu-cluster", environment=docker_env(base_image),
        docker_runtime_config=DockerConfiguration(use_docker=True)))
    assert wait_status(run, {"Completed", "Failed", "Canceled"}, timeout=180) == "Completed", \
        "\n".join(log_texts(run)[-40:])
    assert f"NODE {container_hostname(container_name(run.id))}" in log_texts(run)
    assert "outputs/node.txt" in run.get_file_names() and run.get_metrics()["n"] == 1
    assert f"LIMIT {7 * 2**30}" in log_texts(run)  # the node's size (STANDARD_D2_V2: 7 GB) holds in its container
