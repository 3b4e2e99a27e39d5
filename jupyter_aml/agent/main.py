"""``python -m jupyter_aml.agent``: run one run from its environment variables and report back.

Preparing (snapshot, environment) -> Starting -> Running (script in its own session; logs, heartbeats,
journal shipped live) -> Finalizing (journal drained, outputs uploaded) -> Completed / Failed / Canceled.
SIGTERM cancels: the script's process group is killed, what it logged is drained, Canceled is reported.
Exit code: 0 when the final status reached the service, 3 when it could not be delivered.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from typing import Any, cast

from jupyter_aml.envbuild.container import docker_settings, prepare_image
from jupyter_aml.envbuild.venv import (
    SHIM_DIR,
    EnvBuildError,
    PreparedEnv,
    ensure_link_dir,
    prepare_environment,
    probe_interpreter,
)
from jupyter_aml.errors import AMLError, Conflict, RunCanceled
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime import env as E
from jupyter_aml.runtime.api import Api
from jupyter_aml.runtime.heartbeat import Heartbeat
from jupyter_aml.runtime.http import ServiceClient
from jupyter_aml.runtime.shipper import JournalShipper
from jupyter_aml.statuses import TERMINAL_STATUSES

from . import distributed as D
from .config import AGENT_LOG_STREAM, AgentConfig
from .container import ContainerRun, exit_message
from .datasets import RunDatasets
from .outputs import OUTPUT_DIRS, upload_outputs
from .procs import kill_run_processes
from .ranks import RankRunner
from .reporting import LogShipper, retry_until, warn
from .snapshot import fetch_snapshot, fresh_dir
from .tracebacks import script_error

MAX_LINE_CHARS = 16_000
KILL_GRACE = 5.0  # seconds between SIGTERM and SIGKILL for the script's process group
AGENT_ONLY_VARS = (E.WORK_DIR, E.ENV_CACHE, E.ENVIRONMENT, E.AGENT_PYTHONPATH, E.HEARTBEAT_INTERVAL,
                   "AML_AGENT_CONNECT_TIMEOUT", "AML_AGENT_DRAIN_TIMEOUT", "AML_AGENT_CANCEL_DRAIN_TIMEOUT",
                   "AML_ENV_BUILDER", *D.AGENT_ONLY)
Outcome = tuple[str, "dict[str, Any] | None", "int | None"]

_prctl: Any
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None


def _die_with_agent() -> None:  # runs in the child between fork and exec
    if _prctl is not None:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: a vanished agent leaves no orphan script


def kill_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


class Agent:
    def __init__(self, cfg: AgentConfig, client: ServiceClient | None = None) -> None:
        self.cfg = cfg
        self.client = client or ServiceClient(cfg.service_url, cfg.token, timeout=30.0)
        self.api = Api(self.client)
        self.cancel_event = threading.Event()
        self.cancel_reason = ""
        self.logs = LogShipper(self.api, cfg.workspace, cfg.run_id)
        self.heartbeat = Heartbeat(self.api, cfg.workspace, cfg.run_id, cfg.heartbeat_interval,
                                   self.request_cancel)
        self.journal: JournalShipper | None = None
        self.wd = cfg.run_dir / "wd"
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=60)
        self._std_log: Any = None
        self._std_lock = threading.Lock()
        self.container: ContainerRun | None = None  # when the script runs in Docker
        self.ranks: RankRunner | None = None  # a distributed run's processes on this node (agent/ranks.py)
        self.datasets: RunDatasets | None = None  # the run's inputs and outputs (agent/datasets.py)

    # -- helpers ---------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        warn(text)
        self.logs.add(AGENT_LOG_STREAM, text)

    def request_cancel(self, reason: str) -> None:
        if not self.cancel_event.is_set():
            self.cancel_reason = reason
            self.cancel_event.set()

    def _check_cancel(self) -> None:
        if self.cancel_event.is_set():
            raise RunCanceled(self.cancel_reason)

    def _deadline(self, seconds: float) -> float:
        return time.monotonic() + seconds

    def _post_status(self, body: T.StatusUpdate) -> T.Run:
        return self.api.set_status(self.cfg.workspace, self.cfg.run_id, body)

    def _get_run(self) -> T.Run:
        return self.api.get_run(self.cfg.workspace, self.cfg.run_id)

    def set_status(self, status: T.RunStatus) -> None:
        """Report a non-final status; a refusal because the run already ended means: stop. Only node 0 of a
        multi-node run reports (the other nodes report to it: agent/gang.py)."""
        if self.cfg.node_rank:
            return
        body: T.StatusUpdate = {"status": status}
        try:
            retry_until(lambda: self._post_status(body), self._deadline(self.cfg.connect_timeout), self.cancel_event)
        except Conflict as exc:
            run = retry_until(self._get_run, self._deadline(self.cfg.connect_timeout))
            if isinstance(run, dict) and run.get("status") in TERMINAL_STATUSES:
                self.request_cancel(f"the run is already {run.get('status')}")
                raise RunCanceled(self.cancel_reason) from exc
            self.say(f"status {status} refused: {exc}")
        self.say(f"status: {status}")

    # -- the steps -------------------------------------------------------------------------------
    def run(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self.request_cancel("the agent received SIGTERM"))
        signal.signal(signal.SIGINT, lambda *_: self.request_cancel("the agent received SIGINT"))
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        self.cfg.run_dir.mkdir(parents=True, exist_ok=True)
        self.logs.start()
        if not self.cfg.node_rank:
            self.heartbeat.start()
        outcome: Outcome
        try:
            outcome = self._prepare_and_execute()
        except RunCanceled:
            outcome = ("Canceled", None, None)
        except EnvBuildError as exc:
            outcome = ("Failed", {"message": exc.message, "details": exc.tail[-8000:]}, None)
        except AMLError as exc:
            outcome = ("Failed", {"message": f"agent: {exc}"}, None)
        except Exception as exc:  # the agent's own bug: still report it
            outcome = ("Failed", {"message": f"agent error: {exc.__class__.__name__}: {exc}",
                                  "details": traceback.format_exc()[-8000:]}, None)
        if self.cancel_event.is_set() and outcome[0] != "Completed":
            outcome = ("Canceled", None, outcome[2])
        if self.ranks is not None:
            if outcome[0] == "Failed" and outcome[1]:  # node k > 0: node 0 fails the run with this reason
                self.ranks.report_failure(str(outcome[1].get("message")), str(outcome[1].get("details") or ""))
            self.ranks.close()  # node 0 stops listening (and tells the other nodes to stop)
        return self.finish(outcome)

    def _prepare_and_execute(self) -> Outcome:
        cfg = self.cfg
        self.set_status("Preparing")
        run = cast(dict[str, Any], retry_until(self._get_run, self._deadline(cfg.connect_timeout)))
        run_config = run.get("run_config") or {}
        layout = D.Layout.from_run_config(run_config)
        if layout is not None:
            self.ranks = RankRunner(self, layout)
            self.ranks.open()  # node 0 listens for the other nodes while it prepares
        spec = run_config.get("environment")
        if not isinstance(spec, dict):
            spec = run.get("environment") if isinstance(run.get("environment"), dict) else cfg.environment
        fresh_dir(self.wd)
        if run.get("snapshot_id"):
            count = fetch_snapshot(self.client, cfg.workspace, run["snapshot_id"], cfg.run_dir, self.wd)
            self.say(f"snapshot {str(run['snapshot_id'])[:12]}: {count} file(s)")
        self._check_cancel()
        docker = docker_settings(spec)
        prepared: PreparedEnv | None = None
        if docker is not None:  # the script runs in a container of the environment's image (agent/container.py)
            image = prepare_image(spec, docker, cfg.env_cache, log=self.say, cancel=self.cancel_event)
            self.container = ContainerRun(image, docker, run_id=cfg.run_id, run_dir=cfg.run_dir, wd=self.wd,
                                          journal=str(cfg.journal))
        else:
            prepared = prepare_environment(spec, cfg.env_cache, log=self.say, cancel=self.cancel_event,
                                           builder=cfg.builder)
        self._check_cancel()
        self.datasets = RunDatasets(self.api, cfg.workspace, cfg.run_id, cfg.run_dir, self.wd, self.say)
        self.datasets.prepare(run_config, self._deadline(cfg.connect_timeout), self.cancel_event.is_set)
        self._check_cancel()
        self.set_status("Starting")
        script = run_config.get("script")
        if not script:
            raise EnvBuildError("run_config.script is missing")
        args = [str(script), *self.datasets.arguments([str(a) for a in run_config.get("arguments") or []])]
        if str(script).endswith(".ipynb"):  # a notebook is executed by nbclient: agent/notebook.py
            args[0:1] = ["-m", "jupyter_aml.agent.notebook", str(script)]
        if layout is not None and (self.container is not None or args[0] == "-m"):
            raise EnvBuildError("a distributed run (distributed_job_config) runs a Python script, not in Docker "
                                "and not a notebook, here")
        if self.container is not None:
            spec_vars = self.spec_vars(spec or {})
            cmd, env = self.container.command(args, self.run_vars(spec_vars), spec_vars, cfg.env_cache, self.say)
        else:
            assert prepared is not None
            env = self.script_env(prepared, spec or {})
            cmd = [prepared.python, *args]
        self._check_cancel()
        if self.ranks is not None:
            return self.execute_distributed(self.ranks, cmd, env)
        self.set_status("Running")
        return self.execute(cmd, env)

    def execute_distributed(self, ranks: RankRunner, cmd: list[str], env: dict[str, str]) -> Outcome:
        """Wait for every node, start this node's processes, and watch them (agent/ranks.py)."""
        self.journal = JournalShipper(self.api, self.cfg.workspace, self.cfg.run_id, self.cfg.journal,
                                      on_warning=self.say).start()
        try:
            addresses = ranks.form()
        except (TimeoutError, ConnectionError) as exc:
            self._check_cancel()
            return ("Failed", {"message": f"the run's nodes did not come together: {exc}"}, None)
        self.set_status("Running")
        self.say("$ " + " ".join(cmd))
        ranks.start(cmd, env, addresses)
        try:
            return ranks.watch()
        finally:
            kill_run_processes(self.cfg.run_id, journal=str(self.cfg.journal))
            for sibling in ranks.journals():
                kill_run_processes(self.cfg.run_id, journal=sibling)
            ranks.close()

    @staticmethod
    def spec_vars(spec: dict[str, Any]) -> dict[str, str]:
        """The environment's variables, except the run's identity and journal, which they may not replace."""
        protected = set(E.AZURE_ALIASES) | set(E.AZURE_ALIASES.values()) | {E.JOURNAL}
        return {str(k): str(v) for k, v in (spec.get("env_vars") or {}).items() if str(k) not in protected}

    def run_vars(self, spec_vars: dict[str, str]) -> dict[str, str]:
        """The agent's environment without its own settings, with the environment's variables and the journal."""
        env = dict(os.environ)
        for name in AGENT_ONLY_VARS:
            env.pop(name, None)
        env.update(spec_vars)
        env.update(E.mlflow_environment(env))  # a plain mlflow client in the script logs into this run
        env[E.JOURNAL] = str(self.cfg.journal)
        if self.datasets is not None:
            env.update(self.datasets.variables())
        env["PYTHONUNBUFFERED"] = "1"
        self.cfg.journal.parent.mkdir(parents=True, exist_ok=True)
        return env

    def script_env(self, prepared: PreparedEnv, spec: dict[str, Any]) -> dict[str, str]:
        env = self.run_vars(self.spec_vars(spec))
        path = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != self.cfg.agent_pythonpath]
        if prepared.venv is not None:
            env["VIRTUAL_ENV"] = str(prepared.venv)
            env["PATH"] = str(prepared.venv / "bin") + os.pathsep + env.get("PATH", "")
            env.pop("PYTHONHOME", None)
        probe_env = dict(env)
        if path:
            probe_env["PYTHONPATH"] = os.pathsep.join(path)
        else:
            probe_env.pop("PYTHONPATH", None)
        found = probe_interpreter(prepared.python, probe_env, self.wd)
        if not found.get("jupyter_aml"):
            path.append(str(ensure_link_dir(self.cfg.run_dir / "pylink")))
        if not found.get("azureml"):
            path.insert(0, str(SHIM_DIR))
            self.say("azureml.core is provided by the jupyter-aml shim")
        if path:
            env["PYTHONPATH"] = os.pathsep.join(path)
        else:
            env.pop("PYTHONPATH", None)
        return env

    def execute(self, cmd: list[str], env: dict[str, str]) -> Outcome:
        self.journal = JournalShipper(self.api, self.cfg.workspace, self.cfg.run_id, self.cfg.journal,
                                      on_warning=self.say).start()
        self._std_log = open(self.cfg.run_dir / "std_log.txt", "a", encoding="utf-8")  # noqa: SIM115
        self.say("$ " + " ".join(cmd))
        if self.container is not None:
            problem = self.container.start()
            if problem:
                return ("Failed", {"message": problem}, None)
        proc = subprocess.Popen(cmd, cwd=self.wd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True, preexec_fn=_die_with_agent)
        info: dict[str, Any] = {"pid": proc.pid, "pgid": proc.pid}
        if self.container is not None:
            info["container"] = self.container.name
        (self.cfg.run_dir / "script.json").write_text(json.dumps(info))
        assert proc.stdout is not None and proc.stderr is not None
        readers = [threading.Thread(target=self._pump, args=(proc.stdout.fileno(), "stdout"), daemon=True),
                   threading.Thread(target=self._pump, args=(proc.stderr.fileno(), "stderr"), daemon=True)]
        for reader in readers:
            reader.start()
        canceled = False
        while True:
            try:
                proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if self.cancel_event.is_set():
                    canceled = True
                    self.say(f"canceling: {self.cancel_reason}")
                    self._stop_group(proc)
                    break
        kill_group(proc.pid, signal.SIGKILL)  # whatever the script left running in its group
        kill_run_processes(self.cfg.run_id, journal=str(self.cfg.journal))  # and what escaped it (setsid)
        if self.container is not None:
            self.container.end()
        for reader in readers:
            reader.join(timeout=5)
        proc.stdout.close()
        proc.stderr.close()
        code = proc.returncode
        if canceled:
            return ("Canceled", None, code)
        if code == 0:
            return ("Completed", None, 0)
        if self.container is not None and code > 0:
            what = exit_message(code)
        else:
            what = f"script exited with code {code}" if code >= 0 else \
                f"script was killed by signal {signal.Signals(-code).name}"
        return ("Failed", script_error(what, code, list(self.stderr_tail), roots=[str(self.wd)]), code)

    def _stop_group(self, proc: subprocess.Popen[bytes]) -> None:
        if self.container is not None:  # the script is in the container, not in the CLI's group
            self.container.stop(KILL_GRACE)
        kill_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=KILL_GRACE)
        except subprocess.TimeoutExpired:
            kill_group(proc.pid, signal.SIGKILL)
            proc.wait()

    def _pump(self, fd: int, stream: str) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._line(stream, line)
            if len(pending) > 16384:
                self._line(stream, pending)
                pending = b""
        if pending:
            self._line(stream, pending)

    def _line(self, stream: str, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace").rstrip("\r")
        if "\r" in text:  # progress bars: keep the last state
            text = next((part for part in reversed(text.split("\r")) if part), "")
        for start in range(0, max(len(text), 1), MAX_LINE_CHARS):  # the service caps one line's length
            self.logs.add(stream, text[start:start + MAX_LINE_CHARS])
        if stream == "stderr":
            self.stderr_tail.append(text)
        with self._std_lock, contextlib.suppress(OSError, ValueError):
            self._std_log.write(text + "\n")

    # -- the end ---------------------------------------------------------------------------------
    def finish(self, outcome: Outcome) -> int:
        status, error, exit_code = outcome
        cfg = self.cfg
        canceled = status == "Canceled"
        deadline = self._deadline(cfg.cancel_drain_timeout if canceled else cfg.drain_timeout)
        if self.journal is not None:
            try:
                if not canceled:
                    self.set_status("Finalizing")
            except (RunCanceled, AMLError) as exc:
                self.say(f"could not report Finalizing: {exc}")
            if not self.journal.drain(deadline):
                self.say(f"journal not fully delivered: {self.journal.pending} record(s) left")
            if self.journal.rejected_records:
                self.say(f"the service refused {self.journal.rejected_records} journal record(s) it cannot store; "
                         "the run's properties aml.journal.rejected* say why")
            self.journal.close()
            try:  # node k > 0 of a multi-node run uploads its processes' logs; ./outputs comes from node 0
                upload_outputs(self.api, cfg.workspace, cfg.run_id, self.wd, deadline, log=self.say,
                               dirs=() if cfg.node_rank else OUTPUT_DIRS,
                               extra=self.ranks.log_files() if self.ranks is not None else ())
            except (AMLError, OSError) as exc:
                self.say(f"uploading outputs failed: {exc}")
            if self.datasets is not None and self.datasets.outputs and not canceled:
                try:
                    self.datasets.upload_outputs(deadline)
                except (AMLError, OSError) as exc:
                    self.say(f"writing the output datasets failed: {exc}")
                    if status == "Completed":  # a run whose outputs did not land did not complete
                        status, error = "Failed", {"message": f"writing the output datasets failed: {exc}"}
        self.heartbeat.stop()
        if cfg.node_rank:  # node 0 reports the run's status (it heard this node's outcome: agent/gang.py)
            self.say(f"node {cfg.node_rank} done: {status}" + (f" ({error['message']})" if error else ""))
            self.logs.close(deadline)
            return 0 if status == "Completed" else 1
        body: T.StatusUpdate = {"status": cast(T.RunStatus, status)}
        if error:
            body["error"] = cast(T.RunError, error)
        if exit_code is not None:
            body["exit_code"] = exit_code
        self.say(f"final status: {status}" + (f" ({error['message']})" if error else ""))
        self.logs.close(deadline)
        if self._std_log is not None:
            self._std_log.close()
        try:
            retry_until(lambda: self._post_status(body), max(deadline, time.monotonic() + 5))
        except Conflict as exc:
            warn(f"final status {status} refused (the run already ended?): {exc}")
        except AMLError as exc:
            warn(f"could not report the final status {status}: {exc}")
            return 3
        return 0


def main(argv: list[str] | None = None) -> int:
    try:
        cfg = AgentConfig.from_environ()
    except AMLError as exc:
        warn(f"cannot start: {exc}")
        return 2
    warn(f"run {cfg.run_id} in {cfg.run_dir} (pid {os.getpid()})")
    code = Agent(cfg).run()
    warn(f"agent done (exit {code})")
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

