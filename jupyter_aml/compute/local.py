"""The ``local`` compute target: one ``python -m jupyter_aml.agent`` process per run on this machine.

The agent runs in a session of its own and survives a restart of the service (no PR_SET_PDEATHSIG), so
a restarted service can find it again with ``is_alive`` / ``reattach``. ``cancel`` sends SIGTERM to the
agent's process group (the agent then kills the script's group, drains and reports Canceled), waits up
to ``grace_period`` seconds, then SIGKILLs the agent's group and whatever is left of the script's group.

The agent's environment is built from an allowlist (never the service's environment minus a denylist),
and the agent is started through the target's runner (compute/runners.py: same user, a dedicated user or a
bubblewrap sandbox). Under bubblewrap the recorded pid is bwrap's: it carries the run's variables and the
agent's command line, so ``is_alive`` and the /proc sweeps find it, and SIGKILL of its group ends the whole
sandbox (its pid namespace dies with it).
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

from jupyter_aml.agent.procs import (
    belongs_to_run,
    is_gone,
    kill_run_group,
    kill_run_processes,
    read_bytes,
    run_journals,
)
from jupyter_aml.compute.base import ComputeBackend, ExitCallback, RunJob
from jupyter_aml.compute.runners import Runner, build_runner
from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime import env as E

log = logging.getLogger(__name__)

PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent.parent)  # the folder holding jupyter_aml/
AGENT_MODULE = "jupyter_aml.agent"
# Kept for the serving launcher, which still filters the service's environment (see docs/isolation.md).
SECRET_VARS = frozenset({"JUPYTER_TOKEN", "JPY_API_TOKEN", "JUPYTERHUB_API_TOKEN", "JUPYTER_SERVER_TOKEN",
                         "AML_SERVICE_TOKEN"})
# What a run may take from the service's environment: the basics of a process, plus what building an
# environment needs (proxies, CA bundles, package indexes). Nothing else: the run token is its only credential.
PASSED_VARS = frozenset({
    "PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "USER", "LOGNAME", "TERM", "PYTHONPATH", "LD_LIBRARY_PATH",
    "http_proxy", "https_proxy", "no_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT",
    "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_FIND_LINKS",
    "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX", "UV_NATIVE_TLS", "UV_PYTHON_DOWNLOADS",
    # the agent's own settings, when the operator sets them for the service
    "AML_ENV_BUILDER", "AML_AGENT_CONNECT_TIMEOUT", "AML_AGENT_DRAIN_TIMEOUT", "AML_AGENT_CANCEL_DRAIN_TIMEOUT",
    # Docker runs (docs/docker-runs.md): the engine the service uses, the default base image, the CA files
    "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY",
    "AML_DOCKER_BASE_IMAGE", "AML_DOCKER_CA_FILES",
})
PASSED_PREFIXES = ("LC_",)
# Never passed, whatever the configuration says: the Jupyter server's and JupyterHub's credentials and the
# service's root.
FORBIDDEN_PREFIXES = ("JUPYTER_", "JPY_", "JUPYTERHUB_")
FORBIDDEN_VARS = frozenset({"AML_SERVICE_TOKEN"})


def forbidden_var(name: str) -> bool:
    return name in FORBIDDEN_VARS or name.startswith(FORBIDDEN_PREFIXES)


def check_passed_names(names: list[str] | dict[str, str], what: str) -> None:
    """Refuse configuration that would hand the service's credentials or root to runs."""
    bad = sorted(n for n in names if forbidden_var(n))
    if bad:
        raise InvalidInput(f"{what} may not name {', '.join(bad)}: runs never get the Jupyter server's or "
                           "the service's variables", hint="remove them (the run token is a run's only credential)")


def _journal_of(info: dict[str, Any]) -> str | None:
    """The run's AML_JOURNAL, known from its folder (None for agent info without ``run_dir``)."""
    run_dir = info.get("run_dir")
    return str(Path(run_dir) / E.JOURNAL_DIRNAME / (E.MAIN_STREAM + E.JOURNAL_SUFFIX)) if run_dir else None


def agent_process_env(job: RunJob, extra: dict[str, str] | None = None, *,
                      pass_env: list[str] | None = None, source: dict[str, str] | None = None) -> dict[str, str]:
    """The agent's environment, from an allowlist: the basics (``PASSED_VARS``, ``LC_*``) and the names in
    ``pass_env`` from the service's environment, then ``extra`` (the target's ``agent_env``), then the run's
    ``AML_*`` variables. ``JUPYTER_*``, ``JPY_*`` and ``JUPYTERHUB_*`` never pass."""
    source = dict(os.environ if source is None else source)
    allowed = PASSED_VARS | set(pass_env or ())
    env = {k: v for k, v in source.items()
           if (k in allowed or k.startswith(PASSED_PREFIXES)) and not forbidden_var(k)}
    env.update({k: v for k, v in (extra or {}).items() if not forbidden_var(k)})
    env.update(E.agent_environment(job))
    # Let the agent import this installation; it removes the entry again for the script.
    env[E.AGENT_PYTHONPATH] = PACKAGE_PARENT
    parts = [PACKAGE_PARENT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def _ignore_sigterm() -> None:  # in the child between fork and exec
    # bwrap would die of the polite SIGTERM meant for the agent and take the sandbox with it: it ignores
    # it (the agent installs its own handler, so it still hears it); SIGKILL still ends the sandbox.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


class LocalProcessBackend(ComputeBackend):
    """Runs each run's agent as a local process (``start_new_session=True``)."""

    type_name: ClassVar[str] = "local"

    def __init__(self, name: str, *, max_concurrent_runs: int = 2, grace_period: float = 20.0,
                 python: str | None = None, agent_env: dict[str, str] | None = None, runner: str = "auto",
                 run_as: str | None = None, pass_env: list[str] | None = None,
                 protected_paths: list[str] | None = None, hide_home: bool = True, **settings: Any) -> None:
        super().__init__(name, max_concurrent_runs=max_concurrent_runs, **settings)
        self.grace_period = grace_period
        self.python = python or sys.executable
        self.agent_env = dict(agent_env or {})
        self.pass_env = list(pass_env or [])
        check_passed_names(self.agent_env, f"compute target {name!r}: agent_env")
        check_passed_names(self.pass_env, f"compute target {name!r}: pass_env")
        try:
            self.runner: Runner = build_runner(runner, run_as=run_as, protected=protected_paths or (),
                                               hide_home=hide_home)
        except InvalidInput as exc:
            raise InvalidInput(f"compute target {name!r}: {exc.message}", hint=exc.hint) from None
        problem = self.runner.check(self.python, PACKAGE_PARENT)
        if problem:
            raise InvalidInput(f"compute target {name!r}: the {self.runner.name!r} runner cannot start runs: "
                               f"{problem}", hint='give the target a "python" the run\'s user can execute and '
                               "read (e.g. /usr/bin/python3: the agent needs only the standard library)")
        log.info("compute target %r starts runs with the %r runner", name, self.runner.name)
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self._records: dict[str, dict[str, Any]] = {}  # run_id -> agent info (+ run_dir)
        self._watchers: dict[str, asyncio.Task[None]] = {}

    async def start(self, job: RunJob, on_exit: ExitCallback) -> dict[str, Any]:
        run_dir = E.run_dir(job.work_root, job.run_id)
        await asyncio.to_thread(self.runner.prepare, run_dir, Path(job.work_root), Path(job.env_cache))
        launch = self.runner.launch([self.python, "-m", AGENT_MODULE],
                                    agent_process_env(job, self.agent_env, pass_env=self.pass_env),
                                    run_dir=run_dir, work_root=Path(job.work_root), env_cache=Path(job.env_cache),
                                    engine_socket=bool(job.environment.get("docker_enabled")))
        fd = os.open(run_dir / "agent.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as agent_log:
            proc = await asyncio.create_subprocess_exec(
                *launch.argv,
                stdin=asyncio.subprocess.DEVNULL, stdout=agent_log, stderr=asyncio.subprocess.STDOUT,
                cwd=run_dir, env=launch.env, start_new_session=True,
                preexec_fn=_ignore_sigterm if launch.ignore_sigterm else None,
            )
        info = {"pid": proc.pid, "pgid": proc.pid, "host": socket.gethostname(), "run_dir": str(run_dir),
                "runner": self.runner.name}
        _write_private(run_dir / "agent.json", json.dumps({**info, "started_at": time.time()}))
        self._procs[job.run_id] = proc
        self._records[job.run_id] = info
        self._watchers[job.run_id] = asyncio.create_task(self._watch(job.run_id, proc, on_exit))
        return info

    async def _watch(self, run_id: str, proc: asyncio.subprocess.Process, on_exit: ExitCallback) -> None:
        code = await proc.wait()
        self._procs.pop(run_id, None)
        self._watchers.pop(run_id, None)
        # What it started must not outlive it: a sandbox whose bwrap was killed keeps its agent and script
        # (another session), and a script's setsid daemons keep running after a normal end.
        journal = _journal_of(self._records.get(run_id, {}))
        for path in run_journals(journal):  # a distributed run's ranks carry journals of their own
            await asyncio.to_thread(kill_run_processes, run_id, signal.SIGKILL, path)
        await self._finish(run_id)
        try:
            await on_exit(run_id, code)
        except Exception:
            log.exception("on_exit callback failed for run %s", run_id)

    async def _finish(self, run_id: str) -> None:
        run_dir = self._records.get(run_id, {}).get("run_dir")
        if run_dir:
            try:
                await asyncio.to_thread(self.runner.finish, Path(run_dir))
            except OSError:
                log.exception("could not take back the folder of run %s", run_id)

    async def kill(self, run_id: str) -> None:
        """No grace period: a hung (or SIGSTOPped) agent never acts on SIGTERM, and its script must not run on."""
        await self.cancel(run_id, grace=0.0)

    async def cancel(self, run_id: str, grace: float | None = None) -> None:
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
        deadline = time.monotonic() + (self.grace_period if grace is None else grace)
        while time.monotonic() < deadline and not self._agent_gone(run_id, record):
            await asyncio.sleep(0.1)
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        kill_run_group(pgid, run_id, signal.SIGKILL, journal)
        script = read_bytes(os.path.join(record.get("run_dir", ""), "script.json"))
        if script:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                info = json.loads(script)
                for pgid in [info["pgid"], *info.get("pgids", [])]:  # a distributed run: one group per process
                    for path in run_journals(journal):
                        kill_run_group(int(pgid), run_id, signal.SIGKILL, path)
        for path in run_journals(journal):  # what left the groups (setsid daemons)
            kill_run_processes(run_id, signal.SIGKILL, path)

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
            await self._finish(run_id)
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
