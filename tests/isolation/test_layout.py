"""Finding 1 and 7 by design: the root is the service's alone, runs live outside it, and no path under it
or variable of the service reaches a compute backend or a run's agent."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from jupyter_aml.app import AMLApplication
from jupyter_aml.compute.base import ComputeBackend, ExitCallback, RunJob
from jupyter_aml.compute.local import LocalProcessBackend, agent_process_env
from jupyter_aml.core import models
from jupyter_aml.core.scheduler import Scheduler
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.errors import InvalidInput


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class RecordingBackend(ComputeBackend):
    type_name = "recording"

    def __init__(self, name: str, **settings: Any) -> None:
        super().__init__(name, **settings)
        self.jobs: list[RunJob] = []

    async def start(self, job: RunJob, on_exit: ExitCallback) -> dict[str, Any]:
        self.jobs.append(job)
        return {"pid": 0}

    async def cancel(self, run_id: str) -> None:
        return None

    async def is_alive(self, run_id: str, agent_info: dict[str, Any]) -> bool:
        return False


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


async def test_a_run_job_carries_no_path_under_the_root(tmp_path: Path, database_url: str | None) -> None:
    root = tmp_path / "root"
    app = AMLApplication(ServiceSettings(root=root, database_url=database_url)).open(service_url="http://x/api")
    try:
        backend = RecordingBackend("rec")
        app.scheduler = Scheduler(app.service, {"rec": backend}, "http://x/api")
        app.service.workspaces.get_or_create("w")
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "t.py").write_text("print(1)\n")
        spec = models.FolderRunCreate(folder="src", experiment="e",
                                      run_config=models.RunConfig(script="t.py", compute_target="rec"))
        await app.submit_folder("w", spec, server_root=tmp_path, submitter="test")
        [job] = backend.jobs
        values = _strings(dataclasses.asdict(job))
        assert str(job.work_root) and str(job.env_cache)
        leaked = [v for v in values if str(root) in v and not v.startswith(f"{root}-runs")]
        assert not leaked, f"the RunJob names the root: {leaked}"
        assert not Path(job.work_root).resolve().is_relative_to(root.resolve())
        assert not Path(job.env_cache).resolve().is_relative_to(root.resolve())
        env = agent_process_env(job, source={"JUPYTER_AML_ROOT": str(root), "PATH": "/usr/bin"})
        assert not [k for k, v in env.items() if v == str(root) or v.startswith(f"{root}/")]
    finally:
        await app.stop()


def test_the_root_is_private_and_the_database_files_are_0600(tmp_path: Path) -> None:
    root = tmp_path / "root"
    app = AMLApplication(ServiceSettings(root=root)).open(service_url="http://x")
    try:
        app.service.workspaces.get_or_create("w")
        app.service.blobs.put_bytes(b"some content")
        with sqlite3.connect(root / "aml.db") as conn:  # a second connection keeps -wal and -shm in place
            conn.execute("select 1")
            files = {p.name: mode(p) for p in root.iterdir() if p.is_file()}
        assert mode(root) == 0o700
        assert {"aml.db", "run-token.key"} <= files.keys()
        assert all(m == 0o600 for m in files.values()), files
        assert mode(root / "blobs") == 0o700
        for wal in ("aml.db-wal", "aml.db-shm"):
            if (root / wal).exists():
                assert mode(root / wal) == 0o600
        assert mode(app.settings.work_root) == 0o700 and mode(app.settings.env_cache) == 0o700
        assert not app.settings.work_root.is_relative_to(root)
    finally:
        app.service.close()


def test_an_older_root_is_tightened_at_open(tmp_path: Path) -> None:
    root = tmp_path / "old"
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    for name in ("aml.db", "service-token", "run-token.key", "service.json"):
        (root / name).touch()
        (root / name).chmod(0o644)
    (root / "run-token.key").write_text(os.urandom(32).hex())
    (root / "blobs").mkdir(mode=0o755)
    (root / "blobs").chmod(0o755)
    app = AMLApplication(ServiceSettings(root=root)).open(service_url="http://x")
    app.service.close()
    assert mode(root) == 0o700 and mode(root / "blobs") == 0o700
    assert {p.name: mode(p) for p in root.iterdir() if p.is_file()} == dict.fromkeys(
        ["aml.db", "service-token", "run-token.key", "service.json", "secret.key"], 0o600)


def test_run_folders_inside_the_root_are_refused(tmp_path: Path) -> None:
    settings = ServiceSettings(root=tmp_path / "r", runs_work_root=tmp_path / "r" / "work")
    with pytest.raises(InvalidInput, match="inside the service's root"):
        AMLApplication(settings).open(service_url="http://x")


def test_the_agent_environment_is_an_allowlist() -> None:
    job = RunJob(run_id="r1", workspace="w", experiment="e", service_url="http://x", run_token="amlr.tok",
                 work_root=Path("/runs/work"), env_cache=Path("/runs/envs"))
    service_env = {
        "PATH": "/usr/bin", "HOME": "/home/svc", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HTTPS_PROXY": "http://p:3128",
        "SSL_CERT_FILE": "/etc/ssl/cert.pem",
        "JUPYTER_AML_ROOT": "/srv/aml", "JUPYTER_TOKEN": "jt", "JPY_API_TOKEN": "jpy", "JUPYTERHUB_API_TOKEN": "hub",
        "JUPYTER_CONFIG_DIR": "/etc/j", "AML_SERVICE_TOKEN": "amls.x", "AWS_SECRET_ACCESS_KEY": "aws",
        "DATABASE_PASSWORD": "pw", "SOME_OPERATOR_VAR": "kept-if-asked",
    }
    env = agent_process_env(job, {"MY_SETTING": "1"}, pass_env=["SOME_OPERATOR_VAR"], source=service_env)
    for name in ("PATH", "HOME", "LANG", "LC_ALL", "HTTPS_PROXY", "SSL_CERT_FILE", "SOME_OPERATOR_VAR", "MY_SETTING"):
        assert name in env, name
    for name in service_env.keys() - env.keys():
        assert name.startswith(("JUPYTER", "JPY_")) or name in ("AML_SERVICE_TOKEN", "AWS_SECRET_ACCESS_KEY",
                                                                  "DATABASE_PASSWORD")
    assert not [k for k in env if k.startswith(("JUPYTER", "JPY_"))]
    assert "aws" not in env.values() and "pw" not in env.values() and "amls.x" not in env.values()
    assert env["AML_RUN_TOKEN"] == "amlr.tok" and env["AML_WORK_DIR"] == "/runs/work"


def test_configuration_cannot_pass_the_services_variables() -> None:
    with pytest.raises(InvalidInput, match="JUPYTER_TOKEN"):
        LocalProcessBackend("local", runner="same-user", pass_env=["JUPYTER_TOKEN"])
    with pytest.raises(InvalidInput, match="JUPYTERHUB_API_TOKEN"):
        LocalProcessBackend("local", runner="same-user", agent_env={"JUPYTERHUB_API_TOKEN": "x"})


def test_an_unknown_runner_is_refused_with_the_valid_ones() -> None:
    with pytest.raises(InvalidInput) as err:
        LocalProcessBackend("local", runner="docker-ish")
    assert "unknown runner 'docker-ish'" in err.value.message
    assert "auto, same-user, user, bubblewrap" in (err.value.hint or "")


def test_the_user_runner_needs_a_user_that_exists() -> None:
    with pytest.raises(InvalidInput, match="needs the name"):
        LocalProcessBackend("local", runner="user")
    with pytest.raises(InvalidInput, match="does not exist"):
        LocalProcessBackend("local", runner="user", run_as="no-such-user-here")


def test_the_user_runner_checks_its_user_can_start_the_agent(tmp_path: Path) -> None:
    import pwd

    try:
        pwd.getpwnam("amltest")
    except KeyError:
        pytest.skip("needs the Unix user amltest (tests/isolation/test_hostile_script.py creates it)")
    if os.geteuid() != 0:
        pytest.skip("the user runner needs root here")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "python3").write_text('#!/bin/sh\nexec /usr/bin/python3 "$@"\n')  # a shim, closed to amltest
    (private / "python3").chmod(0o755)
    with pytest.raises(InvalidInput, match="cannot start the agent"):
        LocalProcessBackend("local", runner="user", run_as="amltest", python=str(private / "python3"))
    backend = LocalProcessBackend("local", runner="user", run_as="amltest", python="/usr/bin/python3")
    assert backend.runner.name == "user"
