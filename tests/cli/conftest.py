"""A real workspace service (``python -m jupyter_aml.cli serve``) for the CLI tests, and a CLI runner.

The service runs once per module in a subprocess; the CLI runs in-process through typer's CliRunner with
``JUPYTER_AML_URL``/``JUPYTER_AML_TOKEN`` taken from the service's ``service.json``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from jupyter_aml.cli import app
from tests.procs import kill_processes_using

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    root: Path
    url: str
    token: str
    env: dict[str, str]


@contextlib.contextmanager
def serve(root: Path, *, cwd: Path | None = None, env: dict[str, str] | None = None) -> Iterator[Service]:
    """``aml serve`` for ``root`` in a subprocess (its own session), stopped on exit; ``cwd`` is its working
    folder (POST runs/from-folder snapshots folders under it)."""
    port = _free_port()
    env = {**os.environ, **(env or {}),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    for key in ("JUPYTER_AML_URL", "JUPYTER_AML_TOKEN", "JUPYTER_AML_ROOT"):
        env.pop(key, None)
    log_path = root.parent / f"{root.name}-serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_aml.cli", "serve", "--root", str(root), "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
            start_new_session=True,
        )
        info: dict[str, Any] | None = None
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    info = json.loads((root / "service.json").read_text())
                    break
                except (FileNotFoundError, ValueError):
                    time.sleep(0.1)
            if info is None:
                pytest.fail(f"`aml serve` did not start:\n{log_path.read_text()[-3000:]}")
            yield Service(root=root, url=info["url"], token=info["token"],
                          env={"JUPYTER_AML_URL": info["url"], "JUPYTER_AML_TOKEN": info["token"]})
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            kill_processes_using(root)  # the detached cluster hosts of computes it created


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with serve(tmp_path_factory.mktemp("aml-root")) as running:
        yield running


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def ok(outcome: Outcome) -> Outcome:
    """The command succeeded, with no traceback; says what it printed when not."""
    assert outcome.exit_code == 0, f"exit {outcome.exit_code}\nstdout:\n{outcome.stdout}\nstderr:\n{outcome.stderr}"
    assert "Traceback" not in outcome.stdout + outcome.stderr
    return outcome


def failed(outcome: Outcome, code: int = 1) -> Outcome:
    """The command failed with ``code`` and a readable error, not a traceback."""
    assert outcome.exit_code == code, f"exit {outcome.exit_code}\nstdout:\n{outcome.stdout}\nstderr:\n{outcome.stderr}"
    assert "Traceback" not in outcome.stdout + outcome.stderr
    return outcome


@contextlib.contextmanager
def _cwd(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def run_cli(service: Service, *args: str, cwd: Path, env: dict[str, str] | None = None) -> Outcome:
    """Run ``aml ARGS`` in-process against ``service`` from ``cwd`` (no .aml/config.json from elsewhere)."""
    with _cwd(cwd):
        result = CliRunner().invoke(app, list(args), env={**service.env, **(env or {})}, catch_exceptions=False)
    return Outcome(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def aml(service: Service, tmp_path: Path) -> Callable[..., Outcome]:
    """``aml("run", "list", "--json")`` runs the CLI against the module's service from a clean folder."""
    workdir = tmp_path / "cwd"
    workdir.mkdir()

    def call(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Outcome:
        return run_cli(service, *args, cwd=cwd or workdir, env=env)

    return call


def write_project(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return folder
