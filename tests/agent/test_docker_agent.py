"""The real agent with Docker on (a real engine, the local test base image), against the fake service."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jupyter_aml.compute.local import agent_process_env
from jupyter_aml.envbuild.container import docker_cli
from jupyter_aml.envbuild.venv import EnvBuildError
from tests.agent.fakeservice import FakeService
from tests.agent.helpers import make_job, start_agent
from tests.serving.docker_env import ensure_engine, python_base_image


@pytest.fixture(scope="module")
def base_image() -> str:
    return python_base_image(ensure_engine())


def _final(service: FakeService) -> dict:
    return service.state.statuses[-1][1]


def test_no_engine_fails_the_run_naming_the_fix(service: FakeService, tmp_path: Path) -> None:
    service.state.add_run("d1", files={"s.py": b"print('never')\n"}, script="s.py",
                          environment={"docker_enabled": True, "docker_base_image": "any:1"})
    agent = start_agent(service, "d1", tmp_path, extra_env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    assert agent.wait() == 0, agent.log
    final = _final(service)
    assert final["status"] == "Failed"
    assert "no Docker engine answers" in final["error"]["message"]
    assert "dockerd" in final["error"]["message"] and "DOCKER_HOST" in final["error"]["message"]
    assert "never" not in service.state.log_text("stdout")


def test_no_docker_cli_names_the_fix() -> None:
    with pytest.raises(EnvBuildError, match=r"docker CLI is not on the agent.s PATH.*apt-get install docker\.io"):
        docker_cli({"PATH": "/nonexistent"})


def test_exit_codes_and_signals_in_the_container(service: FakeService, tmp_path: Path, base_image: str) -> None:
    spec = {"docker_enabled": True, "docker_base_image": base_image}
    service.state.add_run("d2", files={"s.py": b"import sys\nprint('bad', file=sys.stderr)\nsys.exit(3)\n"},
                          script="s.py", environment=spec)
    agent = start_agent(service, "d2", tmp_path)
    assert agent.wait() == 0, agent.log
    final = _final(service)
    assert (final["status"], final["exit_code"], final["error"]["message"]) == ("Failed", 3,
                                                                             "script exited with code 3")
    assert "bad" in final["error"]["details"]

    service.state.add_run("d3", files={"s.py": b"import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"},
                          script="s.py", environment=spec)
    agent = start_agent(service, "d3", tmp_path)
    assert agent.wait() == 0, agent.log
    final = _final(service)
    assert final["status"] == "Failed" and final["exit_code"] == 137
    assert final["error"]["message"] == "script was killed by signal SIGKILL in its container (out of memory?)"


def test_the_service_s_engine_settings_reach_the_agent(service: FakeService, tmp_path: Path) -> None:
    source = {"PATH": "/usr/bin", "DOCKER_HOST": "unix:///run/user/7/docker.sock", "AML_DOCKER_BASE_IMAGE": "b:1",
              "AML_DOCKER_CA_FILES": "/etc/corp.pem", "JUPYTER_TOKEN": "secret"}
    env = agent_process_env(make_job(service, "d4", tmp_path), source=source)
    assert env["DOCKER_HOST"] == "unix:///run/user/7/docker.sock" and env["AML_DOCKER_BASE_IMAGE"] == "b:1"
    assert env["AML_DOCKER_CA_FILES"] == "/etc/corp.pem" and "JUPYTER_TOKEN" not in env


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to hold the run to one")
def test_the_container_keeps_the_cpus_the_agent_is_held_to(service: FakeService, tmp_path: Path,
                                                          base_image: str) -> None:
    service.state.add_run("d5", files={"s.py": b"import os\nprint('CPUS', sorted(os.sched_getaffinity(0)))\n"},
                          script="s.py", environment={"docker_enabled": True, "docker_base_image": base_image})
    before = os.sched_getaffinity(0)
    one = min(before)
    os.sched_setaffinity(0, {one})  # the agent inherits it, as from a cluster node's vCPUs
    try:
        agent = start_agent(service, "d5", tmp_path)
    finally:
        os.sched_setaffinity(0, before)
    assert agent.wait() == 0, agent.log
    assert f"CPUS [{one}]" in service.state.log_text("stdout")
