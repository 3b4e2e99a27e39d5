"""What the MLflow REST API (``jupyter_aml.mlflow_api``) needs of the core beyond the v1 routes' methods:
experiments by id, renaming an active experiment, a run's start and end times as the client reports them,
scalar points with the client's own steps and timestamps, and the runs of experiments with their latest
metric values in a few queries. Everything reads and writes the same tables as the v1 API: MLflow runs *are*
runs, so the studio, the widget, the CLI and the v1 SDK show them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from jupyter_aml.core import models
from jupyter_aml.core.journal_scalars import Scalars
from jupyter_aml.core.metrics import MetricService
from jupyter_aml.core.runs import RunService
from jupyter_aml.core.workspaces import WorkspaceService, experiment_model, run_counts, utc
from jupyter_aml.errors import Conflict, InvalidInput, NotFound
from jupyter_aml.runtime.metric_values import MARKERS
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import ExperimentRow, MetricSeriesRow, RunRow

_EXPERIMENT_NAME = re.compile(models.EXPERIMENT_PATTERN)


@dataclass(frozen=True)
class ScalarPoint:
    """One MLflow metric point: its value (NaN and infinities included), step and time in seconds."""

    key: str
    value: float
    step: float
    time: float


@dataclass(frozen=True)
class LatestMetric:
    value: float
    step: float


class MlflowSupport:
    def __init__(self, db: Store, runs: RunService, metrics: MetricService) -> None:
        self.db = db
        self.runs = runs
        self.metrics = metrics

    # -- experiments --------------------------------------------------------------------------------
    def experiment_by_id(self, workspace: str, experiment_id: int) -> models.Experiment:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            row = s.scalar(select(ExperimentRow).where(ExperimentRow.workspace_id == ws.id,
                                                       ExperimentRow.id == experiment_id))
            if row is None:
                raise NotFound(f"No Experiment with id={experiment_id} exists in workspace {workspace!r}")
            return experiment_model(row, ws.name, s)

    def experiments_by_ids(self, workspace: str, experiment_ids: Iterable[int]) -> list[models.Experiment]:
        ids = sorted(set(experiment_ids))
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            rows = list(s.scalars(select(ExperimentRow).where(ExperimentRow.workspace_id == ws.id,
                                                              ExperimentRow.id.in_(ids))))
            counts = run_counts(s, [r.id for r in rows])
            return [experiment_model(r, ws.name, s, counts) for r in rows]

    def rename_experiment(self, workspace: str, experiment_id: int, new_name: str) -> models.Experiment:
        """Rename an experiment, active or archived; its id and runs stay (v1 renames only on reactivate)."""
        if not _EXPERIMENT_NAME.fullmatch(new_name):
            raise InvalidInput(f"experiment name {new_name!r} is not valid",
                               hint=models.EXPERIMENT_NAME_HINT)
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            row = s.scalar(select(ExperimentRow).where(ExperimentRow.workspace_id == ws.id,
                                                       ExperimentRow.id == experiment_id))
            if row is None:
                raise NotFound(f"No Experiment with id={experiment_id} exists in workspace {workspace!r}")
            if row.name != new_name:
                taken = s.scalar(select(ExperimentRow.id).where(ExperimentRow.workspace_id == ws.id,
                                                                ExperimentRow.name == new_name))
                if taken is not None:
                    raise Conflict(f"Experiment {new_name!r} already exists.")
                row.name = new_name
            return experiment_model(row, ws.name, s)

    # -- runs ---------------------------------------------------------------------------------------
    def run_exists(self, run_id: str) -> bool:
        """Whether a run has this id (in any workspace: ids are unique), by primary key."""
        with self.db.read() as s:
            return s.get(RunRow, run_id) is not None

    def set_times(self, workspace: str, run_id: str, *, start: datetime | None = None,
                  end: datetime | None = None) -> models.Run:
        """The times an MLflow client reports (its clock, as MLflow records them); the duration follows."""
        with self.db.session() as s:
            row = self.runs.row(s, workspace, run_id)
            if start is not None:
                row.start_time = start
            if end is not None:
                row.end_time = end
            if row.start_time is not None and row.end_time is not None:
                row.duration_seconds = max(0.0, (utc(row.end_time) - utc(row.start_time)).total_seconds())
            s.flush()
            run = self.runs.to_models(s, [row])[0]
        self.runs._emit(run)
        return run

    def log_scalars(self, workspace: str, run_id: str, points: Sequence[ScalarPoint]) -> None:
        """Append the points to the run's scalar series in one transaction, then tell the live views."""
        if not points:
            return
        # As columns, the form the journal's scalars take (core/journal_scalars.py): the MLflow layer checked the
        # keys, values, steps and times already, so no pydantic record per point (~half of a log_batch's time).
        scalars = Scalars()
        for i, p in enumerate(points):
            wire = _wire(p.value)
            scalars.add(i, i + 1, run_id, p.key, p.time, wire["v"], p.step, None, wire.get("vt"))  # type: ignore[arg-type]
        with self.db.session() as s:
            self.runs.row(s, workspace, run_id)
            events, refused = self.metrics._apply(s, [], scalars)
            if refused:  # another kind of metric holds the name: refuse the whole batch, as MLflow's store would
                raise InvalidInput(refused[0].reason, hint="log this value under another metric key")
        for event in events:
            self.metrics.events(workspace, event)

    def runs_of(self, workspace: str, experiment_ids: Iterable[int]) -> list[models.Run]:
        """Every run (at any depth) of the experiments, newest first."""
        ids = list(set(experiment_ids))
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            rows = list(s.scalars(select(RunRow).where(RunRow.workspace_id == ws.id, RunRow.experiment_id.in_(ids))
                                  .order_by(RunRow.created_at.desc(), RunRow.id)))
            return self.runs.to_models(s, rows)

    def latest_metrics(self, run_ids: Iterable[str]) -> dict[str, dict[str, LatestMetric]]:
        """Each run's scalar series by name with the last value logged (numbers only: a v1 string or None
        metric has no MLflow counterpart). One query per 500 runs."""
        ids = list(run_ids)
        out: dict[str, dict[str, LatestMetric]] = {i: {} for i in ids}
        with self.db.read() as s:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                rows = s.execute(select(MetricSeriesRow.run_id, MetricSeriesRow.name, MetricSeriesRow.last_json,
                                        MetricSeriesRow.last_step)
                                 .where(MetricSeriesRow.run_id.in_(chunk), MetricSeriesRow.kind == "scalar"))
                for run_id, name, last_json, last_step in rows:
                    value = _number(last_json)
                    if value is not None:
                        out[run_id][name] = LatestMetric(value, float(last_step or 0))
        return out


def _wire(value: float) -> dict[str, object]:
    """A float as a journal record carries it: non-finite ones as marker strings flagged ``vt``."""
    if value != value:
        return {"v": "NaN", "vt": "f"}
    if value in (float("inf"), float("-inf")):
        return {"v": "Infinity" if value > 0 else "-Infinity", "vt": "f"}
    return {"v": float(value)}


def _number(last_json: str | None) -> float | None:
    if not last_json:
        return None
    try:
        code, value = json.loads(last_json)
    except (ValueError, TypeError):
        return None
    if code in ("f", "i", "b"):
        if isinstance(value, str):
            return MARKERS.get(value)
        return float(value)
    return None
