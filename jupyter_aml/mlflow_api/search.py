"""``runs/search``: MLflow's filter grammar and ``order_by`` over the runs of the named experiments, in SQL.

The filter is parsed (``filters.parse_filter``), turned into core search terms in MLflow's words
(``run_filter.mlflow_terms``) and run as one query (core/run_search.py): only the page's runs are read, with
their tags, params and latest metrics. Runs missing an ``order_by`` key sort last in either direction, as in
MLflow's SQL store; the default order is MLflow's (start time descending, then run id). Page tokens are
keyset cursors, opaque to the client as MLflow's are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jupyter_aml.mlflow_api import convert as cv
from jupyter_aml.mlflow_api import run_filter
from jupyter_aml.mlflow_api.errors import MlflowError, invalid
from jupyter_aml.mlflow_api.runs import Runs

MAX_RESULTS = 50_000
VIEW_TYPES = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")


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
    conds, order = run_filter.mlflow_terms(cv.text(req, "filter", required=False), cv.strings(req, "order_by"), view,
                                           runs.ids.from_mlflow)
    token = cv.text(req, "page_token", required=False)

    numbers: dict[int, str] = {}
    for experiment_id in ids:
        try:
            exp = runs.experiments.resolve(workspace, experiment_id)
        except MlflowError:
            if experiment_id == cv.DEFAULT_EXPERIMENT_ID:
                continue  # the Default experiment nothing logged to yet: no runs, and a read creates nothing
            raise
        numbers[int(exp.id)] = cv.experiment_id(exp)
    if not numbers:
        return {"runs": []}
    exp_ids = {e.name: numbers[int(e.id)] for e in runs.support.experiments_by_ids(workspace, numbers)}
    found, cursor = runs.service.runs.search_page(workspace, numbers, conds, order, page_size=limit,
                                                  cursor=token or None)
    # a run whose experiment was renamed meanwhile is left out of this page, never a 500
    answer: dict[str, Any] = {"runs": runs.run_bodies([r for r in found if r.experiment in exp_ids], exp_ids)}
    if cursor is not None:
        answer["next_page_token"] = cursor
    return answer
