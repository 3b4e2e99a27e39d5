"""MLflow's filter and order_by grammar (filters.py) as core search terms (core/run_search.py), two ways.

- ``rest_terms``: the workspace's own ``GET runs?filter=&order_by=``. Attributes are the workspace's
  (``status = 'Completed'``, ``display_name``, times in milliseconds since the epoch), and a metric key ending
  in ``.min`` / ``.max`` / ``.last`` reads that summary of the series (``metrics.loss.min < 0.1``).
- ``mlflow_terms``: ``runs/search``, in MLflow's words: its statuses (FINISHED, KILLED, ...), its
  ``start_time`` (the creation time of a run never started), its derived tags (``mlflow.runName``,
  ``mlflow.parentRunId``, ``mlflow.user``) and the lifecycle stage, read from the columns they stand for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from jupyter_aml.core import models
from jupyter_aml.core import run_search as rs
from jupyter_aml.mlflow_api import convert as cv
from jupyter_aml.mlflow_api import filters
from jupyter_aml.mlflow_api.errors import invalid

REST = filters.Schema(
    entities=frozenset({"metric", "param", "tag", "attribute"}),
    string_attributes=frozenset({"run_id", "id", "run_name", "display_name", "status", "user_id", "submitter",
                                 "kind", "parent_id", "compute_target"}),
    numeric_attributes=frozenset({"start_time", "end_time", "created_at", "duration", "number"}),
    aliases={},
)
AGGS: dict[str, rs.Agg] = {".min": "min", ".max": "max", ".last": "last"}


def _rest_key(entity: filters.Entity, key: str) -> rs.Key:
    if entity == "metric":
        for suffix, agg in AGGS.items():
            if key.endswith(suffix) and len(key) > len(suffix):
                return rs.Key("metric", key[: -len(suffix)], agg)
    return rs.Key(entity, key)


def rest_terms(filter_text: str | None, order_by: Sequence[str]) -> tuple[list[rs.Cond], list[rs.Order]]:
    """The conditions and order of ``GET runs?filter=...&order_by=...`` (bad text: a 400 naming it)."""
    conds: list[rs.Cond] = []
    for c in filters.parse_filter(filter_text, REST):
        if c.entity == "attribute" and c.key == "status":
            _check_statuses(c.value)
        conds.append(rs.Cond(_rest_key(c.entity, c.key), c.op, c.value))
    order = [rs.Order(_rest_key(o.entity, o.key), o.ascending) for o in filters.parse_order_by(list(order_by), REST)]
    return conds, order


def _check_statuses(value: object) -> None:
    names = [str(v) for v in value] if isinstance(value, tuple) else [str(value)]
    wrong = [n for n in names if n not in {s.value for s in models.RunStatus} and "%" not in n and "_" not in n]
    if wrong:
        raise invalid(f"status {wrong[0]!r} is not a run status: use one of "
                      + ", ".join(s.value for s in models.RunStatus))


# -- MLflow's runs/search -------------------------------------------------------------------------------
_TAG_COLUMNS = {cv.RUN_NAME_TAG: "display_name", cv.PARENT_TAG: "parent_id"}


def _mlflow_key(entity: filters.Entity, key: str) -> rs.Key:
    if entity == "tag":
        if key in _TAG_COLUMNS:
            return rs.Key("attribute", _TAG_COLUMNS[key])
        if key == cv.USER_TAG:
            return rs.Key("tag", key, fallback="submitter")
        return rs.Key("tag", key)
    if entity == "attribute":
        if key == "start_time":
            return rs.Key("attribute", "started")
        if key == "artifact_uri":
            raise invalid("Filtering or ordering on attribute 'artifact_uri' is not supported by this server; filter "
                          "on run_id instead (a run's artifact_uri is mlflow-artifacts:/runs/<run_id>/artifacts)")
        return rs.Key("attribute", key)
    return rs.Key(entity, key)


def _statuses(c: filters.Comparison) -> rs.Cond:
    """MLflow's status names stand for sets of ours: the comparison picks the set, SQL tests membership."""
    mine = [s.value for s, name in cv.TO_MLFLOW.items() if filters.matches([c], lambda *_: name)]  # noqa: B023
    return rs.Cond(rs.Key("attribute", "status"), "IN", tuple(mine) or ("",))


def _lifecycle(c: filters.Comparison) -> rs.Cond | None:
    stages = [s for s in (cv.ACTIVE, cv.DELETED) if filters.matches([c], lambda *_, s=s: s)]
    tag = rs.Key("tag", cv.LIFECYCLE_TAG)
    if len(stages) == 2:
        return None
    if not stages:
        return rs.Cond(rs.Key("attribute", "id"), "IN", ("",))
    return rs.Cond(tag, "=", cv.DELETED) if stages == [cv.DELETED] else rs.Cond(tag, "DIFFERS", cv.DELETED)


def _ids(c: filters.Comparison, run_id: Callable[[str], str]) -> filters.Comparison:
    """A comparison of run ids (``run_id``, ``mlflow.parentRunId``) with MLflow's form of each id read back
    (mlflow_api/ids.py); LIKE patterns are left as they are."""
    is_id = (c.entity == "attribute" and c.key == "run_id") or (c.entity == "tag" and c.key == cv.PARENT_TAG)
    if not is_id or c.op not in ("=", "!=", "IN", "NOT IN"):
        return c
    if isinstance(c.value, tuple):
        return dataclasses.replace(c, value=tuple(run_id(v) for v in c.value))
    return dataclasses.replace(c, value=run_id(c.value)) if isinstance(c.value, str) else c


def mlflow_terms(filter_text: str | None, order_by: Sequence[str], view: str,
                 run_id: Callable[[str], str] = str) -> tuple[list[rs.Cond], list[rs.Order]]:
    """runs/search's filter, run_view_type and order_by; the order ends in MLflow's default
    (start time descending), then the run id. ``run_id`` reads MLflow's form of a run id back."""
    conds: list[rs.Cond] = []
    if view != "ALL":
        conds.append(rs.Cond(rs.Key("tag", cv.LIFECYCLE_TAG), "=" if view == "DELETED_ONLY" else "DIFFERS",
                             cv.DELETED))
    for c in (_ids(c, run_id) for c in filters.parse_filter(filter_text)):
        if c.entity == "attribute" and c.key == "status":
            conds.append(_statuses(c))
        elif c.entity == "attribute" and c.key == "lifecycle_stage":
            if (cond := _lifecycle(c)) is not None:
                conds.append(cond)
        else:
            conds.append(rs.Cond(_mlflow_key(c.entity, c.key), c.op, c.value))
    order = []
    for o in filters.parse_order_by(list(order_by)):
        if o.entity == "attribute" and o.key == "lifecycle_stage":
            raise invalid("Ordering on attribute 'lifecycle_stage' is not supported by this server")
        order.append(rs.Order(_mlflow_key(o.entity, o.key), o.ascending))
    order.append(rs.Order(rs.Key("attribute", "started"), False))
    return conds, order
