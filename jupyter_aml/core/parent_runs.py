"""The driver of a parent run that has no process of its own: a HyperDrive sweep or an ML pipeline.

Both are an ``interactive`` parent run whose children this service starts and watches, with one asyncio
task per parent: a *tick* reads the parent, gives it a heartbeat (it has no agent to send one), reads its
children and decides what to start or end next. What is shared lives here, so sweeps and pipelines cannot
drift apart on it: waking a parent's task when it or one of its children changes (the service's event
sink), a tick every ``tick_seconds`` regardless, resuming every active parent after a restart (``start``),
giving up after repeated failing ticks, cancelling the still-active children and ending the parent. What
to start next and when the parent is done are the subclass's decisions (core/hyperdrive.py,
core/pipelines.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from jupyter_aml.core import models
from jupyter_aml.core.events import Event, RunEvent
from jupyter_aml.core.loop_relay import LoopRelay
from jupyter_aml.core.models import RunStatus
from jupyter_aml.core.run_views import ActiveRun
from jupyter_aml.core.scheduler import Scheduler
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.workspaces import utcnow
from jupyter_aml.errors import AMLError, Conflict, NotFound

log = logging.getLogger(__name__)
MAX_FAILED_TICKS = 5  # ticks in a row that may fail (a store hiccup) before the parent is failed


@dataclass
class DrivenRun:
    """One parent run being driven: where it is, the event that wakes its task, and the task."""

    workspace: str
    run_id: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


D = TypeVar("D", bound=DrivenRun)


class ParentRunDriver(Generic[D]):
    """Every active parent run of one kind, each driven by its own task (see the module's docstring)."""

    tick_seconds = 2.0  # the longest a parent waits without an event (also its heartbeat)
    label = "parent run"  # how the log names a parent whose tick failed

    def __init__(self, service: AMLService, scheduler: Scheduler) -> None:
        self.service = service
        self.scheduler = scheduler
        self._driven: dict[str, D] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._relay: LoopRelay | None = None
        service.subscribe(self._on_event)

    # -- what a subclass decides -----------------------------------------------------------------------------
    async def _resume(self, active: ActiveRun) -> None:
        """After a restart: adopt ``active`` (an active interactive run, as ``active_runs`` lists it) if it
        is one of this driver's parents."""
        raise NotImplementedError

    async def _tick(self, entry: D, parent: models.Run, children: list[models.Run]) -> bool:
        """One look at a live parent (its heartbeat given); True when it has ended."""
        raise NotImplementedError

    def _gives_up(self, failures: int, exc: Exception) -> bool:
        """Whether a failing tick ends the parent (else the next tick tries again)."""
        return failures >= MAX_FAILED_TICKS

    async def _give_up(self, entry: D, exc: Exception) -> None:
        """End the parent Failed because its ticks keep failing."""
        raise NotImplementedError

    def _route_other(self, workspace: str, event: Event) -> None:
        """An event that concerns no driven parent (a new parent to adopt, or a metric): nothing by default."""

    def _wants_other(self, event: Event) -> bool:
        """Whether ``_route_other`` may act on ``event`` (asked on the publishing thread, so that the events
        no driver cares about cost no hop onto the loop): no unless a subclass routes other events."""
        return type(self)._route_other is not ParentRunDriver._route_other

    # -- the service's lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Resume every parent still active in the store (after a restart)."""
        self._loop = asyncio.get_running_loop()
        for active in await asyncio.to_thread(self.service.runs.active_runs):
            if active.kind == "interactive":
                await self._resume(active)

    async def stop(self) -> None:
        self._loop = None  # events that still arrive adopt nothing
        tasks = [d.task for d in self._driven.values() if d.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._driven.clear()

    def _on_event(self, workspace: str, event: Event) -> None:
        """A service event, from any thread: handled on the service's loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if not self._concerns(event):
            return
        relay = self._relay
        if relay is None or relay.loop is not loop:  # one relay per loop: a burst of events is one wake-up
            relay = self._relay = LoopRelay(loop)
        relay(self._route, workspace, event)

    def _concerns(self, event: Event) -> bool:
        """A cheap look on the publishing thread: a driven parent's own event or its child's, or one that
        ``_route_other`` wants. A parent that starts being driven just after misses nothing lasting: its
        ticks (``tick_seconds``) read the store anyway."""
        if isinstance(event, RunEvent):
            driven = self._driven
            if event.run.id in driven or (event.run.parent_id is not None and event.run.parent_id in driven):
                return True
        return self._wants_other(event)

    def _route(self, workspace: str, event: Event) -> None:
        """Wake the parent a run event concerns (the parent itself or one of its children)."""
        if isinstance(event, RunEvent):
            for key in (event.run.id, event.run.parent_id):
                if key in self._driven:
                    self._driven[key].wake.set()
                    return
        self._route_other(workspace, event)

    def _drive_new(self, entry: D) -> None:
        """Start driving ``entry`` (once: a parent already driven keeps its task)."""
        if entry.run_id in self._driven:
            return
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        self._driven[entry.run_id] = entry
        entry.task = asyncio.ensure_future(self._drive(entry))

    # -- one parent ------------------------------------------------------------------------------------------
    async def _drive(self, entry: D) -> None:
        failures = 0
        try:
            while True:
                entry.wake.clear()
                try:
                    if await self._look(entry):
                        return
                    failures = 0
                except NotFound:
                    return  # the parent was deleted
                except Exception as exc:
                    failures += 1
                    log.exception("%s %s: a tick failed", self.label, entry.run_id)
                    if self._gives_up(failures, exc):
                        await self._give_up(entry, exc)
                        return
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(entry.wake.wait(), timeout=self.tick_seconds)
        finally:
            self._driven.pop(entry.run_id, None)

    async def _look(self, entry: D) -> bool:
        """Read the parent (an ended one needs nothing more), beat its heart, read its children, then tick."""
        parent = await asyncio.to_thread(self.service.runs.get, entry.workspace, entry.run_id)
        if parent.status.terminal:
            return True
        await asyncio.to_thread(self._beat, entry.workspace, entry.run_id)
        children = await asyncio.to_thread(self.service.runs.children, entry.workspace, entry.run_id)
        return await self._tick(entry, parent, children)

    # -- ending children and the parent ----------------------------------------------------------------------
    async def _cancel_child(self, ws: str, run_id: str, reason: str | None) -> None:
        """Cancel a child with the reason; one that ended meanwhile keeps its own ending."""
        with contextlib.suppress(Conflict):
            await self.scheduler.cancel(ws, run_id, reason=reason)

    async def _cancel_active(self, ws: str, run_id: str, reason: str | None) -> None:
        """Cancel every child of the parent still active."""
        for child in await asyncio.to_thread(self.service.runs.children, ws, run_id):
            if not child.status.terminal:
                await self._cancel_child(ws, child.id, reason)

    async def _finish(self, ws: str, run_id: str, status: RunStatus, message: str | None) -> None:
        """End the parent with ``status`` (its error ``message``); a parent ended meanwhile stays as it is."""
        error = models.RunError(message=message) if message else None
        with contextlib.suppress(AMLError):
            await asyncio.to_thread(self.service.runs.set_status, ws, run_id,
                                    models.StatusUpdate(status=status, error=error))

    def _beat(self, ws: str, run_id: str) -> None:
        """The parent's heartbeat (it has no agent): this row alone, so a silent child still goes NotResponding."""
        revived = False
        with self.service.db.session() as s:
            row = self.service.runs.row(s, ws, run_id)
            row.heartbeat_at = utcnow()
            if row.status == RunStatus.NOT_RESPONDING.value:
                row.status, revived = RunStatus.RUNNING.value, True
        if revived:
            self.service.runs.update(ws, run_id, models.RunUpdate())  # publishes the run's new status
