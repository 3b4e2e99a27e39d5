"""The ``ComputeInstance`` compute target: one long-lived Docker container; each run's agent runs inside it.

The container (``aml-ci-<workspace>-<name>-<hash>``, labelled ``aml.kind/aml.root/aml.workspace/aml.compute``) is
started from the base image with ``--network host`` (the agent reaches the service on 127.0.0.1) and the compute's
name as its hostname (as in v1; the host network would otherwise give it the host's), docker's init
as PID 1, the instance's CPU and memory limits, this installation's ``jupyter_aml`` mounted read-only at
``/opt/jupyter-aml`` and on PYTHONPATH, and the host's CA bundle copied in. Nothing is pulled. An instance set
up with a registered environment runs in an image built from it (compute/docker_instance_image.py), reported
through ``on_image`` to the workspace's image registry.

The scripts run inside the container and the engine helpers are in compute/docker_instance_engine.py.

Run folders: the work root is bind-mounted at the same path, so the service reads a run's journal and
``agent.log`` where the agent writes them. Mounts are fixed when a container is created and the service's
work root only arrives with each job, so the instance mounts the ``work_root`` it is constructed with (without
one, the service's default ``<root>-runs/work``, the root known from a ``<root>/computes/<ws>/<name>`` state
folder) and every run's folder is ``<that>/<run id>``, recorded in the agent info. A work root inside or
holding the service's root, the state folder or a protected path is refused. The container runs as the
service's user, so run folders stay the service's. Environments are cached inside the container (a venv is
bound to the image's interpreter), so they live as long as the instance.

Runs: ``docker exec`` (detached) starts a small launcher that forks the agent into a session of its own (its pid
is its process group), writes ``agent.pid.json``, waits for it and writes its exit code to ``agent.exit``. One
monitor task polls the container and each run's exec (or exit file): a run ends with its agent's code, and
every run of a container that stops underneath ends with ``None``. A new backend object finds a run again from
its agent info (container id, exec id, the in-container pid checked against the run's variables).

Notebooks: while the instance is Running its kernelspec "Python (aml: NAME)" (compute/instance_kernel.py) is in
the launcher; it is removed when the instance stops, fails or is deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from jupyter_aml.compute.base import ComputeBackend, ComputeState, ExitCallback, NodeInfo, RunJob
from jupyter_aml.compute.docker_instance_engine import (
    DEFAULT_BASE,
    ENVS_IN,
    EXIT_FILE,
    HOST_ONLY_VARS,
    KIND,
    PKG_IN,
    InstanceRun,
    KernelspecKeeper,
    agent_result,
    boot_container,
    connect,
    create_container,
    docker_sdk,
    host_ca_bundle,
    hostname_of,
    inside,
    launch_agent,
    root_of,
    sanitize,
    signal_run,
)
from jupyter_aml.compute.docker_instance_image import instance_image
from jupyter_aml.compute.local import agent_process_env
from jupyter_aml.core.roots import default_root, default_runs_home
from jupyter_aml.errors import AMLError, ComputeUnavailable, InvalidInput
from jupyter_aml.runtime import env as E

log = logging.getLogger(__name__)

class DockerInstanceBackend(ComputeBackend):
    """A ComputeInstance: one Docker container, up to ``max_concurrent_runs`` agents inside it at once."""

    type_name: ClassVar[str] = "ComputeInstance"

    def __init__(self, name: str, *, state_dir: str, workspace: str = "", image: str | None = None,
                 vcpus: float | None = None, memory_gb: float | None = None, max_concurrent_runs: int = 2,
                 idle_time_before_shutdown_minutes: int | None = None, when_stopped: str = "start",
                 python: str = "python3", work_root: str | None = None, root: str | None = None,
                 user: str | None = None, ca_files: list[str] | None = None, grace_period: float = 20.0,
                 poll_seconds: float = 1.0, idle_seconds: float | None = None,
                 protected_paths: list[str] | None = None, environment: dict[str, Any] | None = None,
                 on_image: Callable[[dict[str, Any]], None] | None = None, **settings: Any) -> None:
        """The service passes the record's fields (image, vcpus/memory_gb from the VM size, ...). Beyond them:
        ``work_root`` (the folder shared with the container), ``root`` and ``protected_paths`` (never mounted),
        ``user`` (default: the service's uid:gid), ``ca_files`` (extra CAs to trust), ``grace_period`` (cancel's
        SIGTERM-to-SIGKILL wait), ``poll_seconds`` (the monitor's period) and ``idle_seconds`` (overrides
        ``idle_time_before_shutdown_minutes``); ``environment`` (a registered environment's definition: the
        image is built from it) and ``on_image`` (told of each image built or reused, for the image registry)."""
        super().__init__(name, max_concurrent_runs=max_concurrent_runs, **settings)
        if when_stopped not in ("start", "refuse"):
            raise InvalidInput(f"compute {name!r}: when_stopped must be 'start' or 'refuse', not {when_stopped!r}")
        self.state_dir = Path(state_dir)
        self.workspace = workspace
        self.environment, self.on_image = environment, on_image
        self.image = ((environment or {}).get("docker_base_image") or image
                      or os.environ.get("JUPYTER_AML_DOCKER_BASE_IMAGE") or DEFAULT_BASE)
        self.base_image = self.image  # with an environment, self.image becomes the image built from it
        self.image_built: bool | None = None  # whether the last create built its image (False: reused)
        self.vcpus, self.memory_gb = vcpus, memory_gb
        self.idle_time_before_shutdown_minutes = idle_time_before_shutdown_minutes
        self.idle_after = idle_seconds if idle_seconds is not None else (
            idle_time_before_shutdown_minutes * 60.0 if idle_time_before_shutdown_minutes else None)
        self.when_stopped = when_stopped  # read by the service: start a Stopped instance for a queued run, or refuse
        self.python = python
        self.root = Path(root).absolute() if root else root_of(self.state_dir.absolute())
        default_work = default_runs_home(self.root) / "work" if self.root else None
        self.work_root = Path(work_root).absolute() if work_root else default_work
        self.protected = [Path(p) for p in protected_paths or ()]  # the service's root among them
        self.user = user or f"{os.getuid()}:{os.getgid()}"
        self.ca_files = ca_files
        self.grace_period, self.poll_seconds = grace_period, poll_seconds
        owner = str(self.root or self.state_dir.absolute())
        self.labels = {"aml.kind": KIND, "aml.root": owner, "aml.workspace": workspace, "aml.compute": name}
        digest = hashlib.sha256(f"{owner}\0{workspace}\0{name}".encode()).hexdigest()[:8]
        self.container_name = f"aml-ci-{sanitize(workspace)}-{sanitize(name)}"[:110] + f"-{digest}"
        self.hostname = hostname_of(name)  # v1's: the name, not the host's (which --network host would give)
        self.container_id: str | None = None
        self.cpu_limit: float | None = vcpus
        self.stopped_reason: str | None = None
        self._state: ComputeState = "Creating"
        self._known = False  # whether provision (or reattach) has looked at the engine yet
        self._client: Any = None
        self._runs: dict[str, InstanceRun] = {}
        self._lock = asyncio.Lock()
        self._monitor_task: asyncio.Task[None] | None = None
        self._kernelspec = KernelspecKeeper(name, self.container_name, workspace=workspace, python=python)
        self._last_busy = time.monotonic()

    # -- what the queue and the studio see -----------------------------------------------------------------------
    def state(self) -> ComputeState:
        return self._state

    def waiting_reason(self, running: int) -> str:
        if self._state == "Running":
            return super().waiting_reason(running)
        why = f" ({self.error})" if self._state == "Failed" and self.error else ""
        return f"instance {self.name} is {self._state}{why}" + (": start it" if self._state in ("Stopped", "Failed")
                                                                 else "")

    def nodes(self) -> list[NodeInfo]:
        runs = tuple(sorted(self._runs))
        if self._state == "Running":
            return [NodeInfo(self.container_name, "busy" if runs else "idle", runs)]
        node_state = {"Creating": "starting", "Starting": "starting", "Restarting": "starting",
                      "Stopping": "leaving", "Failed": "unusable"}.get(self._state)
        return [NodeInfo(self.container_name, node_state, runs)] if node_state else []  # type: ignore[arg-type]

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "container_name": self.container_name, "container_id": self.container_id,
                "image": self.image, "vcpus": self.vcpus, "cpu_limit": self.cpu_limit, "memory_gb": self.memory_gb,
                "work_root": str(self.work_root or "") or None, "when_stopped": self.when_stopped,
                "idle_time_before_shutdown_minutes": self.idle_time_before_shutdown_minutes,
                "stopped_reason": self.stopped_reason}

    def _set_state(self, state: ComputeState, error: str | None = None) -> None:
        if (state, error) != (self._state, self.error):
            changed = state != self._state
            self._state, self.error = state, error
            if changed and state in ("Running", "Stopped", "Failed", "Deleting"):
                self._kernelspec.set(state == "Running")
            self.notify()

    # -- the engine ----------------------------------------------------------------------------------------------
    def _engine(self) -> Any:
        if self._client is None:
            self._client = connect(60)
        return self._client

    def _check_mounts(self) -> Path:
        """The work root to mount; never one inside (or holding) the service's root, the compute's state folder or
        a protected path."""
        if self.work_root is None:
            raise InvalidInput(f"compute {self.name!r}: no work_root to share run folders through",
                               hint="give the instance the service's work root (work_root=...)")
        work = self.work_root.resolve()
        for private in [r for r in (self.root, default_root(), self.state_dir, *self.protected) if r is not None]:
            private = private.absolute().resolve()
            if inside(work, private) or inside(private, work):
                raise InvalidInput(f"compute {self.name!r}: its work root {self.work_root} would show {private} to "
                                   "the container, which holds the service's secrets",
                                   hint="give the instance a work_root outside the root (the service's own work "
                                   "root, <root>-runs/work, is)")
        return self.work_root

    def _check_image(self, client: Any) -> Any:
        if (self.environment or {}).get("docker_base_dockerfile"):
            return None  # the image is built from the environment's Dockerfile when the instance is created
        try:
            return client.images.get(self.image)
        except docker_sdk().errors.ImageNotFound:
            raise InvalidInput(f"the image {self.image!r} is not in the Docker engine, and nothing is pulled here",
                               hint="build or load it first (docker build, docker import or docker load), or "
                               "name an image the engine has (the compute's image, or "
                               "$JUPYTER_AML_DOCKER_BASE_IMAGE)") from None

    def _find(self) -> Any | None:
        try:
            container = self._engine().containers.get(self.container_name)
        except docker_sdk().errors.NotFound:
            return None
        labels = container.labels or {}
        if any(labels.get(k) != v for k, v in self.labels.items()):
            raise InvalidInput(f"a container named {self.container_name} exists but is not instance {self.name!r}'s",
                               hint=f"remove it (docker rm -f {self.container_name}) or rename the compute")
        return container

    def _create(self) -> Any:
        client = self._engine()
        work_root = self._check_mounts()
        if self.environment is not None:
            self._image_from_environment(client)
        else:
            self._check_image(client)
        work_root.mkdir(parents=True, exist_ok=True, mode=0o700)
        container, self.cpu_limit = create_container(
            client, self.image, self.python, name=self.container_name, labels=self.labels, hostname=self.hostname,
            user=self.user, work_root=work_root, vcpus=self.vcpus, memory_gb=self.memory_gb,
            ca_bundle=host_ca_bundle(self.ca_files), what=f"instance {self.name!r}")
        return container

    def _image_from_environment(self, client: Any) -> None:
        assert self.environment is not None
        built = instance_image(client, self.environment, self.base_image, python=self.python,
                               ca_bundle=host_ca_bundle(self.ca_files), what=f"instance {self.name!r}",
                               on_line=lambda line: log.info("instance %r: %s", self.name, line))
        self.image, self.image_built = built.tag, built.built
        if self.on_image is not None:
            try:
                self.on_image(built.record(self.environment))
            except Exception:  # the registry's loss, not the instance's: it runs in the image all the same
                log.exception("instance %r: could not record its image %s", self.name, built.tag)

    def _boot(self, container: Any, restart: bool = False) -> None:
        """Start (or restart) the container and check that the agent can run in it."""
        boot_container(container, self.image, self.python, restart=restart)
        self.container_id = container.id

    def _status(self) -> dict[str, Any] | None:
        """The container's State (None when it is gone)."""
        try:
            container = self._engine().containers.get(self.container_name)
        except docker_sdk().errors.NotFound:
            return None
        self.container_id = container.id
        return dict(container.attrs.get("State") or {})

    # -- the lifecycle -------------------------------------------------------------------------------------------
    async def check(self) -> None:
        def check() -> None:
            self._check_mounts()
            client = connect(5)
            try:
                self._check_image(client)
            finally:
                client.close()

        await asyncio.to_thread(check)

    async def provision(self) -> None:
        async with self._lock:
            try:
                await self._adopt_or_create()
            except AMLError as exc:
                self._set_state("Failed", exc.message)
                raise
            except Exception as exc:
                self._set_state("Failed", f"{exc.__class__.__name__}: {exc}")
                raise ComputeUnavailable(f"instance {self.name!r} could not be provisioned: {exc}",
                                         hint="see the Docker engine's log") from exc
        await self._kernelspec.written()
        self._ensure_monitor()

    async def _adopt_or_create(self, create: bool = True) -> bool:
        container = await asyncio.to_thread(self._find)
        self._known = True
        if container is None and not create:
            return False
        if container is not None:  # a restarted service finds its instance
            self.container_id = container.id
            self.cpu_limit = int((container.attrs.get("HostConfig") or {}).get("NanoCpus") or 0) / 1e9 or None
            self.image = str((container.attrs.get("Config") or {}).get("Image") or self.image)
            status = container.status
            log.info("instance %r: adopting container %s (%s)", self.name, self.container_name, status)
            if status == "running":
                self._set_state("Running")
            elif status in ("dead", "removing"):
                self._set_state("Failed", f"the container {self.container_name} is {status}")
            else:
                self._set_state("Stopped")
            return True
        self._set_state("Creating")
        container = await asyncio.to_thread(self._create)
        await asyncio.to_thread(self._boot, container)
        self._last_busy = time.monotonic()
        self._set_state("Running")
        return True

    async def start_compute(self) -> None:
        await self._bring_up("Starting")

    async def restart_compute(self) -> None:
        await self._bring_up("Restarting")

    async def _bring_up(self, state: ComputeState) -> None:
        """Start (idempotent) or restart the container, making it anew if it was removed behind our back."""
        restart = state == "Restarting"
        async with self._lock:
            if not self._known:
                await self._adopt_or_create()
            if self._state in ("Running", "Creating", "Starting") and not restart:
                return
            if self._state in ("Deleting", "Creating", "Starting", "Stopping", "Restarting"):
                raise InvalidInput(f"instance {self.name!r} is {self._state}: wait for it to finish")
            self._set_state(state)
            self.stopped_reason = None
            try:
                container = await asyncio.to_thread(self._find) or await asyncio.to_thread(self._create)
                if restart:
                    await self._lose_runs(f"instance {self.name} was restarted")
                await asyncio.to_thread(self._boot, container, restart)
            except AMLError as exc:
                self._set_state("Failed", exc.message)
                raise
            except Exception as exc:
                self._set_state("Failed", f"{exc.__class__.__name__}: {exc}")
                raise ComputeUnavailable(f"instance {self.name!r} did not start: {exc}") from exc
            self._last_busy = time.monotonic()
            self._set_state("Running")
        await self._kernelspec.written()
        self._ensure_monitor()

    async def stop_compute(self, reason: str = "stopped by request", *, if_idle: bool = False) -> None:
        async with self._lock:
            if not self._known:
                await self._adopt_or_create(create=False)
            if self._state in ("Stopped", "Deleting") or (if_idle and self._runs):
                return
            if self._state not in ("Running", "Failed"):
                raise InvalidInput(f"instance {self.name!r} is {self._state}: wait for it to finish")
            self._set_state("Stopping")
            container = await asyncio.to_thread(self._find)
            if container is not None:
                await asyncio.to_thread(container.stop, timeout=10)
            await self._lose_runs(f"instance {self.name} was stopped")
            self.stopped_reason = reason
            self._set_state("Stopped")
        await self._kernelspec.written()

    async def destroy(self) -> None:
        async with self._lock:
            self._set_state("Deleting")
            await self._lose_runs(f"instance {self.name} was deleted")

            def remove() -> None:
                with contextlib.suppress(docker_sdk().errors.NotFound):
                    self._engine().containers.get(self.container_name).remove(force=True)

            await asyncio.to_thread(remove)
        await self._kernelspec.written()
        await self.shutdown()

    async def shutdown(self) -> None:
        """Stop watching; the container and its runs keep going (a new backend object reattaches)."""
        if self._monitor_task is not None:
            self._monitor_task.cancel()
        self._monitor_task = None
        self._runs.clear()

    # -- the monitor ---------------------------------------------------------------------------------------------
    def _ensure_monitor(self) -> None:
        if self._monitor_task is None or self._monitor_task.done():
            self._monitor_task = asyncio.ensure_future(self._monitor())

    async def _monitor(self) -> None:
        while True:
            try:
                await self._tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("watching instance %r failed", self.name, exc_info=True)
            await asyncio.sleep(self.poll_seconds)

    async def _tick(self) -> None:
        if self._lock.locked():
            return  # a start, stop or restart is under way
        status = await asyncio.to_thread(self._status)
        running = bool(status and status.get("Running"))
        if self._state == "Running" and not running and not self._lock.locked():
            if status is None:
                reason = f"the container {self.container_name} was removed"
            else:
                reason = (f"the container {self.container_name} stopped unexpectedly "
                          f"(exit code {status.get('ExitCode')}" + (", out of memory" if status.get("OOMKilled")
                                                                    else "") + ")")
            log.warning("instance %r: %s", self.name, reason)
            self._set_state("Failed", reason)
            await self._lose_runs(reason)
            return
        if self._state == "Stopped" and running and not self._lock.locked():
            self._set_state("Running")  # started outside the service (docker start)
            self._last_busy = time.monotonic()
        if self._state != "Running":
            return
        for run_id, run in list(self._runs.items()):
            ended, code = await asyncio.to_thread(self._result, run)
            if ended:
                await self._finish(run_id, code)
        if self._runs:
            self._last_busy = time.monotonic()
        elif self.idle_after is not None and time.monotonic() - self._last_busy >= self.idle_after:
            log.info("instance %r: idle for %g s, stopping it", self.name, self.idle_after)
            await self.stop_compute(reason=f"idle for {self.idle_after:g} s (idle_time_before_shutdown)", if_idle=True)

    # -- runs ----------------------------------------------------------------------------------------------------
    def _agent_env(self, job: RunJob) -> dict[str, str]:
        env = {k: v for k, v in agent_process_env(job).items() if k not in HOST_ONLY_VARS}
        env[E.AGENT_PYTHONPATH] = PKG_IN
        env[E.ENV_CACHE] = ENVS_IN
        return env

    async def start(self, job: RunJob, on_exit: ExitCallback) -> dict[str, Any]:
        if self._state != "Running":
            raise ComputeUnavailable(f"instance {self.name!r} is {self._state}", hint="start it")
        work_root = self._check_mounts()
        job = dataclasses.replace(job, work_root=work_root)  # the folder the container sees
        run_dir = E.run_dir(work_root, job.run_id)
        env = self._agent_env(job)

        def launch() -> dict[str, Any]:
            return launch_agent(self._engine().api, self.container_name, self.python, user=self.user, env=env,
                                run_dir=run_dir, journal=E.journal_path(work_root, job.run_id),
                                container_id=self.container_id, what=f"instance {self.name!r}")

        info = await asyncio.to_thread(launch)
        self._runs[job.run_id] = InstanceRun(job.run_id, info, on_exit)
        self._last_busy = time.monotonic()
        self.notify()
        self._ensure_monitor()
        return info

    def _result(self, run: InstanceRun) -> tuple[bool, int | None]:
        def running() -> bool:
            status = self._status()
            return bool(status and status.get("Running"))

        return agent_result(self._engine(), self.container_name, run, self.python, user=self.user,
                            container_running=running)

    async def _finish(self, run_id: str, code: int | None) -> None:
        run = self._runs.pop(run_id, None)
        if run is None:
            return
        self._last_busy = time.monotonic()
        self.notify()
        if run.on_exit is not None:
            try:
                await run.on_exit(run_id, code)
            except Exception:
                log.exception("on_exit callback failed for run %s", run_id)

    async def _lose_runs(self, reason: str) -> None:
        for run_id in list(self._runs):
            log.warning("run %s ended without an exit code: %s", run_id, reason)
            await self._finish(run_id, None)

    def _signal(self, run: InstanceRun, sig: int, *, sweep: bool) -> None:
        with contextlib.suppress(docker_sdk().errors.NotFound, docker_sdk().errors.APIError):
            signal_run(self._engine().containers.get(self.container_name), run, self.python, sig, sweep=sweep,
                       user=self.user)

    async def kill(self, run_id: str) -> None:
        """No grace and no SIGTERM: the agent stopped answering, its script must not run on."""
        run = self._runs.get(run_id)
        if run is not None and self._state == "Running":
            await asyncio.to_thread(self._signal, run, signal.SIGKILL, sweep=True)

    async def cancel(self, run_id: str, grace: float | None = None) -> None:
        """SIGTERM to the agent's group (it stops the script and reports Canceled), then after the grace period
        SIGKILL to the agent's and the script's groups and to every process carrying the run's variables."""
        run = self._runs.get(run_id)
        if run is None or self._state != "Running":
            return
        await asyncio.to_thread(self._signal, run, signal.SIGTERM, sweep=False)
        deadline = time.monotonic() + (self.grace_period if grace is None else grace)
        while time.monotonic() < deadline and not (run.run_dir / EXIT_FILE).exists():
            await asyncio.sleep(0.1)
        await asyncio.to_thread(self._signal, run, signal.SIGKILL, sweep=True)

    async def is_alive(self, run_id: str, agent_info: dict[str, Any]) -> bool:
        if Path(str(agent_info.get("run_dir", ""))).name != run_id or "pid" not in agent_info:
            return False
        status = await asyncio.to_thread(self._status)
        if not (status and status.get("Running")) or agent_info.get("container") != self.container_id:
            return False  # the container stopped (or was made anew) since: nothing of the run survived
        ended, _ = await asyncio.to_thread(self._result, InstanceRun(run_id, dict(agent_info), None))
        return not ended

    async def reattach(self, run_id: str, agent_info: dict[str, Any], on_exit: ExitCallback) -> bool:
        """After a service restart: watch a run this object did not start; ``on_exit`` gets its agent's code."""
        if not self._known:
            async with self._lock:
                if not await self._adopt_or_create(create=False):
                    return False
        if not await self.is_alive(run_id, agent_info):
            return False
        self._runs[run_id] = InstanceRun(run_id, dict(agent_info), on_exit)
        self._last_busy = time.monotonic()
        self.notify()
        self._ensure_monitor()
        return True
