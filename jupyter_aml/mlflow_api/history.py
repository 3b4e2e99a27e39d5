"""``metrics/get-history-bulk-interval``: the sampled metric histories of several runs the MLflow UI charts.

The semantics are MLflow 3.17's SQL store's (``SqlAlchemyStore.get_metric_history_bulk_interval``), which
``mlflow server`` answers with: per run, the points of the key within ``[start_step, end_step]`` (both or
neither) are ordered by (step, timestamp, value, NaN last), cut into ``max_results`` buckets as SQL's
``NTILE`` cuts them (the first ``n % k`` buckets one row longer), and the first point of each bucket is kept;
then the run's last point is added, replacing the last sample when ``max_results`` are there already. So a
run returns at most ``max_results`` points with its first and last among them, and with ``max_results=1``
only its last. The request's checks are the MLflow server handler's, in its words: at most 100 run ids,
``max_results`` in 1..2500, a run that does not exist is ``RESOURCE_DOES_NOT_EXIST``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from jupyter_aml.errors import NotFound
from jupyter_aml.mlflow_api import convert as cv
from jupyter_aml.mlflow_api.errors import invalid
from jupyter_aml.mlflow_api.ids import to_mlflow
from jupyter_aml.mlflow_api.runs import Runs

MAX_RUNS = 100  # mlflow.server.handlers.MAX_RUNS_GET_METRIC_HISTORY_BULK
MAX_RESULTS_PER_RUN = 2500  # mlflow.server.handlers.MAX_RESULTS_PER_RUN
_DOCS = " See the API docs for more information about request parameters."

Point = tuple[int, int, float]  # (step, timestamp in ms, value)


def _order(p: Point) -> tuple[int, int, float, bool]:
    nan = math.isnan(p[2])
    return p[0], p[1], 0.0 if nan else p[2], nan


def sample(points: Sequence[Point], max_results: int) -> list[Point]:
    """MLflow's sample of one run's points (already within the step range): NTILE buckets' first rows plus
    the last row."""
    rows = sorted(points, key=_order)
    n, k = len(rows), max(1, max_results)
    if n == 0:
        return []
    if n <= k:
        return rows
    q, r = divmod(n, k)
    picked = [rows[b * (q + 1) if b < r else r * (q + 1) + (b - r) * q] for b in range(k)]
    if picked[-1] is not rows[-1]:
        picked[-1] = rows[-1]  # k samples already: the last one gives way to the run's last point
    return picked


def bulk_interval(runs: Runs, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
    run_ids = cv.strings(req, "run_ids")
    if not run_ids:
        raise invalid("Missing value for required parameter 'run_ids'." + _DOCS)
    if len(run_ids) > MAX_RUNS:
        raise invalid(f"GetMetricHistoryBulkInterval request must specify at most {MAX_RUNS} run_ids. Received "
                      f"{len(run_ids)} run_ids." + _DOCS)
    key = cv.text(req, "metric_key", required=False)
    if not key:
        raise invalid("Missing value for required parameter 'metric_key'." + _DOCS)
    max_results = cv.integer(req, "max_results")
    if max_results is not None and not 1 <= max_results <= MAX_RESULTS_PER_RUN:
        raise invalid(f"max_results must be between 1 and {MAX_RESULTS_PER_RUN}." + _DOCS)
    start, end = cv.integer(req, "start_step"), cv.integer(req, "end_step")
    if (start is None) != (end is None):
        raise invalid("If either start step or end step are specified, both must be specified.")
    if start is not None and end is not None and start > end:
        raise invalid(f"end_step must be greater than start_step. Found start_step={start} and end_step={end}.")
    for run_id in run_ids:  # every run must exist before any is read, as MLflow's store checks
        runs.run(workspace, run_id)
    out: list[dict[str, Any]] = []
    for run_id in run_ids:
        points = [p for p in _points(runs, workspace, run_id, key)
                  if start is None or end is None or start <= p[0] <= end]
        shown = to_mlflow(run_id)
        out.extend({"key": key, "value": cv.metric_value(v), "timestamp": t, "step": s, "run_id": shown}
                   for s, t, v in sample(points, max_results or MAX_RESULTS_PER_RUN))
    return {"metrics": out}


def _points(runs: Runs, workspace: str, run_id: str, key: str) -> list[Point]:
    try:
        series = runs.service.metrics.history(workspace, run_id, key)
    except NotFound:
        return []
    if series.kind != "scalar":
        return []
    steps, times = series.steps or [], series.times or []
    found: list[Point] = []
    for value, step, stamp in zip(series.values, steps, times, strict=False):
        number = cv.metric_number(value)
        if number is not None:
            found.append((int(step), int(stamp * 1000), number))
    return found


__all__ = ["MAX_RESULTS_PER_RUN", "MAX_RUNS", "bulk_interval", "sample"]
