"""The run queue: admission per compute target, cancel, restart reconciliation, heartbeat monitor.

It lives in the service process (asyncio); blocking store calls go to a thread. Whenever a run's agent is
gone (it exited, was killed, hung and was stopped, or nothing runs the run after a restart), the run's
journal on disk is recovered (core/journal_recovery.py) before the run gets its final status, so no point
that reached the journal is lost; a run failed for silence has its whole process tree stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from jupyter_aml.compute.base import ComputeBackend, RunJob
from jupyter_aml.core import models
from jupyter_aml.core.journal_recovery import Recovery, recover_journal
from jupyter_aml.core.models import RunStatus
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.workspaces import utcnow
from jupyter_aml.errors import InvalidInput
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


@dataclass
class _Target:
    backend: ComputeBackend
    queue: deque[tuple[str, str]] = field(default_factory=deque)  # (workspace, run id)
    running: set[str] = field(default_factory=set)


class Scheduler:
    def __init__(self, service: AMLService, backends: dict[str, ComputeBackend], service_url: str) -> None:
        self.service = service
        self.service_url = service_url
        self.targets = {name: _Target(b) for name, b in backends.items()}
        self._owner: dict[str, str] = {}  # run id -> target name
        self._agents: dict[str, tuple[str, dict[str, Any]]] = {}  # run id -> (workspace, agent info)
        self._lock = asyncio.Lock()
        self._monitor: asyncio.Task[None] | None = None
        self._started = utcnow()

    def computes(self) -> list[models.Compute]:
        return [
            models.Compute(**t.backend.describe(), active_runs=len(t.running), queued_runs=len(t.queue))
            for t in self.targets.values()
        ]

    def check_target(self, name: str) -> None:
        if name not in self.targets:
            raise InvalidInput(
                f"compute target {name!r} does not exist",
                hint="available compute targets: " + ", ".join(sorted(self.targets)),
            )

    async def submit(self, workspace: str, spec: models.RunCreate, *, submitter: str) -> models.Run:
        if spec.kind == "script" and spec.run_config is not None:
            self.check_target(spec.run_config.compute_target)
        run = await asyncio.to_thread(self.service.runs.create, workspace, spec, submitter=submitter)
        if run.kind == "script":
            assert run.compute_target is not None
            self.targets[run.compute_target].queue.append((workspace, run.id))
            self._owner[run.id] = run.compute_target
            await self._pump(run.compute_target)
        return run

    async def _pump(self, name: str) -> None:
        async with self._lock:
            target = self.targets[name]
            while target.queue and len(target.running) < target.backend.max_concurrent_runs:
                workspace, run_id = target.queue.popleft()
                target.running.add(run_id)
                try:
                    await self._start(target, workspace, run_id)
                except Exception as exc:
                    log.exception("could not start run %s", run_id)
                    target.running.discard(run_id)
                    await asyncio.to_thread(
                        self.service.runs.fail_orphan,
                        workspace,
                        run_id,
                        f"the compute target {name!r} could not start the run: {exc}",
                    )

    async def _start(self, target: _Target, workspace: str, run_id: str) -> None:
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
        name = self._owner.pop(run_id, None)
        known = self._agents.pop(run_id, None)
        if name is None:
            return
        self.targets[name].running.discard(run_id)
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
                    f"the run agent exited (code {returncode}) without reporting a final status{note}",
                )
        finally:
            await self._pump(name)

    async def cancel(self, workspace: str, run_id: str) -> models.Run:
        run = await asyncio.to_thread(self.service.runs.get, workspace, run_id)
        if run.status.terminal:
            return run
        target = self.targets.get(run.compute_target or "")
        if target and (workspace, run_id) in target.queue:
            target.queue.remove((workspace, run_id))
        run = await asyncio.to_thread(
            self.service.runs.set_status, workspace, run_id, models.StatusUpdate(status=RunStatus.CANCELED)
        )
        if target and run_id in target.running:
            await target.backend.cancel(run_id)
        return run

    async def reconcile(self) -> None:
        """After a (re)start: requeue what never started; fail what nothing runs any more."""
        for run in await asyncio.to_thread(self.service.runs.active_runs):
            if run.kind != "script":
                continue
            target = self.targets.get(run.compute_target or "")
            if target is None:
                await asyncio.to_thread(
                    self.service.runs.fail_orphan,
                    run.workspace,
                    run.id,
                    f"compute target {run.compute_target!r} is no longer configured",
                )
                continue
            if run.status == RunStatus.QUEUED and not run.agent:
                target.queue.append((run.workspace, run.id))
                self._owner[run.id] = target.backend.name
            elif run.agent and await target.backend.reattach(run.id, run.agent, self._on_exit):
                target.running.add(run.id)  # heartbeats keep it alive; the monitor catches its end
                self._owner[run.id] = target.backend.name
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
        for name in self.targets:
            await self._pump(name)

    def start_monitor(self) -> None:
        self._monitor = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        settings = self.service.settings
        while True:
            await asyncio.sleep(max(0.2, settings.heartbeat_interval_seconds / 2))
            try:
                now = utcnow()
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

    async def _stop_silent(self, run: models.Run) -> None:
        """A run failed for silence: stop its whole process tree (a hung agent does not stop its script),
        then recover what its journal holds on disk."""
        target = self.targets[self._owner[run.id]]
        known = self._agents.get(run.id)
        try:
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
