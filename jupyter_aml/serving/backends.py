"""Where replicas run: one contract (``ReplicaLauncher`` / ``ReplicaHandle``) and the local-process backend.

A launcher prepares a revision once (folders, environment, image) and then starts any number of replicas
of it; a handle is one running replica: its address, whether it exited, how it failed, how to stop it.
Launchers are chosen by the deployment's ``compute_type`` through the ``jupyter_aml.serving`` entry-point group
(as compute backends are through ``jupyter_aml.compute``), never by if-chains in the manager.
"""

from __future__ import annotations

import abc
import asyncio
import collections
import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, ClassVar

from jupyter_aml.compute.runners import Runner, build_runner
from jupyter_aml.core.deployments import RevisionPlan
from jupyter_aml.core.secretbox import MASTER_KEY_ENV
from jupyter_aml.serving import warm
from jupyter_aml.store.blobs import BlobStore

logger = logging.getLogger(__name__)
LogFn = Callable[[str], None]
REPLICA_MAX_BYTES = 1024**3 + 1
SECRET_VARS = frozenset({"JUPYTER_TOKEN", "JPY_API_TOKEN", "JUPYTERHUB_API_TOKEN", "JUPYTER_SERVER_TOKEN",
                         "AML_SERVICE_TOKEN", "JUPYTER_AML_TOKEN", MASTER_KEY_ENV})


class ReplicaFailed(Exception):
    """A replica (or a whole revision) could not start; ``message`` says why in the user's terms."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class PreparedRevision:
    plan: RevisionPlan
    rev_dir: Path
    env: dict[str, str]  # the replica's environment (model dir, variables of the environment, ...)
    replica_config: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)  # backend specifics (interpreter, image tag)


class ReplicaHandle(abc.ABC):
    host: str = "127.0.0.1"
    port: int = 0

    @property
    @abc.abstractmethod
    def pid(self) -> int | None: ...

    @abc.abstractmethod
    def exit_code(self) -> int | None:
        """None while the replica runs."""

    @abc.abstractmethod
    def failure(self) -> str:
        """Why the replica stopped, for the user (the scoring script's own message when there is one)."""

    @abc.abstractmethod
    async def terminate(self, grace: float) -> None:
        """Ask the replica to drain and exit; kill it after ``grace`` seconds."""

    @abc.abstractmethod
    def kill(self) -> None: ...


class ReplicaLauncher(abc.ABC):
    compute_type: ClassVar[str]
    # How replicas that are processes of this machine start (set by the manager: the local compute target's
    # runner, so a scoring script is as confined as a run's script); launchers of other kinds ignore it.
    runner: Runner | None = None
    work_root: Path | None = None  # the runs' folders: hidden from replicas too

    def __init__(self, *, root: Path, blobs: BlobStore, images: Any = None) -> None:
        self.root = root
        self.blobs = blobs
        self.images = images  # the workspace's image registry (core.images.ImageRegistry), for builders

    @abc.abstractmethod
    async def prepare(self, plan: RevisionPlan, rev_dir: Path, log: LogFn) -> PreparedRevision: ...

    @abc.abstractmethod
    async def launch(self, prepared: PreparedRevision, index: int, log: LogFn) -> ReplicaHandle:
        """Start replica ``index``; return once its address is known (readiness is polled by the caller)."""

    async def cleanup(self, prepared: PreparedRevision) -> None:
        shutil.rmtree(prepared.rev_dir, ignore_errors=True)

    async def forget(self, workspace: str, name: str) -> None:
        """The service stopped: remove anything of it that outlived its replicas (e.g. containers)."""
        return None  # processes leave with their process group; nothing else to remove


# -- local processes ------------------------------------------------------------------------------------------
class LocalProcess(ReplicaHandle):
    def __init__(self, proc: asyncio.subprocess.Process, status_file: Path, tail: collections.deque[str],
                 *, wrapped: bool = False) -> None:
        self.proc = proc
        self.status_file = status_file
        self.tail = tail
        self.pump: asyncio.Task[None] | None = None
        self.wrapped = wrapped  # proc is a sandbox (bwrap) that ignores SIGTERM: the group hears it instead

    @property
    def pid(self) -> int | None:
        return self.proc.pid

    def exit_code(self) -> int | None:
        return self.proc.returncode

    def status(self) -> dict[str, Any]:
        try:  # never through a link the replica put there
            with os.fdopen(os.open(self.status_file, os.O_RDONLY | os.O_NOFOLLOW)) as handle:
                return dict(json.loads(handle.read()))
        except (OSError, ValueError, TypeError):
            return {}

    def failure(self) -> str:
        error = self.status().get("error")
        if error:
            return str(error)
        code = self.proc.returncode
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
        last = " | ".join(list(self.tail)[-5:])
        return f"the replica process {how}" + (f"; last output: {last}" if last else "")

    async def terminate(self, grace: float) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if self.wrapped:
                    os.killpg(self.proc.pid, signal.SIGTERM)  # reaches the replica inside the sandbox
                else:
                    os.kill(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.proc.wait(), grace)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever the scoring script started
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.proc.wait(), 5)
        if self.pump is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.pump, 2)

    def kill(self) -> None:
        if self.proc.returncode is None:  # once reaped, its id may belong to someone else
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # the replica and whatever the scoring script started


class LocalProcessLauncher(ReplicaLauncher):
    """Replicas as processes of this machine, in the environment's interpreter (a cached venv or yours)."""

    compute_type = "local"

    async def prepare(self, plan: RevisionPlan, rev_dir: Path, log: LogFn) -> PreparedRevision:
        prepared = await asyncio.to_thread(self._prepare, plan, rev_dir, log)
        warm.pool_for(self.root).ensure(prepared, self._runner(), self.work_root)  # ahead of the next replica
        return prepared

    def _prepare(self, plan: RevisionPlan, rev_dir: Path, log: LogFn) -> PreparedRevision:
        from jupyter_aml.envbuild.venv import (
            PKG_DIR,
            EnvBuildError,
            ensure_link_dir,
            interpreter_spec,
            prepare_environment,
        )
        from jupyter_aml.serving.materialize import materialize_model, materialize_source, model_layout

        rev_dir.mkdir(parents=True, exist_ok=True)
        source = materialize_source(self.blobs, rev_dir / "src", plan.source_files)
        cached = [materialize_model(self.blobs, self.root / "models", m) for m in plan.models]
        model_dir, models = model_layout(rev_dir, plan, cached)
        try:
            spec = interpreter_spec(plan.environment)
            prepared = prepare_environment(spec, self.root.parent / "envs", log=log)  # shared with runs
        except EnvBuildError as exc:
            raise ReplicaFailed(f"the environment could not be built: {exc.message}\n{exc.tail}".rstrip()) from exc
        link = ensure_link_dir(self.root / "pylink")
        env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS and not k.startswith("AML_RUN")}
        for var in ("PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"):
            env.pop(var, None)
        env.update(spec["env_vars"])
        if prepared.venv is not None:
            env["VIRTUAL_ENV"] = str(prepared.venv)
            env["PATH"] = str(prepared.venv / "bin") + os.pathsep + env.get("PATH", "")
        env.update({
            "PYTHONPATH": str(link),  # this installation's jupyter_aml, nothing else of the service's
            "PYTHONUNBUFFERED": "1",
            "AZUREML_MODEL_DIR": model_dir,
            "AML_MODELS": json.dumps(models),
            "AZUREML_ENTRY_SCRIPT": plan.entry_script,
            "AML_SERVICE_NAME": plan.name,
            "AML_WORKSPACE": plan.workspace,
        })
        config = plan.deployment_config
        replica_config = {
            "entry_script": str(source / plan.entry_script),
            "source_dir": str(source),
            "host": "127.0.0.1",
            "port": 0,
            "max_request_bytes": REPLICA_MAX_BYTES,  # the balancer enforces the service's own limit
            "max_concurrent_requests": int(config.get("max_concurrent_requests_per_container", 1)),
            "max_batch_size": int(config.get("max_batch_size") or 1),  # > 1: run_batch() (dynamic batching)
            "drain_seconds": min(60.0, int(config.get("scoring_timeout_ms", 60000)) / 1000),
            "parent_pid": os.getpid(),
            "token": secrets.token_urlsafe(24),
            "data_collection": config.get("data_collection", {}) if config.get("collect_model_data") else None,
        }
        # What the replica reads inside the service's root besides its revision folder: this revision's models,
        # the link to this installation (and the installation itself), the environment.
        shown = [*cached, link, PKG_DIR, *([prepared.venv] if prepared.venv is not None else [])]
        return PreparedRevision(plan, rev_dir, env, replica_config,
                                {"python": prepared.python, "read_only": [str(p) for p in shown],
                                 "model_paths": [str(p) for p in cached]})

    def _runner(self) -> Runner:
        if self.runner is None:  # not set by a manager: the safe default, hiding at least the serving root
            self.runner = build_runner("auto", protected=[self.root])
        return self.runner

    async def launch(self, prepared: PreparedRevision, index: int, log: LogFn) -> ReplicaHandle:
        # The replica's only writable folder (under a sandbox): its status files. The rest of the revision is
        # read-only to it, so it cannot plant links that the service would follow when it prepares it again.
        state = prepared.rev_dir / "replicas"
        state.mkdir(mode=0o700, exist_ok=True)
        status = state / f"replica-{index}-{time.monotonic_ns()}.json"
        runner = self._runner()
        config = dict(prepared.replica_config)
        if runner.own_pid_namespace:  # our pid means nothing inside: it watches its parent, which dies with us
            config["parent_pid"] = 0
        env = {**prepared.env, "AML_REPLICA_CONFIG": json.dumps(config),
               "AML_REPLICA_STATUS": str(status), "AML_REPLICA_INDEX": str(index)}
        taken = await warm.pool_for(self.root).take(prepared, runner, self.work_root, env, config, index, log)
        if taken is not None:  # an idle process of this environment, its packages already imported
            idle, status = taken
            became = WarmProcess(idle.proc, status, idle.tail, wrapped=idle.wrapped, slot=idle.slot)
            became.pump = idle.pump
            return await _listening(became)
        shown = [prepared.rev_dir, *(Path(p) for p in prepared.extra.get("read_only", ()))]
        how = runner.launch([prepared.extra["python"], "-m", "jupyter_aml.serving.replica"], env,
                            run_dir=state, work_root=self.work_root or state, env_cache=state, read_only=shown,
                            die_with_parent=True)
        proc = await asyncio.create_subprocess_exec(
            *how.argv,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env=how.env, cwd=prepared.replica_config["source_dir"], start_new_session=True,
            preexec_fn=_ignore_sigterm if how.ignore_sigterm else None,
        )
        tail: collections.deque[str] = collections.deque(maxlen=40)
        handle = LocalProcess(proc, status, tail, wrapped=how.ignore_sigterm)
        handle.pump = asyncio.ensure_future(_pump(proc.stdout, tail, log))
        listening = await _listening(handle)
        warm.pool_for(self.root).learn(prepared, status)  # what it imports, the next one imports ahead of need
        return listening


class WarmProcess(LocalProcess):
    """A replica that was an idle warm process (``jupyter_aml.serving.warm``): its slot folder goes with it."""

    def __init__(self, proc: asyncio.subprocess.Process, status_file: Path, tail: collections.deque[str],
                 *, wrapped: bool, slot: Path) -> None:
        super().__init__(proc, status_file, tail, wrapped=wrapped)
        self.slot = slot

    async def terminate(self, grace: float) -> None:
        await super().terminate(grace)
        await asyncio.to_thread(shutil.rmtree, self.slot, True)


async def _listening(handle: LocalProcess) -> LocalProcess:
    """Wait until the replica reports its port; raise its own error if it stops first."""
    proc = handle.proc
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info = handle.status()
        if "port" in info:
            handle.port = int(info["port"])
            return handle
        if "error" in info or proc.returncode is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), 5)
            if handle.pump is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(handle.pump, 2)
            raise ReplicaFailed(handle.failure())
        await asyncio.sleep(0.02)
    handle.kill()
    raise ReplicaFailed("the replica process did not start listening within 60 s")


def _ignore_sigterm() -> None:  # in the child between fork and exec: the sandbox outlives the polite SIGTERM
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


async def _pump(stream: asyncio.StreamReader | None, tail: collections.deque[str], log: LogFn) -> None:
    if stream is None:
        return
    while True:
        try:
            raw = await stream.readline()
        except (ValueError, asyncio.LimitOverrunError):  # an over-long line: read what is there
            raw = await stream.read(1 << 16)
        if not raw:
            return
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        tail.append(line)
        log(line)


ENTRY_POINT_GROUP = "jupyter_aml.serving"
BUILT_IN: dict[str, str] = {  # used when the package metadata is missing (a source tree on sys.path)
    "local": "jupyter_aml.serving.backends:LocalProcessLauncher",
    "docker": "jupyter_aml.serving.docker:DockerLauncher",
}


def launcher_types() -> dict[str, EntryPoint]:
    """Launchers by compute type, from the ``jupyter_aml.serving`` entry-point group (not yet imported)."""
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    for name, value in BUILT_IN.items():
        found.setdefault(name, EntryPoint(name, value, ENTRY_POINT_GROUP))
    return found


def launcher_for(compute_type: str) -> type[ReplicaLauncher]:
    """The launcher class of a compute type, imported on first use (the docker SDK only when needed).

    A plugin that fails to import or is not a ``ReplicaLauncher`` is logged and skipped: the deployment
    fails with a clear error, the service stays up."""
    types = launcher_types()
    ep = types.get(compute_type)
    if ep is not None:
        try:
            cls = ep.load()
        except Exception:  # a broken plugin must not take the service down
            logger.exception("serving launcher plugin %r failed to load; skipping it", compute_type)
            cls = None
        if isinstance(cls, type) and issubclass(cls, ReplicaLauncher):
            return cls
        if cls is not None:
            logger.error("serving launcher plugin %r is %r, not a ReplicaLauncher; skipping it", compute_type, cls)
    usable = sorted(name for name in types if name != compute_type)
    raise ReplicaFailed(
        f"no usable launcher for compute type {compute_type!r} (installed: {', '.join(usable) or 'none'}); "
        "see the workspace service's log"
    )
