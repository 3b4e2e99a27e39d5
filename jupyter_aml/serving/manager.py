"""The deployment manager: runs in the workspace service process and makes web service records true.

For each service it keeps a ``Front`` (the load balancer on the service's port) and the revision taking
traffic. A create or update rolls out a new revision beside the old one: prepare (model files, scoring
code, environment or image), start its replicas, wait until every one answers ``/health/ready``, then
switch traffic at once and drain the old replicas (requests in flight finish) before stopping them. A
revision that fails to start never takes traffic; an update that fails leaves the old revision serving.

A supervisor task per service watches the replicas: an exited replica is replaced (with backoff when it
keeps crashing), one the balancer could not reach is probed and either restored or replaced. Telemetry
counted by the balancer is flushed to the store every few seconds. After a restart of the workspace
service every service that was running is started again on its port. Autoscaling (``autoscale``), the
hung-replica guard (``guard``) and crash restarts (``pool.restart``) grow and shrink the replica set through
``pool``; their events are in the service's telemetry.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import os
import shutil
import time
from collections.abc import Mapping

from jupyter_aml.compute.runners import BubblewrapRunner, Runner, SameUserRunner, build_runner
from jupyter_aml.core import registry_models as rm
from jupyter_aml.core.deployments import FAILED, HEALTHY, TRANSITIONING, UNHEALTHY, RevisionPlan
from jupyter_aml.core.service import AMLService
from jupyter_aml.errors import Conflict, NotFound, ServiceUnavailable
from jupyter_aml.serving import autoscale, batching, guard, pool
from jupyter_aml.serving.backends import PreparedRevision, ReplicaFailed, ReplicaLauncher, launcher_for
from jupyter_aml.serving.collect_sink import sink_for
from jupyter_aml.serving.front import DEAD, DRAINING, READY, STARTING, SUSPECT, Front, Replica, Revision
from jupyter_aml.serving.live import Live
from jupyter_aml.serving.logs import ServiceLog, tail_file
from jupyter_aml.serving.proxy import ConnectionPool, ReplicaDown
from jupyter_aml.serving.swagger import build_swagger, declared_schema

log = logging.getLogger("jupyter_aml.serving")

TICK = 0.25
PROBE_EVERY = 2.0
FLUSH_EVERY = 5.0
STOP_GRACE = 10.0


class DeploymentManager:
    def __init__(self, service: AMLService, *, host: str | None = None) -> None:
        self.service = service
        self.store = service.deployments
        self.host = host or os.environ.get("JUPYTER_AML_SERVING_HOST", "127.0.0.1")
        self.store.host = self.host
        self.root = service.settings.root / "serving"
        self.runner: Runner | None = None  # how local replicas start: see use_runner_of
        self.live: dict[tuple[str, str], Live] = {}
        self._flusher: asyncio.Task[None] | None = None
        self.data_sink = sink_for(service)  # collect_model_data: spooled rows -> workspaceblobstore

    def use_runner_of(self, backends: Mapping[str, object]) -> None:
        """Start local replicas the way the first local compute target starts runs (bubblewrap, same-user),
        so a scoring script reaches no more of the service than a training script does.

        A dedicated user could not read the revision's files in the service's 0700 root: replicas then
        run in a bubblewrap sandbox when one starts here, else as the service's user (with a warning)."""
        runner = next((r for b in backends.values() if isinstance(r := getattr(b, "runner", None), Runner)), None)
        if isinstance(runner, (BubblewrapRunner, SameUserRunner)):
            self.runner = runner
        else:
            self.runner = build_runner("auto", protected=[self.service.settings.root])
            if runner is not None:
                log.warning("web-service replicas cannot run as the %r runner's user; they use the %r runner",
                            runner.name, self.runner.name)

    def _replica_runner(self) -> Runner:
        if self.runner is None:
            self.use_runner_of({})
        assert self.runner is not None
        return self.runner

    # -- lifecycle of the manager -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Start again every service that was running before this process started."""
        self._flusher = asyncio.ensure_future(self._flush_loop())
        for workspace, name in await asyncio.to_thread(self.store.to_restore):
            try:
                await self._restore(workspace, name)
            except Exception:
                log.exception("could not restore web service %s/%s", workspace, name)

    async def _restore(self, workspace: str, name: str) -> None:
        svc = await asyncio.to_thread(self.store.get, workspace, name)
        dep_id = await asyncio.to_thread(self.store.get_id, workspace, name)
        if svc.pending_models is not None and svc.revision > 0:
            revision = svc.operation.revision if svc.operation else 0
            await asyncio.to_thread(self.store.finish, dep_id, revision,
                                    error={"message": "the update was interrupted by a restart of the service"})
        live = self._open(dep_id, workspace, name)
        await self._configure(live)
        try:
            self._listen(live, svc.port or 0)
        except Conflict as exc:
            await asyncio.to_thread(self.store.set_state, dep_id, UNHEALTHY, error=exc.to_dict())
            return
        live.log.write("the workspace service restarted: starting the web service again")
        pending = svc.revision == 0
        plan = await asyncio.to_thread(self.store.plan, dep_id, pending=pending)
        live.rollout = asyncio.ensure_future(self._rollout(live, plan, record=pending))

    async def stop(self) -> None:
        """Stop serving (the records stay: the services start again with the workspace service)."""
        if self._flusher is not None:
            self._flusher.cancel()
        await self._flush_all()
        await asyncio.gather(*(self._shutdown(live) for live in list(self.live.values())), return_exceptions=True)
        self.live.clear()
        from jupyter_aml.serving.warm import close_pool

        await close_pool(self.root)  # the idle warm replica processes (jupyter_aml.serving.warm)

    # -- operations ---------------------------------------------------------------------------------------------
    async def deploy(self, workspace: str, spec: rm.DeploymentCreate, *, created_by: str) -> rm.Webservice:
        if spec.overwrite:
            with contextlib.suppress(NotFound):
                await self.delete(workspace, spec.name)
        autoscale.check_bounds(spec.deployment_config.model_dump())
        batching.check_settings(spec.deployment_config.model_dump())
        await asyncio.to_thread(self.store.create, workspace, spec, created_by=created_by)
        dep_id = await asyncio.to_thread(self.store.get_id, workspace, spec.name)
        live = self._open(dep_id, workspace, spec.name)
        await self._configure(live)
        try:
            port = self._listen(live, spec.deployment_config.port or 0)
        except Conflict:
            self._close_now(live)
            await asyncio.to_thread(self.store.delete, dep_id)
            raise
        await asyncio.to_thread(self.store.set_port, dep_id, port)
        plan = await asyncio.to_thread(self.store.plan, dep_id, pending=True)
        live.log.write(f"creating web service {spec.name} on port {port}")
        live.rollout = asyncio.ensure_future(self._rollout(live, plan, record=True))
        return await self.describe(workspace, spec.name)

    async def update(self, workspace: str, name: str, spec: rm.DeploymentUpdate) -> rm.Webservice:
        live = await self._revive(workspace, name)
        current = await asyncio.to_thread(self.store.get, workspace, name)
        autoscale.check_update(current.deployment_config.model_dump(), spec, name)
        if spec.scoring_timeout_ms is not None:  # the batch wait must stay shorter than the timeout
            batching.check_settings({**current.deployment_config.model_dump(),
                                     "scoring_timeout_ms": spec.scoring_timeout_ms})
        svc, needs_revision = await asyncio.to_thread(self.store.begin_update, workspace, name, spec)
        if needs_revision:
            plan = await asyncio.to_thread(self.store.plan, live.id, pending=True)
            live.log.write(f"updating to revision {plan.revision}: models {', '.join(svc.pending_models or [])}")
            live.rollout = asyncio.ensure_future(self._rollout(live, plan, record=True))
        else:
            await self._configure(live)
        return await self.describe(workspace, name)

    async def delete(self, workspace: str, name: str) -> None:
        dep_id = await asyncio.to_thread(self.store.get_id, workspace, name)
        live = self.live.pop((workspace, name), None)
        if live is not None:
            live.log.write("deleting the web service")
            await self._shutdown(live)
        await asyncio.to_thread(self.store.delete, dep_id)
        folder = self.root / "services" / workspace / name
        await asyncio.to_thread(shutil.rmtree, folder, True)

    def prune_images(self, built_before: datetime.datetime, dry_run: bool) -> tuple[int, int]:
        """Remove scoring images built before ``built_before`` that no web service runs (blocking);
        (removed, kept because a container still uses them). No Docker engine: ServiceUnavailable."""
        from jupyter_aml.serving.docker import prune_images

        try:
            return prune_images(self.service.images, built_before, dry_run=dry_run)
        except ReplicaFailed as exc:  # no Docker engine: say how to start one
            raise ServiceUnavailable(f"images were not pruned: {exc.message}") from None

    async def describe(self, workspace: str, name: str) -> rm.Webservice:
        svc = await asyncio.to_thread(self.store.get, workspace, name)
        return self.with_replicas(svc)

    def with_replicas(self, svc: rm.Webservice) -> rm.Webservice:
        live = self.live.get((svc.workspace, svc.name))
        if live is not None and live.active is not None:
            svc.replicas = [r.view() for r in live.active.replicas]
        return svc

    async def regenerate_key(self, workspace: str, name: str, spec: rm.RegenerateKey) -> rm.ServiceKeys:
        keys = await asyncio.to_thread(self.store.regenerate, workspace, name, spec)
        live = self.live.get((workspace, name))
        if live is not None:
            live.front.keys = (keys.primary_key, keys.secondary_key)
        return keys

    def logs(self, workspace: str, name: str, lines: int) -> list[str]:
        live = self.live.get((workspace, name))
        if live is not None:
            return live.log.tail(lines)
        return tail_file(self.root / "services" / workspace / name / "service.log", lines)

    async def telemetry(self, workspace: str, name: str, since_minute: int) -> rm.Telemetry:
        live = self.live.get((workspace, name))
        if live is not None:
            await self._flush(live)
        telemetry = await asyncio.to_thread(self.store.telemetry, workspace, name, since_minute=since_minute)
        telemetry.data_collection = self.data_sink.counters(workspace, name)
        if live is not None:
            telemetry.events = list(live.events)
            if live.front.batcher is not None:
                telemetry.batching = live.front.batcher.counters()
        return telemetry

    # -- plumbing -------------------------------------------------------------------------------------------------
    def _open(self, dep_id: int, workspace: str, name: str) -> Live:
        folder = self.root / "services" / workspace / name
        live = Live(dep_id, workspace, name, folder, Front(name), ServiceLog(folder / "service.log"), self._start)
        self.live[(workspace, name)] = live
        live.supervisor = asyncio.ensure_future(self._supervise(live))
        live.autoscaler = asyncio.ensure_future(autoscale.run(live))
        return live

    async def _configure(self, live: Live) -> rm.Webservice:
        svc = await asyncio.to_thread(self.store.get, live.workspace, live.name)
        keys = await asyncio.to_thread(self.store.keys, live.workspace, live.name)
        live.config = svc.deployment_config.model_dump()
        live.front.configure(live.config, (keys.primary_key, keys.secondary_key))
        return svc

    def _listen(self, live: Live, port: int) -> int:
        try:
            return live.front.listen(self.host, port)
        except OSError as exc:
            raise Conflict(f"port {port} on {self.host} is not available: {exc.strerror or exc}",
                           hint="pick another port, or leave port unset to get a free one") from None

    async def _revive(self, workspace: str, name: str) -> Live:
        live = self.live.get((workspace, name))
        if live is not None:
            return live
        svc = await asyncio.to_thread(self.store.get, workspace, name)  # NotFound if it does not exist
        dep_id = await asyncio.to_thread(self.store.get_id, workspace, name)
        live = self._open(dep_id, workspace, name)
        await self._configure(live)
        port = self._listen(live, svc.port or 0)
        await asyncio.to_thread(self.store.set_port, dep_id, port)
        return live

    def _close_now(self, live: Live) -> None:
        self.live.pop((live.workspace, live.name), None)
        live.closed = True
        for task in (live.supervisor, live.autoscaler):
            if task is not None:
                task.cancel()
        live.log.close()

    async def _shutdown(self, live: Live) -> None:
        live.closed = True
        for task in (live.rollout, live.supervisor, live.autoscaler, *live.tasks):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        await live.front.stop(drain=live.front.timeout + 1)
        await self._flush(live)
        if live.active is not None:
            await self._drain_and_stop(live, live.active, live.prepared, live.launcher)
        if live.retiring:  # an update's old revision may still be draining: wait until it is gone
            await asyncio.gather(*list(live.retiring), return_exceptions=True)
        if live.launcher is not None:
            with contextlib.suppress(Exception):
                await live.launcher.forget(live.workspace, live.name)
        live.log.write("stopped")
        live.log.close()

    # -- rollout --------------------------------------------------------------------------------------------------
    async def _rollout(self, live: Live, plan: RevisionPlan, *, record: bool) -> None:
        started = time.monotonic()
        say = live.log.write
        running = len(pool.serving(live.active)) if live.active is not None else None
        revision = Revision(plan.revision, [Replica(i, plan.revision) for i in range(
            autoscale.initial_replicas(plan.deployment_config, running))], swagger=build_swagger(plan))
        prepared: PreparedRevision | None = None
        launcher: ReplicaLauncher | None = None
        try:
            launcher = launcher_for(plan.compute_type)(root=self.root, blobs=self.service.blobs,
                                                       images=self.service.images)
            launcher.runner, launcher.work_root = self._replica_runner(), self.service.settings.work_root
            say(f"revision {plan.revision}: models {', '.join(f'{m.name}:{m.version}' for m in plan.models)}, "
                f"entry script {plan.entry_script}, {len(revision.replicas)} replica(s), {plan.compute_type}")
            prepared = await launcher.prepare(plan, live.folder / f"rev-{plan.revision}", say)
            timeout = float(plan.deployment_config.get("startup_timeout_seconds", 300))
            await asyncio.wait_for(
                asyncio.gather(*(self._start(live, launcher, prepared, r) for r in revision.replicas)), timeout)
        except Exception as exc:
            message = (exc.message if isinstance(exc, (ReplicaFailed, NotFound)) else
                       f"the replicas were not ready within {plan.deployment_config.get('startup_timeout_seconds')} s"
                       if isinstance(exc, asyncio.TimeoutError) else f"{type(exc).__name__}: {exc}")
            if not isinstance(exc, (ReplicaFailed, NotFound, asyncio.TimeoutError)):
                log.exception("rollout of %s revision %s failed", live.name, plan.revision)
            say(f"revision {plan.revision} failed: {message}")
            await self._drain_and_stop(live, revision, prepared, launcher, drain=False)
            if record:
                await asyncio.to_thread(self.store.finish, live.id, plan.revision, error={"message": message})
            elif live.active is None:
                await asyncio.to_thread(self.store.set_state, live.id, UNHEALTHY, error={"message": message})
            return
        except asyncio.CancelledError:
            await self._drain_and_stop(live, revision, prepared, launcher, drain=False)
            raise
        assert launcher is not None and prepared is not None  # both set when the try block finished
        declared = await declared_schema(revision)
        if declared is not None:
            revision.swagger = build_swagger(plan, declared)
        keys = await asyncio.to_thread(self.store.keys, live.workspace, live.name)
        live.config = dict(plan.deployment_config)
        live.front.configure(live.config, (keys.primary_key, keys.secondary_key))
        old, old_prepared, old_launcher = live.active, live.prepared, live.launcher
        live.active, live.prepared, live.launcher = revision, prepared, launcher
        live.front.switch(revision)
        say(f"revision {plan.revision} is taking traffic ({time.monotonic() - started:.1f} s)")
        if record:
            await asyncio.to_thread(self.store.finish, live.id, plan.revision)
        await asyncio.to_thread(self.store.set_image, live.id, prepared.extra.get("image_id"))
        live.state = ""
        await self._set_state(live, HEALTHY)
        if old is not None:
            # A task of its own, so that deleting the service meanwhile waits for it instead of cancelling it
            # half way (which would leave the old replicas running).
            retire = asyncio.ensure_future(self._drain_and_stop(live, old, old_prepared, old_launcher))
            live.retiring.add(retire)
            retire.add_done_callback(live.retiring.discard)
            await asyncio.shield(retire)

    async def _start(self, live: Live, launcher: ReplicaLauncher, prepared: PreparedRevision,
                     replica: Replica) -> None:
        replica.state = STARTING
        source = f"r{prepared.plan.revision}.{replica.index}"
        handle = await launcher.launch(prepared, replica.index, live.log.source(source))
        replica.handle, replica.pool = handle, ConnectionPool(handle.host, handle.port)
        replica.token = str(prepared.replica_config.get("token") or "")
        replica.started_at = time.time()
        while True:
            if handle.exit_code() is not None:
                raise ReplicaFailed(handle.failure())
            try:
                response = await replica.pool.request("GET", "/health/ready", b"", {}, 2)
                if response.status == 200:
                    break
            except (ReplicaDown, asyncio.TimeoutError):
                replica.pool.close()
            await asyncio.sleep(0.05)
        replica.state = READY
        replica.alive_at = time.monotonic()
        live.front.notify()

    async def _drain_and_stop(self, live: Live, revision: Revision, prepared: PreparedRevision | None,
                              launcher: ReplicaLauncher | None, *, drain: bool = True) -> None:
        for replica in revision.replicas:
            replica.state = DRAINING
        if drain:
            deadline = time.monotonic() + live.front.timeout + 1
            while any(r.inflight for r in revision.replicas) and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        await asyncio.gather(*(r.handle.terminate(STOP_GRACE) for r in revision.replicas if r.handle),
                             return_exceptions=True)
        for replica in revision.replicas:
            replica.state = DEAD
            if replica.pool is not None:
                replica.pool.close()
        if prepared is not None and launcher is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.data_sink.harvest, live.workspace, live.name, prepared.rev_dir)
            with contextlib.suppress(Exception):
                await launcher.cleanup(prepared)

    # -- supervision ----------------------------------------------------------------------------------------------
    async def _supervise(self, live: Live) -> None:
        while not live.closed:
            await asyncio.sleep(TICK)
            try:
                await self._check(live)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("supervising web service %s failed", live.name)

    async def _check(self, live: Live) -> None:
        revision = live.active
        if revision is None:
            return
        probe = time.monotonic() - live.last_probe > PROBE_EVERY
        if probe:
            live.last_probe = time.monotonic()
        for replica in list(revision.replicas):  # autoscaling may add or remove replicas meanwhile
            if replica.index in live.restarting or replica.state in (DRAINING, DEAD, STARTING):
                continue
            handle = replica.handle
            if handle is None or handle.exit_code() is not None:
                why = handle.failure() if handle is not None else "it has no process"
                live.log.write(f"replica {replica.index} of revision {revision.number} stopped: {why}; replacing it")
                replica.state = DEAD
                pool.restart(live, revision, replica)
            elif replica.state == SUSPECT or probe:
                if await self._alive(replica):
                    replica.alive_at = time.monotonic()
                elif replica.state == READY and replica.inflight and (
                        time.monotonic() - replica.alive_at < live.front.timeout + 2 * PROBE_EVERY):
                    # Busy, not dead: a run() that holds the GIL (json.loads of a whole test set, a model in
                    # pure Python) keeps the probe waiting; the scoring timeout bounds how long that may last.
                    continue
                else:
                    live.log.write(f"replica {replica.index} does not answer its liveness probe; replacing it")
                    handle.kill()
                    replica.state = DEAD
                    pool.restart(live, revision, replica)
                    continue
                if replica.state == SUSPECT:
                    replica.state = READY
                    live.front.notify()
        guard.check(live)
        counted = [r for r in pool.serving(revision) if r not in live.adding]  # scaling up is not unhealthy
        ready = sum(r.state == READY for r in counted)
        await self._set_state(live, HEALTHY if ready == len(counted) else UNHEALTHY)

    @staticmethod
    async def _alive(replica: Replica) -> bool:
        if replica.pool is None:
            return False
        for _ in range(3):
            try:
                probe = ConnectionPool(replica.pool.host, replica.pool.port, max_idle=0)
                response = await probe.request("GET", "/health/live", b"", {}, 2)
                if response.status == 200:
                    return True
            except (ReplicaDown, asyncio.TimeoutError):
                await asyncio.sleep(0.2)
        return False

    async def _set_state(self, live: Live, state: str) -> None:
        if state != live.state and not live.closed:
            live.state = state
            await asyncio.to_thread(self.store.set_state, live.id, state)

    # -- telemetry ------------------------------------------------------------------------------------------------
    async def _flush(self, live: Live) -> None:
        # One flush at a time per service: a telemetry read that finds nothing left to take must still wait
        # for the periodic flush that took the counts a moment ago to store them.
        async with live.flush_lock:
            stats = live.front.take_stats()
            if stats:
                await asyncio.to_thread(self.store.add_stats, live.id, stats)
            await asyncio.to_thread(self.data_sink.harvest, live.workspace, live.name, live.folder)

    async def _flush_all(self) -> None:
        for live in list(self.live.values()):
            with contextlib.suppress(Exception):
                await self._flush(live)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            await self._flush_all()


__all__ = ["FAILED", "TRANSITIONING", "DeploymentManager", "Live"]
