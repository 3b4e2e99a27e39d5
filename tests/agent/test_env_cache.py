"""Environment preparation: cached venvs per spec hash, built once, reused, isolated (needs PyPI)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_aml.envbuild.venv import parse_spec, spec_hash
from tests.agent.fakeservice import FakeService
from tests.agent.helpers import start_agent

pytestmark = pytest.mark.slow

PROBE = b"""
import json, sys, six, jupyter_aml.runtime.env
try:
    import pytest
    leaked = True
except ImportError:
    leaked = False
print("probe", json.dumps({"six": six.__version__, "prefix": sys.prefix, "leaked": leaked}))
"""


def _probe(service: FakeService) -> dict[str, Any]:
    line = next(t for t in service.state.log_text("stdout") if t.startswith("probe "))
    found: dict[str, Any] = json.loads(line[6:])
    return found


def test_spec_hash_is_canonical() -> None:
    assert spec_hash(("six",), sys.executable) == spec_hash(["six"], sys.executable)
    assert spec_hash(("six",), sys.executable) != spec_hash(("six==1.17.0",), sys.executable)
    assert parse_spec({}).user_managed and parse_spec({"python": {"pip": ["six"]}}).user_managed is False
    assert parse_spec({"python": {"pip": ["six"], "user_managed": True}}).user_managed


def test_venv_built_once_and_reused(service: FakeService, tmp_path: Path) -> None:
    spec = {"name": "tiny", "python": {"user_managed": False, "pip": ["six"]}}
    for run_id in ("e1", "e2"):
        service.state.add_run(run_id, files={"probe.py": PROBE}, script="probe.py", environment=spec)
    first = start_agent(service, "e1", tmp_path)
    assert first.wait(300) == 0, first.log
    assert service.state.status_sequence("e1")[-1] == "Completed", service.state.runs["e1"].error
    agent_lines = service.state.log_text("agent")
    assert any(t.startswith("building environment") for t in agent_lines)
    probe = _probe(service)
    assert probe["six"] and probe["leaked"] is False
    envs = [p for p in (tmp_path / "envs").iterdir() if p.is_dir()]
    assert len(envs) == 1 and probe["prefix"] == str(envs[0])
    assert not list((tmp_path / "envs").glob(".tmp-*"))
    assert (envs[0] / "aml-link" / "jupyter_aml").resolve() == Path(__file__).resolve().parents[2] / "jupyter_aml"

    service.state.logs.clear()
    second = start_agent(service, "e2", tmp_path)
    assert second.wait(120) == 0, second.log
    agent_lines = service.state.log_text("agent")
    assert not any(t.startswith("building environment") for t in agent_lines), agent_lines
    assert any(t.startswith("reusing cached environment") for t in agent_lines)
    assert _probe(service)["prefix"] == str(envs[0])


def test_concurrent_runs_with_one_spec_build_once(service: FakeService, tmp_path: Path) -> None:
    spec = {"python": {"pip": ["six==1.17.0"]}}
    agents = []
    for run_id in ("c1", "c2"):
        service.state.add_run(run_id, files={"probe.py": PROBE}, script="probe.py", environment=spec)
        agents.append(start_agent(service, run_id, tmp_path))
    for agent in agents:
        assert agent.wait(300) == 0, agent.log
    for run_id in ("c1", "c2"):
        assert service.state.status_sequence(run_id)[-1] == "Completed"
    builds = [t for t in service.state.log_text("agent") if t.startswith("building environment")]
    assert len(builds) == 1
    assert len([p for p in (tmp_path / "envs").iterdir() if p.is_dir()]) == 1


def test_pip_builder_relocates_the_venv(service: FakeService, tmp_path: Path) -> None:
    spec = {"python": {"pip": ["six"]}}
    service.state.add_run("p1", files={"probe.py": PROBE}, script="probe.py", environment=spec)
    agent = start_agent(service, "p1", tmp_path, extra_env={"AML_ENV_BUILDER": "pip"})
    assert agent.wait(300) == 0, agent.log
    assert service.state.status_sequence("p1")[-1] == "Completed", service.state.runs["p1"].error
    env = next(p for p in (tmp_path / "envs").iterdir() if p.is_dir())
    head = "\n".join((env / "bin" / "pip").read_text().splitlines()[:3])  # shebang or sh trampoline
    assert f"{env}/bin/python" in head and ".tmp-" not in head
    assert ".tmp-" not in (env / "bin" / "activate").read_text()
    assert _probe(service)["leaked"] is False


def test_build_failure_reports_the_pip_error(service: FakeService, tmp_path: Path) -> None:
    spec = {"python": {"pip": ["jupyter-aml-no-such-package-xyz==0.0.1"]}}
    service.state.add_run("f1", files={"probe.py": PROBE}, script="probe.py", environment=spec)
    agent = start_agent(service, "f1", tmp_path)
    assert agent.wait(300) == 0, agent.log
    final = service.state.statuses[-1][1]
    assert final["status"] == "Failed"
    assert final["error"]["message"].startswith("environment build failed")
    assert "jupyter-aml-no-such-package-xyz" in final["error"]["details"]
    assert service.state.status_sequence("f1") == ["Preparing", "Failed"]
    assert not [p for p in (tmp_path / "envs").iterdir() if p.is_dir()]


def test_user_managed_interpreter_path(service: FakeService, tmp_path: Path) -> None:
    base = os.path.realpath(sys.executable)  # the base interpreter, not the test venv
    spec = {"python": {"user_managed": True, "interpreter_path": base}}
    script = b"import sys, azureml.core, jupyter_aml.runtime.env\nprint('exe', sys.executable)\n"
    service.state.add_run("u1", files={"s.py": script}, script="s.py", environment=spec)
    agent = start_agent(service, "u1", tmp_path)
    assert agent.wait(120) == 0, agent.log
    assert f"exe {base}" in service.state.log_text("stdout")
    assert service.state.status_sequence("u1")[-1] == "Completed"


def test_a_registered_definition_with_requirements_is_built_even_if_marked_user_managed() -> None:
    """The registry hashes pip requirements as a managed venv; the builder must agree (raw REST clients
    often leave user_managed at its default)."""
    from jupyter_aml.envbuild.venv import interpreter_spec

    spec = interpreter_spec({"python": {"user_managed": True, "pip": ["six"]}, "env_vars": {"A": "1"}})
    parsed = parse_spec(spec)
    assert parsed.user_managed is False and list(parsed.pip) == ["six"] and parsed.env_vars == {"A": "1"}
    assert "interpreter_path" not in spec["python"]  # no python_version: the builder's default interpreter
    mine = f"{sys.version_info.major}.{sys.version_info.minor}"
    pinned = interpreter_spec({"python_version": mine, "python": {"pip": ["six"]}})
    assert pinned["python"]["interpreter_path"] == sys.executable
    plain = interpreter_spec({"python": {"user_managed": True, "pip": [" "]}})
    assert parse_spec(plain).user_managed is True
