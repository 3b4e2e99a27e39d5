"""The run queue: admission per compute target, cancel, restart reconciliation, heartbeat monitor.

Targets are the configured ones (``c.AMLExtension.computes``, e.g. ``local``), seen by every workspace, and
each workspace's own computes; a run names its target by name and its workspace's own compute wins. The
policy of one queue (order, admission, waiting reasons) is ``core/run_queue.py``.

It lives in the service process (asyncio); blocking store calls go to a thread. Whenever a run's agent is
gone (it exited, was killed, hung and was stopped, or nothing runs the run after a restart), the run's
journal on disk is recovered (core/journal_recovery.py) before the run gets its final status, so no point
that reached the journal is lost; a run failed for silence has its whole process tree stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from jupyter_aml.compute.base import ComputeBackend, RunJob
from jupyter_aml.core import models
from jupyter_aml.core.deadlines import overdue_runs
from jupyter_aml.core.journal_recovery import Recovery, recover_journal
from jupyter_aml.core.models import RunStatus
from jupyter_aml.core.run_queue import CONFIGURED, TargetKey, TargetQueue, node_count
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.workspaces import utcnow
from jupyter_aml.errors import Conflict, InvalidInput
from jupyter_aml.runtime import env as E

log = logging.getLogger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)  # "nothing is old enough to fail yet"


def journal_of(agent: dict[str, Any] | None) -> Path | None:
    """The run's main journal file, from the agent info its backend recorded (None if it names no folder)."""
    if not agent:
        return None
    if agent.get("journal"):
        return Path(str(agent["journal"]))
    run_dir = agent.get("run_dir")
    return Path(str(run_dir)) / E.JOURNAL_DIRNAME / (E.MAIN_STREAM + E.JOURNAL_SUFFIX) if run_dir else None


class Scheduler:
    """Every compute target's queue: the configured ones (``local``) and each workspace's own computes."""

    def __init__(self, service: AMLService, backends: dict[str, ComputeBackend], service_url: str) -> None:
        self.service = service
        self.service_url = service_url
        self.targets: dict[TargetKey, TargetQueue] = {
            (CONFIGURED, name): TargetQueue((CONFIGURED, name), b) for name, b in backends.items()}
        self._owner: dict[str, TargetKey] = {}  # run id -> its target
        self._agents: dict[str, tuple[str, dict[str, Any]]] = {}  # run id -> (workspace, agent info)
        self._lock = asyncio.Lock()
        self._monitor: asyncio.Task[None] | None = None
        self._waking: set[TargetKey] = set()
        self._tasks: set[asyncio.Future[None]] = set()  # background pumps and wake-ups, kept until done
        self._started = utcnow()
        self.on_queue_change: Callable[[TargetKey], None] | None = None  # the compute service publishes it
        # Checks of a run's spec before anything is stored (HyperDrive checks its sweep configuration here)
        self.submit_checks: list[Callable[[str, models.RunCreate], None]] = []
        self.created_hooks: list[Callable[[str, models.Run], None]] = []  # after a run is created, before it starts
        self.submit_checks.append(self._check_docker_target)

    # -- targets ---------------------------------------------------------------------------------------------
    def configured(self) -> dict[str, ComputeBackend]:
        return {key[1]: t.backend for key, t in self.targets.items() if key[0] == CONFIGURED}

    def add_target(self, workspace: str, backend: ComputeBackend) -> TargetQueue:
        target = self.targets[(workspace, backend.name)] = TargetQueue((workspace, backend.name), backend)
        return target

    def find(self, workspace: str, name: str) -> TargetQueue | None:
        """The workspace's own compute of that name, else the configured target of that name."""
        return self.targets.get((workspace, name)) or self.targets.get((CONFIGURED, name))

    def visible(self, workspace: str) -> list[TargetQueue]:
        """The targets a workspace can submit to: the configured ones first, then its own by name."""
        configured = [t for k, t in self.targets.items() if k[0] == CONFIGURED]
        own = sorted((t for k, t in self.targets.items() if k[0] == workspace), key=lambda t: t.key[1])
        return configured + own

    def check_target(self, workspace: str, name: str) -> TargetQueue:
        """The target a run submitted to ``name`` goes to; refused (before anything is stored) when it does not
        exist, has failed, or is a Stopped instance set to refuse runs rather than start."""
        target = self.find(workspace, name)
        if target is None:
            raise InvalidInput(
                f"compute target {name!r} does not exist in workspace {workspace!r}",
                hint="available compute targets: " + ", ".join(t.key[1] for t in self.visible(workspace)),
            )
        backend = target.backend
        state = backend.state()
        if state == "Failed":
            raise InvalidInput(f"compute target {name!r} has failed: {backend.error or 'no reason given'}",
                               hint="see its error with ComputeTarget(ws, name).get_status(); delete it and create "
                               "it again, or restart it")
        if state in ("Stopped", "Stopping") and getattr(backend, "when_stopped", "start") != "start":
            raise InvalidInput(f"compute instance {name!r} is {state}: runs are refused until it is started",
                               hint=f"start it: ComputeTarget(ws, {name!r}).start() or `aml compute start {name}`")
        return target

    def runs_on(self, key: TargetKey) -> list[tuple[str, str]]:
        """(workspace, run id) of every run queued on or running on a target."""
        target = self.targets.get(key)
        if target is None:
            return []
        running = [(self._agents.get(r, ("", {}))[0] or key[0], r) for r in sorted(target.running)]
        return list(target.queue) + running

    def forget_target(self, key: TargetKey) -> None:
        """Drop a deleted compute's queue (its runs were cancelled first)."""
        self.targets.pop(key, None)

    def kick(self, key: TargetKey) -> None:
        """A target's state or nodes changed: start what may start now (from any thread of the loop)."""
        if key in self.targets:
            self._background(self._pump(key))

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- runs ------------------------------------------------------------------------------------------------
    async def submit(
        self, workspace: str, spec: models.RunCreate, *, submitter: str, parent_id: str | None = None,
        activity: dict[str, Any] | None = None,
    ) -> models.Run:
        """Create the run (a child of ``parent_id`` if given) and queue it on its target; ``activity``: the
        activity row to write with it (see ``RunService.create``)."""
        target = None
        for check in self.submit_checks:
            check(workspace, spec)
        if spec.kind == "script" and spec.run_config is not None:
            if spec.run_config.distributed is not None:
                spec.run_config.distributed.check_layout()
            target = self.check_target(workspace, spec.run_config.compute_target)
            target.check_nodes(node_count(spec.run_config))  # a distributed run's nodes: docs/distributed.md
        def create() -> models.Run:  # the hooks in the same worker hop: a hop per hook was a loop wake-up each
            made = self.service.runs.create(workspace, spec, submitter=submitter, parent_id=parent_id,
                                            activity=activity)
            for hook in self.created_hooks:
                hook(workspace, made)
            return made

        run = await asyncio.to_thread(create)
        if run.kind == "script" and target is not None:
            target.add(workspace, run.id, node_count(spec.run_config))
            self._owner[run.id] = target.key
            await self._pump(target.key)
        return run

    async def _pump(self, key: TargetKey) -> None:
        async with self._lock:
            target = self.targets.get(key)
            if target is None:
                return
            while target.may_start():
                workspace, run_id = target.queue.popleft()
                target.running.add(run_id)
                try:
                    await self._start(target, workspace, run_id)
                except Exception as exc:
                    log.exception("could not start run %s", run_id)
                    target.running.discard(run_id)
                    self._owner.pop(run_id, None)
                    await asyncio.to_thread(
                        self.service.runs.fail_orphan,
                        workspace,
                        run_id,
                        f"the compute target {key[1]!r} could not start the run: {exc}",
                    )
            if target.queue and target.backend.state() == "Stopped":
                self._wake(target)
        if self.on_queue_change is not None:
            self.on_queue_change(key)

    def _wake(self, target: TargetQueue) -> None:
        """Runs wait on a Stopped instance that starts on demand: start it (once)."""
        if getattr(target.backend, "when_stopped", "refuse") != "start" or target.key in self._waking:
            return
        self._waking.add(target.key)

        async def wake() -> None:
            try:
                await target.backend.start_compute()
            except Exception:
                log.exception("could not start compute %r for its queued runs", target.key[1])
            finally:
                self._waking.discard(target.key)
                self.kick(target.key)

        self._background(wake())

    async def _start(self, target: TargetQueue, workspace: str, run_id: str) -> None:
        run = await asyncio.to_thread(self.service.runs.get, workspace, run_id)
        if run.status != RunStatus.QUEUED:
            target.running.discard(run_id)
            return
        settings = self.service.settings
        job = RunJob(
            run_id=run_id,
            workspace=workspace,
            experiment=run.experiment,
            service_url=self.service_url,
            run_token=self.service.tokens.mint(run_id),
            work_root=settings.work_root,
            env_cache=settings.env_cache,
            environment=run.run_config.environment.model_dump() if run.run_config else {},
            extra_env={"AML_HEARTBEAT_INTERVAL": str(settings.heartbeat_interval_seconds)},
            distributed=run.run_config.distributed.model_dump()
            if run.run_config is not None and run.run_config.distributed is not None else None,
        )
        agent = await target.backend.start(job, self._on_exit)
        self._agents[run_id] = (workspace, agent)
        await asyncio.to_thread(
            self.service.runs.set_agent, workspace, run_id, {**agent, "target": target.backend.name}
        )

    async def _recover(self, workspace: str, run_id: str, agent: dict[str, Any] | None) -> Recovery | None:
        """Ingest what the run's journal on disk holds that the agent never shipped (None: no journal here)."""
        journal = journal_of(agent)
        if journal is None:
            return None
        try:
            return await asyncio.to_thread(recover_journal, self.service.metrics, workspace, run_id, journal)
        except Exception:
            log.exception("recovering the journal of run %s failed", run_id)
            return None

    async def _on_exit(self, run_id: str, returncode: int | None) -> None:
        key = self._owner.pop(run_id, None)
        known = self._agents.pop(run_id, None)
        if key is None:
            return
        target = self.targets.get(key)
        reason = None
        if target is not None:
            target.release(run_id)
            reason = target.backend.exit_reason(run_id)
        try:
            active = await asyncio.to_thread(self.service.runs.active_run, run_id)
            workspace = active.workspace if active is not None else (known[0] if known else None)
            agent = (active.agent if active is not None else None) or (known[1] if known else None)
            recovered = await self._recover(workspace, run_id, agent) if workspace else None
            if active is not None:
                note = f"; {recovered.summary()}" if recovered is not None and recovered.read else ""
                await asyncio.to_thread(
                    self.service.runs.fail_orphan,
                    active.workspace,
                    run_id,
                    (reason or f"the run agent exited (code {returncode}) without reporting a final status")
                    + note,
                )
        finally:
            await self._pump(key)

    async def cancel(self, workspace: str, run_id: str, *, reason: str | None = None) -> models.Run:
        """Cancel a run (``reason`` becomes its error message) and stop its script-run descendants, which the
        status change marks Canceled (a HyperDrive run's children)."""
        run = await asyncio.to_thread(self.service.runs.get, workspace, run_id)
        if run.status.terminal:
            return run
        children = await asyncio.to_thread(self.service.runs.children, workspace, run_id, recursive=True)
        error = models.RunError(message=reason) if reason else None
        run = await asyncio.to_thread(self.service.runs.set_status, workspace, run_id,
                                      models.StatusUpdate(status=RunStatus.CANCELED, error=error))
        for job in [run, *(c for c in children if c.kind == "script" and not c.status.terminal)]:
            await self._stop_job(workspace, job)
        return run

    async def _stop_job(self, workspace: str, run: models.Run) -> None:
        key = self._owner.get(run.id)
        target = self.targets.get(key) if key is not None else self.find(workspace, run.compute_target or "")
        if target and (workspace, run.id) in target.queue:
            target.queue.remove((workspace, run.id))
        if target and run.id in target.running:
            await target.backend.cancel(run.id)
        elif target and self.on_queue_change is not None:
            self.on_queue_change(target.key)

    async def reconcile(self) -> None:
        """After a (re)start: requeue what never started; fail what nothing runs any more."""
        for run in await asyncio.to_thread(self.service.runs.active_runs):
            if run.kind != "script":
                continue
            target = self.find(run.workspace, run.compute_target or "")
            if target is None:
                await asyncio.to_thread(
                    self.service.runs.fail_orphan,
                    run.workspace,
                    run.id,
                    f"compute target {run.compute_target!r} is no longer configured",
                )
                continue
            if run.status == RunStatus.QUEUED and not run.agent:
                record = await asyncio.to_thread(self.service.runs.get, run.workspace, run.id)
                target.add(run.workspace, run.id, node_count(record.run_config))
                self._owner[run.id] = target.key
            elif run.agent and await target.backend.reattach(run.id, run.agent, self._on_exit):
                target.running.add(run.id)  # heartbeats keep it alive; the monitor catches its end
                if int(run.agent.get("node_count") or 1) > 1:  # a multi-node run holds all its nodes
                    target.needs[run.id] = int(run.agent["node_count"])
                self._owner[run.id] = target.key
                self._agents[run.id] = (run.workspace, run.agent)
            else:
                recovered = await self._recover(run.workspace, run.id, run.agent)
                note = f"; {recovered.summary()}" if recovered is not None and recovered.read else ""
                await asyncio.to_thread(
                    self.service.runs.fail_orphan,
                    run.workspace,
                    run.id,
                    f"the service restarted and nothing runs this run any more{note}",
                )
        for key in list(self.targets):
            await self._pump(key)

    def start_monitor(self) -> None:
        self._monitor = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        settings = self.service.settings
        while True:
            await asyncio.sleep(max(0.2, settings.heartbeat_interval_seconds / 2))
            try:
                now = utcnow()
                await self._cancel_overdue(now)
                # Silence is measured from the later of the last heartbeat and this service's start: agents
                # could not reach a service that was down, so a restart gives them the full grace again.
                not_responding_before = now - timedelta(seconds=settings.not_responding_after_seconds)
                failed_before = now - timedelta(seconds=settings.failed_after_seconds)
                if self._started > not_responding_before:
                    continue
                changed = await asyncio.to_thread(
                    self.service.runs.mark_stale,
                    not_responding_before=not_responding_before,
                    failed_before=failed_before if self._started <= failed_before else _EPOCH,
                )
                for run in changed:
                    if run.status.terminal and run.id in self._owner:
                        await self._stop_silent(run)
            except Exception:
                log.exception("heartbeat monitor pass failed")

    def _check_docker_target(self, workspace: str, spec: models.RunCreate) -> None:
        """A Docker run (``docker_enabled``) on a target without a Docker engine is refused before anything is
        stored: a compute instance's runs execute inside its container, which has none (docs/environments.md)."""
        config = spec.run_config
        if spec.kind != "script" or config is None or not config.environment.docker_enabled:
            return
        target = self.find(workspace, config.compute_target)
        if target is not None and target.backend.type_name == "ComputeInstance":
            raise InvalidInput(
                f"compute instance {config.compute_target!r} cannot run a Docker run: its runs execute inside its own "
                "container, which has no Docker engine",
                hint="turn Docker off for this run (env.docker.enabled = False or DockerConfiguration(use_docker="
                     "False)): the instance's image is the environment; or submit it to 'local' or a cluster")

    async def _cancel_overdue(self, now: datetime) -> None:
        """max_run_duration_seconds (core/deadlines.py): a run over it is canceled, with the reason as its error."""
        try:
            overdue = await asyncio.to_thread(overdue_runs, self.service.db, now)
        except Exception:  # the heartbeat checks of the same pass must still run
            log.exception("checking the runs' max_run_duration_seconds failed")
            return
        for late in overdue:
            try:
                await asyncio.to_thread(self.service.runs.set_status, late.workspace, late.run_id,
                                        models.StatusUpdate(status=RunStatus.CANCELED, error=late.error()))
            except Conflict:
                continue  # it ended meanwhile
            key = self._owner.get(late.run_id)
            target = self.targets.get(key) if key is not None else None
            if target is not None and late.run_id in target.running:
                await target.backend.cancel(late.run_id)

    async def _stop_silent(self, run: models.Run) -> None:
        """A run failed for silence: stop its whole process tree (a hung agent does not stop its script),
        then recover what its journal holds on disk."""
        target = self.targets.get(self._owner[run.id])
        known = self._agents.get(run.id)
        try:
            if target is not None:
                await target.backend.kill(run.id)
        finally:
            if known is not None:
                await self._recover(known[0], run.id, known[1])
            await self._on_exit(run.id, None)

    async def shutdown(self) -> None:
        if self._monitor:
            self._monitor.cancel()
        for target in self.targets.values():
            await target.backend.shutdown()
