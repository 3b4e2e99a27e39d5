"""The ``local`` compute target: one ``python -m jupyter_aml.agent`` process per run on this machine.

The agent runs in a session of its own and survives a restart of the service (no PR_SET_PDEATHSIG), so
a restarted service can find it again with ``is_alive`` / ``reattach``. ``cancel`` sends SIGTERM to the
agent's process group (the agent then kills the script's group, drains and reports Canceled), waits up
to ``grace_period`` seconds, then SIGKILLs the agent's group and whatever is left of the script's group.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

from jupyter_aml.agent.procs import belongs_to_run, is_gone, kill_run_group, kill_run_processes, read_bytes
from jupyter_aml.compute.base import ComputeBackend, ExitCallback, RunJob
from jupyter_aml.runtime import env as E

log = logging.getLogger(__name__)

PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent.parent)  # the folder holding jupyter_aml/
AGENT_MODULE = "jupyter_aml.agent"
# Credentials of the service itself never reach a run (the run token is all a script gets).
SECRET_VARS = frozenset({"JUPYTER_TOKEN", "JPY_API_TOKEN", "JUPYTERHUB_API_TOKEN", "JUPYTER_SERVER_TOKEN",
                         "AML_SERVICE_TOKEN"})


def _journal_of(info: dict[str, Any]) -> str | None:
    """The run's AML_JOURNAL, known from its folder (None for agent info without ``run_dir``)."""
    run_dir = info.get("run_dir")
    return str(Path(run_dir) / E.JOURNAL_DIRNAME / (E.MAIN_STREAM + E.JOURNAL_SUFFIX)) if run_dir else None


def agent_process_env(job: RunJob, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The agent's environment: the service's (minus its secrets) + the run's variables."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env.update(extra or {})
    env.update(E.agent_environment(job))
    # Let the agent import this installation; it removes the entry again for the script.
    env[E.AGENT_PYTHONPATH] = PACKAGE_PARENT
    parts = [PACKAGE_PARENT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


class LocalProcessBackend(ComputeBackend):
    """Runs each run's agent as a local process (``start_new_session=True``)."""

    type_name: ClassVar[str] = "local"

    def __init__(self, name: str, *, max_concurrent_runs: int = 2, grace_period: float = 20.0,
                 python: str | None = None, agent_env: dict[str, str] | None = None, **settings: Any) -> None:
        super().__init__(name, max_concurrent_runs=max_concurrent_runs, **settings)
        self.grace_period = grace_period
        self.python = python or sys.executable
        self.agent_env = dict(agent_env or {})
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self._records: dict[str, dict[str, Any]] = {}  # run_id -> agent info (+ run_dir)
        self._watchers: dict[str, asyncio.Task[None]] = {}

    async def start(self, job: RunJob, on_exit: ExitCallback) -> dict[str, Any]:
        run_dir = E.run_dir(job.work_root, job.run_id)
        run_dir.mkdir(parents=True, exist_ok=True)
        with open(run_dir / "agent.log", "ab") as agent_log:
            proc = await asyncio.create_subprocess_exec(
                self.python, "-m", AGENT_MODULE,
                stdin=asyncio.subprocess.DEVNULL, stdout=agent_log, stderr=asyncio.subprocess.STDOUT,
                cwd=run_dir, env=agent_process_env(job, self.agent_env), start_new_session=True,
            )
        info = {"pid": proc.pid, "pgid": proc.pid, "host": socket.gethostname(), "run_dir": str(run_dir)}
        (run_dir / "agent.json").write_text(json.dumps({**info, "started_at": time.time()}))
        self._procs[job.run_id] = proc
        self._records[job.run_id] = info
        self._watchers[job.run_id] = asyncio.create_task(self._watch(job.run_id, proc, on_exit))
        return info

    async def _watch(self, run_id: str, proc: asyncio.subprocess.Process, on_exit: ExitCallback) -> None:
        code = await proc.wait()
        self._procs.pop(run_id, None)
        self._watchers.pop(run_id, None)
        try:
            await on_exit(run_id, code)
        except Exception:
            log.exception("on_exit callback failed for run %s", run_id)

    async def cancel(self, run_id: str) -> None:
        record = self._records.get(run_id)
        if record is None:
            return
        pgid = int(record["pgid"])
        journal = _journal_of(record)
        proc = self._procs.get(run_id)
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGTERM)
        else:
            kill_run_group(pgid, run_id, signal.SIGTERM, journal)
        deadline = time.monotonic() + self.grace_period
        while time.monotonic() < deadline and not self._agent_gone(run_id, record):
            await asyncio.sleep(0.1)
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        kill_run_group(pgid, run_id, signal.SIGKILL, journal)
        script = read_bytes(os.path.join(record.get("run_dir", ""), "script.json"))
        if script:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                kill_run_group(int(json.loads(script)["pgid"]), run_id, signal.SIGKILL, journal)
        kill_run_processes(run_id, signal.SIGKILL, journal)  # what left the groups (setsid daemons)

    def _agent_gone(self, run_id: str, record: dict[str, Any]) -> bool:
        proc = self._procs.get(run_id)
        if proc is not None:
            return proc.returncode is not None
        return is_gone(int(record["pid"]))

    async def is_alive(self, run_id: str, agent_info: dict[str, Any]) -> bool:
        try:
            pid = int(agent_info["pid"])
        except (KeyError, TypeError, ValueError):
            return False
        if agent_info.get("host") and agent_info["host"] != socket.gethostname():
            return False
        cmdline = read_bytes(f"/proc/{pid}/cmdline")
        if not cmdline or AGENT_MODULE.encode() not in cmdline or is_gone(pid):
            return False
        if belongs_to_run(pid, run_id, _journal_of(agent_info)) is False:
            return False
        self._records.setdefault(run_id, {"pid": pid, "pgid": int(agent_info.get("pgid", pid)),
                                          "run_dir": agent_info.get("run_dir", "")})
        return True

    async def reattach(self, run_id: str, agent_info: dict[str, Any], on_exit: ExitCallback,
                       poll: float = 2.0) -> bool:
        """After a service restart: watch an agent this process did not start; ``on_exit(run_id, None)``."""
        if not await self.is_alive(run_id, agent_info):
            return False

        async def watch() -> None:
            while await self.is_alive(run_id, agent_info):
                await asyncio.sleep(poll)
            self._watchers.pop(run_id, None)
            try:
                await on_exit(run_id, None)
            except Exception:
                log.exception("on_exit callback failed for run %s", run_id)

        self._watchers[run_id] = asyncio.create_task(watch())
        return True

    async def shutdown(self) -> None:
        """Stop watching; the agents keep running and report to the service when it is back."""
        for task in list(self._watchers.values()):
            task.cancel()
        self._watchers.clear()
