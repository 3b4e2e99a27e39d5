"""``runs/search``: MLflow's filter grammar and ``order_by`` over the runs of the named experiments.

The runs, their tags, params (properties) and latest metric values are read in a few bulk queries, then the
parsed filter (``filters.parse_filter``) is applied and the rows are ordered and paged here. Runs missing an
``order_by`` key sort last in either direction, as in MLflow's SQL store; the default order is MLflow's
(start time descending, then run id). Page tokens are offsets, as MLflow's are.

This reads every run of the experiments per search: fine for thousands of runs, and the place to push the
filter down into SQL when an experiment holds hundreds of thousands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jupyter_aml.core import models
from jupyter_aml.core.mlflow_support import LatestMetric
from jupyter_aml.mlflow_api import convert as cv
from jupyter_aml.mlflow_api import filters
from jupyter_aml.mlflow_api.errors import invalid
from jupyter_aml.mlflow_api.experiments import decode_token, encode_token
from jupyter_aml.mlflow_api.runs import Runs

MAX_RESULTS = 50_000
VIEW_TYPES = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")


class _Row:
    """One run as the filter and the order see it."""

    def __init__(self, run: models.Run, exp_id: str, metrics: Mapping[str, LatestMetric]) -> None:
        self.run = run
        self.exp_id = exp_id
        self.metrics = metrics
        self.tags = cv.run_tags(run)
        self.info = cv.run_info(run, exp_id)

    def value(self, entity: str, key: str) -> str | float | None:
        if entity == "metric":
            metric = self.metrics.get(key)
            return None if metric is None else metric.value
        if entity == "param":
            return self.run.properties.get(key)
        if entity == "tag":
            return self.tags.get(key)
        value = self.info.get(key)
        return value if isinstance(value, str | int | float) else None


def search_runs(runs: Runs, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
    ids = cv.strings(req, "experiment_ids")
    if not ids:
        raise invalid("runs/search needs experiment_ids: the experiments whose runs to search",
                      hint="e.g. mlflow.search_runs(experiment_ids=['0'])")
    limit = cv.integer(req, "max_results", default=1000) or 0
    if not 1 <= limit <= MAX_RESULTS:
        raise invalid(f"Invalid value {limit} for parameter 'max_results' supplied. It must be at most "
                      f"{MAX_RESULTS}, and at least 1")
    view = cv.text(req, "run_view_type", required=False, default="ACTIVE_ONLY")
    if view not in VIEW_TYPES:
        raise invalid(f"Invalid run_view_type {view!r}: use one of {', '.join(VIEW_TYPES)}")
    where = filters.parse_filter(cv.text(req, "filter", required=False))
    order = filters.parse_order_by(cv.strings(req, "order_by"))
    offset = decode_token(cv.text(req, "page_token", required=False))

    numbers: dict[int, str] = {}
    for experiment_id in ids:
        exp = runs.experiments.resolve(workspace, experiment_id)
        numbers[int(exp.id)] = cv.experiment_id(exp)
    found = runs.support.runs_of(workspace, numbers)
    exp_ids = {e.name: numbers[int(e.id)] for e in runs.support.experiments_by_ids(workspace, numbers)}
    if view != "ALL":
        wanted = cv.DELETED if view == "DELETED_ONLY" else cv.ACTIVE
        found = [r for r in found if cv.lifecycle(r) == wanted]
    latest = runs.support.latest_metrics(r.id for r in found)
    # a run whose experiment was renamed meanwhile is left out of this page, never a 500
    rows = [_Row(r, exp_ids[r.experiment], latest[r.id]) for r in found if r.experiment in exp_ids]
    rows = [r for r in rows if filters.matches(where, r.value)]
    rows.sort(key=lambda r: r.run.id)
    rows.sort(key=lambda r: r.info["start_time"] or 0, reverse=True)
    for clause in reversed(order):
        rows = _ordered(rows, clause)
    page = rows[offset:offset + limit]
    answer: dict[str, Any] = {"runs": [cv.run_json(r.run, r.exp_id, r.metrics) for r in page]}
    if offset + limit < len(rows):
        answer["next_page_token"] = encode_token(offset + limit)
    return answer


def _ordered(rows: list[_Row], clause: filters.OrderBy) -> list[_Row]:
    """A stable sort on one clause: runs without the key after the others, whichever the direction."""
    present = [(r.value(clause.entity, clause.key), r) for r in rows]
    keyed = [(v, r) for v, r in present if v is not None]
    missing = [r for v, r in present if v is None]
    numeric = [(v, r) for v, r in keyed if isinstance(v, int | float) and v == v]
    nans = [r for v, r in keyed if isinstance(v, float) and v != v]  # NaN: after every number, as in MLflow
    texts = [(v, r) for v, r in keyed if not isinstance(v, int | float)]
    numeric.sort(key=lambda item: float(item[0]), reverse=not clause.ascending)
    texts.sort(key=lambda item: str(item[0]), reverse=not clause.ascending)
    return [r for _, r in numeric] + nans + [r for _, r in texts] + missing
