"""A real workspace service in its own process, which tests may kill -9 and restart."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_aml.runtime.http import ServiceClient
from jupyter_aml.sdk.workspace import Workspace
from tests.procs import kill_processes_using

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    def __init__(self, root: Path, *, extra: list[str], database_url: str | None = None) -> None:
        self.root = root
        self.port = free_port()
        self.extra = [*extra, *([f"--AMLExtension.database_url={database_url}"] if database_url else [])]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        (self.root / "service.json").unlink(missing_ok=True)
        code = (
            "import sys; from pathlib import Path; from jupyter_aml.server.standalone import serve; "
            f"serve(Path({str(self.root)!r}), port={self.port}, extra=sys.argv[1:])"
        )
        log = open(self.root / "service.log", "ab")  # noqa: SIM115
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, *self.extra],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (self.root / "service.json").exists():
                try:
                    self.client().get("health")
                    return
                except Exception:
                    pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("service did not start:\n" + (self.root / "service.log").read_text()[-3000:])

    def info(self) -> dict[str, str]:
        return json.loads((self.root / "service.json").read_text())

    def client(self) -> ServiceClient:
        info = self.info()
        return ServiceClient(info["url"], info["token"])

    def workspace(self, name: str = "e2e") -> Workspace:
        info = self.info()
        return Workspace(name, service_url=info["url"], token=info["token"])

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def service(tmp_path: Path, database_url: str | None) -> Iterator[ServiceProcess]:
    svc = ServiceProcess(
        tmp_path / "root",
        extra=[
            "--AMLExtension.heartbeat_interval=1",
            "--AMLExtension.not_responding_after=4",
            "--AMLExtension.failed_after=8",
            "--AMLExtension.max_concurrent_runs=4",
        ],
        database_url=database_url,
    )
    svc.root.mkdir()
    svc.start()
    yield svc
    svc.stop()
    kill_processes_using(svc.root)


def wait_status(run, statuses: set[str], timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = run.get_status()
        if status in statuses:
            return status
        time.sleep(0.2)
    raise AssertionError(f"run {run.id} stayed {run.get_status()}, wanted {statuses}")


def write_script(folder: Path, body: str, name: str = "script.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(body)
    return folder
