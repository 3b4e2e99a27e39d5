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
from jupyter_aml.core.parent_runs import DrivenRun, ParentRunDriver
from jupyter_aml.core.run_views import ActiveRun
from jupyter_aml.core.scheduler import Scheduler
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.workspaces import as_utc, utcnow
from jupyter_aml.errors import AMLError, InvalidInput, NotFound

log = logging.getLogger(__name__)
HYPERPARAMETERS = "hyperparameters"  # each child's property: its sampled values, as JSON (v1 keeps the same)


def is_sweep(properties: dict[str, Any]) -> bool:
    return properties.get("azureml.runsource") == RUNSOURCE


def is_driven_sweep(properties: dict[str, Any]) -> bool:
    """A sweep this service drives: labelled HyperDrive *and* carrying a sweep configuration. A run that a
    user only labels ``azureml.runsource=hyperdrive`` (``add_properties``) is theirs to end, not failed."""
    return is_sweep(properties) and any(key in properties for key in PROPERTY_KEYS)


@dataclass(kw_only=True)
class _Sweep(DrivenRun):
    config: SweepConfig
    children: set[str] = field(default_factory=set)


class HyperDriveService(ParentRunDriver[_Sweep]):
    """Every active sweep of the service, each driven by its own task (core/parent_runs.py)."""

    label = "HyperDrive run"

    def __init__(self, service: AMLService, scheduler: Scheduler) -> None:
        super().__init__(service, scheduler)
        self._finishing: set[asyncio.Future[None]] = set()  # parents failed for a bad stored configuration
        scheduler.submit_checks.append(self.check_spec)

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

    # -- driving (core/parent_runs.py runs the loop) ---------------------------------------------------------
    async def _resume(self, active: ActiveRun) -> None:
        run = await asyncio.to_thread(self.service.runs.get, active.workspace, active.id)
        if is_driven_sweep(run.properties):
            self._adopt(run)

    def _wants_other(self, event: Event) -> bool:
        """What ``_route_other`` acts on: a sweep's parent to adopt, or a metric while sweeps are driven."""
        if isinstance(event, RunEvent):
            run = event.run
            return run.kind == "interactive" and not run.status.terminal and is_driven_sweep(run.properties)
        return isinstance(event, MetricEvent) and bool(self._driven)

    def _route_other(self, workspace: str, event: Event) -> None:
        """A new sweep's parent is adopted; a child's primary metric wakes its sweep (the policy may act)."""
        if isinstance(event, RunEvent):
            run = event.run
            if is_driven_sweep(run.properties) and not run.status.terminal and run.kind == "interactive":
                self._adopt(run)
        elif isinstance(event, MetricEvent):
            for sweep in self._driven.values():
                if event.run_id in sweep.children and event.name == sweep.config.primary_metric.name:
                    sweep.wake.set()

    def _adopt(self, run: models.Run) -> None:
        if run.id in self._driven:
            return
        try:
            config = SweepConfig.from_properties(run.properties)
        except InvalidInput as exc:
            task = asyncio.ensure_future(self._finish(run.workspace, run.id, RunStatus.FAILED, str(exc)))
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)
            return
        self._drive_new(_Sweep(run.workspace, run.id, config=config))

    def _gives_up(self, failures: int, exc: Exception) -> bool:
        return super()._gives_up(failures, exc) or isinstance(exc, AMLError)

    async def _give_up(self, sweep: _Sweep, exc: Exception) -> None:
        await self._cancel_active(sweep.workspace, sweep.run_id, f"the HyperDrive run {sweep.run_id} failed")
        await self._finish(sweep.workspace, sweep.run_id, RunStatus.FAILED, f"HyperDrive could not go on: {exc}")

    async def _tick(self, sweep: _Sweep, parent: models.Run, children: list[models.Run]) -> bool:
        """One look at the sweep; True when it has ended."""
        ws, cfg = sweep.workspace, sweep.config
        children = sorted(children, key=lambda r: r.number)
        sweep.children = {c.id for c in children}
        series = {c.id: await asyncio.to_thread(self._primary, ws, c.id, cfg.primary_metric.name) for c in children}
        active = [c for c in children if not c.status.terminal]

        trials = [Trial(c.id, series[c.id], not c.status.terminal) for c in children]
        for end in evaluate(cfg.policy.name, cfg.policy.properties, cfg.primary_metric.goal,
                            cfg.primary_metric.name, trials):
            await self._cancel_child(ws, end.run_id, end.reason)
            active = [c for c in active if c.id != end.run_id]

        started = as_utc(parent.start_time) or as_utc(parent.created_at)
        timed_out = started is not None and utcnow() - started > timedelta(minutes=cfg.max_duration_minutes)
        if timed_out and active:
            await self._cancel_active(ws, sweep.run_id, f"the HyperDrive run reached max_duration_minutes="
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

    # -- store reads -----------------------------------------------------------------------------------------
    def _primary(self, ws: str, run_id: str, name: str) -> list[float]:
        try:
            history = self.service.metrics.history(ws, run_id, name)
        except NotFound:
            return []
        return [float(v) for v in history.values
                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]


def best_of(values: list[float], goal: str) -> float:
    return max(values) if goal == "maximize" else min(values)


def hyperparameters_of(run: models.Run) -> dict[str, Any] | None:
    raw = run.properties.get(HYPERPARAMETERS)
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
