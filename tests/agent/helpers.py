"""Start the real agent (``python -m jupyter_aml.agent``) against the fake service."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from jupyter_aml.compute.base import RunJob
from jupyter_aml.compute.local import agent_process_env
from tests.agent.fakeservice import FakeService


class Exits:
    """An ``on_exit`` callback that records (run id, exit code) and wakes the test."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int | None]] = []
        self.event = asyncio.Event()

    async def __call__(self, run_id: str, code: int | None) -> None:
        self.calls.append((run_id, code))
        self.event.set()


def make_job(service: FakeService, run_id: str, root: Path, **kw: Any) -> RunJob:
    return RunJob(run_id=run_id, workspace="ws", experiment="exp", service_url=service.url,
                  run_token=service.state.token, work_root=root / "work", env_cache=root / "envs", **kw)


class AgentProc:
    def __init__(self, proc: subprocess.Popen[bytes], job: RunJob) -> None:
        self.proc, self.job = proc, job
        self.run_dir = job.work_root / job.run_id

    def wait(self, timeout: float = 120) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.returncode is None:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()

    @property
    def log(self) -> str:
        path = self.run_dir / "agent.log"
        return path.read_text() if path.exists() else ""

    def script_info(self, timeout: float = 30) -> dict[str, Any]:
        path = self.run_dir / "script.json"
        end = time.monotonic() + timeout
        while not path.exists():
            assert time.monotonic() < end, "script never started:\n" + self.log
            time.sleep(0.05)
        return json.loads(path.read_text())


def start_agent(service: FakeService, run_id: str, root: Path, extra_env: dict[str, str] | None = None,
                **job_kw: Any) -> AgentProc:
    job = make_job(service, run_id, root, **job_kw)
    run_dir = job.work_root / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    env = agent_process_env(job, {"AML_HEARTBEAT_INTERVAL": "0.5", **(extra_env or {})})
    with open(run_dir / "agent.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "jupyter_aml.agent"], env=env, cwd=run_dir,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return AgentProc(proc, job)


def wait_for(predicate: Any, timeout: float = 30, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def pid_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent or a zombie waiting for its reaper)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return True
    return stat[stat.rindex(b")") + 2:].split()[0] in (b"Z", b"X")
