"""HyperDrive sweeps, driven inside the workspace service so they outlive the notebook that submitted them.

A sweep is a parent run (kind ``interactive``: it has no process of its own) whose properties hold the sweep's
configuration under v1's names (core/hyperdrive_space.py) and whose ``run_config`` and ``snapshot_id`` are the
base ``ScriptRunConfig``'s. The SDK creates it through the ordinary run-creation route; ``check_spec``, one
of the scheduler's submit checks, refuses a bad configuration before anything is stored.

This service then drives each active sweep with one asyncio task: a *tick* reads the parent and its children
from the store, ends children the early-termination policy picks (core/hyperdrive_policy.py; they end
Canceled with the policy's reason), honours max_duration_minutes, submits new children through the scheduler
(the same creation path as any run: a script run on the parent's compute target, the sampled values appended to
its arguments and kept in its ``hyperparameters`` property) up to max_concurrent_runs at once and
max_total_runs in all, and ends the parent once every child has ended: Completed, or Failed when every child
failed. Ticks run when a child's run or primary-metric event arrives (the service's event sinks), and every
few seconds regardless. Everything a tick needs is stored, so after a service restart ``start`` finds the
active sweeps and resumes them where they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from jupyter_aml.core import models
from jupyter_aml.core.events import Event, MetricEvent, RunEvent
from jupyter_aml.core.hyperdrive_policy import Trial, evaluate
from jupyter_aml.core.hyperdrive_space import PROPERTY_KEYS, RUNSOURCE, SweepConfig, as_arguments
from jupyter_aml.core.models import RunStatus
from jupyter_aml.core.scheduler import Scheduler
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.workspaces import as_utc, utcnow
from jupyter_aml.errors import AMLError, Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)
HYPERPARAMETERS = "hyperparameters"  # each child's property: its sampled values, as JSON (v1 keeps the same)


def is_sweep(properties: dict[str, Any]) -> bool:
    return properties.get("azureml.runsource") == RUNSOURCE


def is_driven_sweep(properties: dict[str, Any]) -> bool:
    """A sweep this service drives: labelled HyperDrive *and* carrying a sweep configuration. A run that a
    user only labels ``azureml.runsource=hyperdrive`` (``add_properties``) is theirs to end, not failed."""
    return is_sweep(properties) and any(key in properties for key in PROPERTY_KEYS)


@dataclass
class _Sweep:
    workspace: str
    run_id: str
    config: SweepConfig
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    children: set[str] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class HyperDriveService:
    """Every active sweep of the service, each driven by its own task."""

    tick_seconds = 2.0  # the longest a sweep waits without an event (also its parent's heartbeat)

    def __init__(self, service: AMLService, scheduler: Scheduler) -> None:
        self.service = service
        self.scheduler = scheduler
        self._sweeps: dict[str, _Sweep] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finishing: set[asyncio.Future[None]] = set()  # parents failed for a bad stored configuration
        scheduler.submit_checks.append(self.check_spec)
        service.subscribe(self._on_event)

    # -- submission ------------------------------------------------------------------------------------
    def check_spec(self, workspace: str, spec: models.RunCreate) -> None:
        """Refuse a HyperDrive parent whose configuration or base run cannot make children."""
        if not is_sweep(spec.properties):
            return
        if spec.kind != "interactive" or spec.run_config is None or spec.snapshot_id is None:
            raise InvalidInput("a HyperDrive run is created with kind 'interactive', the base run_config and its "
                               "snapshot_id", hint="submit it with Experiment(ws, name).submit(HyperDriveConfig(...))")
        config = SweepConfig.from_properties({k: str(v) for k, v in spec.properties.items()})
        quota = self.service.runs.max_child_runs_per_run
        if config.max_total_runs > quota:
            raise InvalidInput(f"max_total_runs {config.max_total_runs} is above this service's child-run quota "
                               f"of {quota} per run", hint="lower max_total_runs")
        self.scheduler.check_target(workspace, spec.run_config.compute_target)

    # -- the service's lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Resume every sweep still active in the store (after a restart)."""
        self._loop = asyncio.get_running_loop()
        for active in await asyncio.to_thread(self.service.runs.active_runs):
            if active.kind != "interactive":
                continue
            run = await asyncio.to_thread(self.service.runs.get, active.workspace, active.id)
            if is_driven_sweep(run.properties):
                self._adopt(run)

    async def stop(self) -> None:
        self._loop = None  # events that still arrive adopt nothing
        tasks = [s.task for s in self._sweeps.values() if s.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._sweeps.clear()

    def _on_event(self, workspace: str, event: Event) -> None:
        """A service event, from any thread: wake the sweep it concerns, or adopt a new sweep."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._route, workspace, event)

    def _route(self, workspace: str, event: Event) -> None:
        if isinstance(event, RunEvent):
            run = event.run
            if run.id in self._sweeps:
                self._sweeps[run.id].wake.set()
            elif run.parent_id in self._sweeps:
                self._sweeps[run.parent_id].wake.set()
            elif is_driven_sweep(run.properties) and not run.status.terminal and run.kind == "interactive":
                self._adopt(run)
        elif isinstance(event, MetricEvent):
            for sweep in self._sweeps.values():
                if event.run_id in sweep.children and event.name == sweep.config.primary_metric.name:
                    sweep.wake.set()

    def _adopt(self, run: models.Run) -> None:
        if run.id in self._sweeps:
            return
        try:
            config = SweepConfig.from_properties(run.properties)
        except InvalidInput as exc:
            task = asyncio.ensure_future(self._finish(run.workspace, run.id, RunStatus.FAILED, str(exc)))
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)
            return
        sweep = _Sweep(run.workspace, run.id, config)
        self._sweeps[run.id] = sweep
        sweep.task = asyncio.ensure_future(self._drive(sweep))

    # -- one sweep ---------------------------------------------------------------------------------------
    async def _drive(self, sweep: _Sweep) -> None:
        failures = 0
        try:
            while True:
                sweep.wake.clear()
                try:
                    if await self._tick(sweep):
                        return
                    failures = 0
                except NotFound:
                    return  # the parent was deleted
                except Exception as exc:
                    failures += 1
                    log.exception("HyperDrive run %s: a step failed", sweep.run_id)
                    if failures >= 5 or isinstance(exc, AMLError):
                        await self._cancel_active(sweep, f"the HyperDrive run {sweep.run_id} failed")
                        await self._finish(sweep.workspace, sweep.run_id, RunStatus.FAILED,
                                           f"HyperDrive could not go on: {exc}")
                        return
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(sweep.wake.wait(), timeout=self.tick_seconds)
        finally:
            self._sweeps.pop(sweep.run_id, None)

    async def _tick(self, sweep: _Sweep) -> bool:
        """One look at the sweep; True when it has ended."""
        ws, cfg = sweep.workspace, sweep.config
        parent = await asyncio.to_thread(self.service.runs.get, ws, sweep.run_id)
        if parent.status.terminal:
            return True
        await asyncio.to_thread(self._beat, ws, sweep.run_id)
        children = sorted(await asyncio.to_thread(self.service.runs.children, ws, sweep.run_id),
                          key=lambda r: r.number)
        sweep.children = {c.id for c in children}
        series = {c.id: await asyncio.to_thread(self._primary, ws, c.id, cfg.primary_metric.name) for c in children}
        active = [c for c in children if not c.status.terminal]

        trials = [Trial(c.id, series[c.id], not c.status.terminal) for c in children]
        for end in evaluate(cfg.policy.name, cfg.policy.properties, cfg.primary_metric.goal,
                            cfg.primary_metric.name, trials):
            await self._end_child(ws, end.run_id, end.reason)
            active = [c for c in active if c.id != end.run_id]

        started = as_utc(parent.start_time) or as_utc(parent.created_at)
        timed_out = started is not None and utcnow() - started > timedelta(minutes=cfg.max_duration_minutes)
        if timed_out and active:
            await self._cancel_active(sweep, f"the HyperDrive run reached max_duration_minutes="
                                      f"{cfg.max_duration_minutes:g}")
            active = []

        made = len(children)
        while not timed_out and made < cfg.total_runs() and len(active) < cfg.max_concurrent_runs:
            child = await self._launch(parent, cfg, made, children, series)
            children.append(child)
            active.append(child)
            made += 1
        if active:
            return False
        failed = bool(children) and all(c.status == RunStatus.FAILED for c in children)
        await self._record_best(ws, sweep.run_id, cfg, children, series)
        await self._finish(ws, sweep.run_id, RunStatus.FAILED if failed else RunStatus.COMPLETED,
                           "every child run failed" if failed else None)
        return True

    async def _launch(self, parent: models.Run, cfg: SweepConfig, index: int, children: list[models.Run],
                      series: dict[str, list[float]]) -> models.Run:
        history, pending = [], []
        if cfg.generator.name == "BAYESIANOPTIMIZATION":
            for c in children:
                params = hyperparameters_of(c)
                if params is None:
                    continue
                if not c.status.terminal:
                    pending.append(params)
                elif series.get(c.id):
                    history.append((params, best_of(series[c.id], cfg.primary_metric.goal)))
        point = await asyncio.to_thread(cfg.point, index, history, pending)
        assert parent.run_config is not None
        run_config = parent.run_config.model_copy(
            update={"arguments": [*parent.run_config.arguments, *as_arguments(point)]})
        spec = models.RunCreate(
            experiment=parent.experiment, kind="script", snapshot_id=parent.snapshot_id, run_config=run_config,
            git=parent.git, display_name=f"{parent.display_name}_{index}",
            properties={HYPERPARAMETERS: json.dumps(point), "azureml.runsource": "hyperdrive-child"},
            tags={HYPERPARAMETERS: json.dumps(point)},
        )
        return await self.scheduler.submit(parent.workspace, spec, submitter=parent.submitter, parent_id=parent.id)

    async def _cancel_active(self, sweep: _Sweep, reason: str) -> None:
        for child in await asyncio.to_thread(self.service.runs.children, sweep.workspace, sweep.run_id):
            if not child.status.terminal:
                await self._end_child(sweep.workspace, child.id, reason)

    async def _end_child(self, ws: str, run_id: str, reason: str) -> None:
        """Cancel a child with the reason; one that ended meanwhile keeps its own ending."""
        with contextlib.suppress(Conflict):
            await self.scheduler.cancel(ws, run_id, reason=reason)

    async def _record_best(self, ws: str, run_id: str, cfg: SweepConfig, children: list[models.Run],
                           series: dict[str, list[float]]) -> None:
        """v1 keeps the best child on the parent: properties ``best_child_run_id`` and ``score``."""
        scored = [(best_of(series[c.id], cfg.primary_metric.goal), c.id) for c in children if series.get(c.id)]
        if not scored:
            return
        score, best = (max if cfg.primary_metric.goal == "maximize" else min)(scored)
        with contextlib.suppress(AMLError):
            await asyncio.to_thread(self.service.runs.update, ws, run_id, models.RunUpdate(
                properties={"best_child_run_id": best, "score": repr(score)}))

    async def _finish(self, ws: str, run_id: str, status: RunStatus, message: str | None) -> None:
        error = models.RunError(message=message) if message else None
        with contextlib.suppress(AMLError):
            await asyncio.to_thread(self.service.runs.set_status, ws, run_id,
                                    models.StatusUpdate(status=status, error=error))

    # -- store reads and the parent's heartbeat -------------------------------------------------------------
    def _primary(self, ws: str, run_id: str, name: str) -> list[float]:
        try:
            history = self.service.metrics.history(ws, run_id, name)
        except NotFound:
            return []
        return [float(v) for v in history.values
                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]

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


def best_of(values: list[float], goal: str) -> float:
    return max(values) if goal == "maximize" else min(values)


def hyperparameters_of(run: models.Run) -> dict[str, Any] | None:
    raw = run.properties.get(HYPERPARAMETERS)
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
