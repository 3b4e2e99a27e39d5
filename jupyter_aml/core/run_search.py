"""Run search in SQL: a typed filter, an order over metrics, params, tags and attributes, and a keyset cursor.

Every listing of runs (REST ``GET runs``, MLflow's ``runs/search``) compiles to one query here instead of
reading every run and filtering in Python: a metric is a correlated subquery on ``metric_series`` (its unique
``(run_id, name)`` index), a param or tag one on ``run_properties`` / ``run_tags`` (their primary keys), so the
cost is one index probe per candidate run and the database sorts. The SQL is plain SQLAlchemy Core, portable
to SQLite and PostgreSQL; the one dialect difference, ``LIKE`` being case-insensitive in SQLite, is bridged
with ``GLOB``.

Runs missing an order key sort after the others in either direction (``NULLS LAST``), ties break on the run
id, and the cursor carries the last row's keys, so a page costs the same wherever it is and runs created
while paging never shift a page.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select
from sqlalchemy.orm import Session

from jupyter_aml.errors import InvalidInput
from jupyter_aml.store.tables import MetricSeriesRow, RunPropertyRow, RunRow, RunTagRow

Entity = Literal["metric", "param", "tag", "attribute"]
Agg = Literal["last", "min", "max"]
OPS = frozenset({"=", "!=", "DIFFERS", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"})
MAX_PAGE = 50_000
MAX_CONDS = 100  # comparisons per search: deeper AND chains hit SQLite's expression depth limit
MAX_VALUES = 1_000  # values in one IN list: beyond, a statement would pass SQLite's bound-variable limit


@dataclass(frozen=True)
class Key:
    """What a comparison or an order reads: a metric's last/min/max, a param, a tag or a run attribute.

    ``fallback`` (tags only) is an attribute read when the run has no such tag: MLflow's ``mlflow.user``.
    """

    entity: Entity
    name: str
    agg: Agg = "last"
    fallback: str | None = None


@dataclass(frozen=True)
class Cond:
    key: Key
    op: str
    value: str | float | datetime | tuple[str, ...] | None = None


@dataclass(frozen=True)
class Order:
    key: Key
    ascending: bool = True


@dataclass(frozen=True)
class MetricSummary:
    last: float | None
    min: float | None
    max: float | None


@dataclass
class SearchPage:
    rows: list[RunRow]
    next_cursor: str | None
    total: int | None
    metric_columns: dict[str, dict[str, MetricSummary | None]]  # run id -> metric name -> summary (None: none)
    param_columns: dict[str, dict[str, str | None]]


def _started() -> ColumnElement[Any]:
    return func.coalesce(RunRow.start_time, RunRow.created_at)


# attribute name -> (column expression, kind); "started" is MLflow's start_time (created when never started)
ATTRIBUTES: dict[str, tuple[Any, str]] = {
    "id": (RunRow.id, "text"), "run_id": (RunRow.id, "text"),
    "status": (RunRow.status, "text"),
    "display_name": (RunRow.display_name, "text"), "run_name": (RunRow.display_name, "text"),
    "submitter": (RunRow.submitter, "text"), "user_id": (RunRow.submitter, "text"),
    "parent_id": (RunRow.parent_id, "text"), "kind": (RunRow.kind, "text"),
    "compute_target": (RunRow.compute_target, "text"),
    "created_at": (RunRow.created_at, "time"), "start_time": (RunRow.start_time, "time"),
    "end_time": (RunRow.end_time, "time"), "started": (None, "time"),
    "duration": (RunRow.duration_seconds, "number"), "number": (RunRow.number, "number"),
}


def attribute_names() -> list[str]:
    return sorted(k for k in ATTRIBUTES if k != "started")


def expression(key: Key) -> tuple[ColumnElement[Any], str]:
    """The SQL expression of one key for the run in the outer query, and its kind (text, number, time)."""
    if key.entity == "metric":
        column = {"last": MetricSeriesRow.last_value, "min": MetricSeriesRow.min_value,
                  "max": MetricSeriesRow.max_value}[key.agg]
        metric = select(column).where(MetricSeriesRow.run_id == RunRow.id, MetricSeriesRow.name == key.name,
                                      MetricSeriesRow.kind == "scalar")
        return metric.scalar_subquery(), "number"
    if key.entity in ("param", "tag"):
        table = RunPropertyRow if key.entity == "param" else RunTagRow
        sub = select(table.value).where(table.run_id == RunRow.id, table.key == key.name).scalar_subquery()
        if key.fallback is not None:
            return func.coalesce(sub, expression(Key("attribute", key.fallback))[0]), "text"
        return sub, "text"
    if key.name not in ATTRIBUTES:
        raise InvalidInput(f"attribute {key.name!r} cannot be searched",
                           hint="use one of " + ", ".join(attribute_names()))
    column, kind = ATTRIBUTES[key.name]
    return (_started() if key.name == "started" else column), kind


def _glob(pattern: str) -> str:
    """A LIKE pattern as SQLite's case-sensitive GLOB: % -> *, _ -> ?, GLOB's own specials bracketed."""
    out = []
    for c in pattern:
        out.append("*" if c == "%" else "?" if c == "_" else f"[{c}]" if c in "*?[" else c)
    return "".join(out)


def _value(cond: Cond, kind: str) -> Any:
    value = cond.value
    if kind == "time" and isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value) / 1000, tz=timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise InvalidInput(f"time {value} is out of range", hint="milliseconds since the epoch") from None
    if kind == "number" and not isinstance(value, int | float) and cond.op not in ("IN", "NOT IN"):
        raise InvalidInput(f"{cond.key.entity} {cond.key.name!r} compares with a number, not {value!r}")
    return value


def compile_cond(cond: Cond, dialect: str) -> ColumnElement[bool]:
    """One comparison as SQL. A run without the key satisfies none but ``IS NULL`` (``!=`` included)."""
    if cond.op not in OPS:
        raise InvalidInput(f"comparator {cond.op!r} is not supported", hint="use one of " + ", ".join(sorted(OPS)))
    if cond.key.entity in ("param", "tag") and cond.key.fallback is None and cond.op in ("=", "IN"):
        # equality drives the query from the (key, value) index: the matching runs, not a probe per run
        table = RunPropertyRow if cond.key.entity == "param" else RunTagRow
        wanted = list(cond.value) if isinstance(cond.value, tuple) else [cond.value]
        return RunRow.id.in_(select(table.run_id).where(table.key == cond.key.name, table.value.in_(wanted)))
    column, kind = expression(cond.key)
    if cond.op == "IS NULL":
        return column.is_(None)
    if cond.op == "IS NOT NULL":
        return column.is_not(None)
    if cond.op == "DIFFERS":  # missing or another value: "not deleted" for a lifecycle tag
        return or_(column.is_(None), column != cond.value)
    value = _value(cond, kind)
    if cond.op in ("IN", "NOT IN"):
        values = list(value) if isinstance(value, tuple | list) else [value]
        inside = column.in_(values)
        return inside if cond.op == "IN" else and_(column.is_not(None), not_(inside))
    if cond.op in ("LIKE", "ILIKE"):
        if kind != "text":
            raise InvalidInput(f"{cond.op} compares text; {cond.key.entity} {cond.key.name!r} is a {kind}")
        text = str(value)
        if cond.op == "ILIKE":
            return func.lower(column).like(func.lower(text))
        if dialect == "sqlite":  # SQLite's LIKE ignores case: GLOB keeps it, as PostgreSQL's LIKE does
            return column.op("GLOB")(_glob(text))
        return column.like(text)
    ops = {"=": column.__eq__, "!=": column.__ne__, "<": column.__lt__, "<=": column.__le__,
           ">": column.__gt__, ">=": column.__ge__}
    result: ColumnElement[bool] = ops[cond.op](value)
    if cond.op == "!=":
        result = and_(column.is_not(None), result)
    return result


# -- the keyset cursor --------------------------------------------------------------------------------
def _dump(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _load(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.fromisoformat(str(value["t"]))
    if value is None or isinstance(value, str | int | float):
        return value
    raise ValueError("bad cursor value")


def encode_cursor(values: Sequence[Any], run_id: str, fingerprint: str, total: int | None = None) -> str:
    body = json.dumps({"v": [_dump(v) for v in values], "id": run_id, "f": fingerprint, "n": total},
                      separators=(",", ":"))
    return base64.urlsafe_b64encode(b"k:" + body.encode()).decode()


def decode_cursor(token: str, width: int, fingerprint: str) -> tuple[list[Any], str, int | None]:
    """The order values, run id and total a cursor carries; one not issued for this order is bad input."""
    try:
        raw = base64.urlsafe_b64decode(token.encode()).decode()
        if not raw.startswith("k:"):
            raise ValueError
        body = json.loads(raw[2:])
        values = [_load(v) for v in body["v"]]
        total = body.get("n")
        if len(values) != width or body["f"] != fingerprint or not isinstance(body["id"], str):
            raise ValueError
        if total is not None and (not isinstance(total, int) or total < 0):
            raise ValueError
        return values, body["id"], total
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidInput(f"page_token {token[:80]!r} is not valid for this listing",
                           hint="pass next_page_token as returned, with the same order") from None


def _after(exprs: Sequence[tuple[ColumnElement[Any], bool]], values: Sequence[Any], run_id: str
           ) -> ColumnElement[bool]:
    """Rows strictly after the cursor in the order ``(expr NULLS LAST, ..., id)``: lexicographic, NULL-aware."""
    keys = [*exprs, (RunRow.id, True)]
    vals = [*values, run_id]
    alternatives: list[ColumnElement[bool]] = []
    equal: list[ColumnElement[bool]] = []
    for (column, ascending), value in zip(keys, vals, strict=True):
        if value is None:  # the cursor is among the runs without this key: only they can tie, none is after
            equal.append(column.is_(None))
            continue
        beyond = column > value if ascending else column < value
        alternatives.append(and_(*equal, or_(beyond, column.is_(None))) if equal else or_(beyond, column.is_(None)))
        equal.append(column == value)
    return or_(*alternatives) if alternatives else false()


def search(
    session: Session,
    where: Iterable[ColumnElement[bool]],
    conds: Sequence[Cond] = (),
    order: Sequence[Order] = (),
    *,
    page_size: int = 50,
    cursor: str | None = None,
    metric_columns: Sequence[str] = (),
    param_columns: Sequence[str] = (),
    count: bool = True,
) -> SearchPage:
    """One page of the runs matching ``where`` (plain SQL conditions) and ``conds``, in ``order``."""
    if not 1 <= page_size <= MAX_PAGE:
        raise InvalidInput(f"page_size {page_size} is out of range", hint=f"use 1..{MAX_PAGE}")
    if len(conds) > MAX_CONDS or len(order) > MAX_CONDS:
        raise InvalidInput(f"the search has {len(conds)} comparisons and {len(order)} order keys; at most "
                           f"{MAX_CONDS} of each are accepted", hint="narrow the filter, or list in steps")
    for cond in conds:
        if isinstance(cond.value, tuple) and len(cond.value) > MAX_VALUES:
            raise InvalidInput(f"an IN list of {len(cond.value)} values is too long; at most {MAX_VALUES}")
    dialect = session.get_bind().dialect.name
    filters = [*where, *(compile_cond(c, dialect) for c in conds)]
    exprs = [(expression(o.key)[0], o.ascending) for o in order]
    fingerprint = repr([(o.key.entity, o.key.name, o.key.agg, o.ascending) for o in order])
    paged = list(filters)
    total: int | None = None
    if cursor:
        values, last_id, total = decode_cursor(cursor, len(order), fingerprint)
        paged.append(_after(exprs, values, last_id))
    # the sort carries only ids and keys (each key computed once, ordered by its label); rows come after
    labels = [e.label(f"k{i}") for i, (e, _) in enumerate(exprs)]
    clauses = [(lab.asc() if asc else lab.desc()).nulls_last() for lab, (_, asc) in zip(labels, exprs, strict=True)]
    clauses.append(RunRow.id.asc())
    # the first page counts the matches in the same pass (a window over the filtered runs, before LIMIT);
    # later pages carry that total in their cursor instead of filtering every run again
    windowed = count and not cursor
    columns = [RunRow.id, *labels, *([func.count().over().label("total")] if windowed else [])]
    query = select(*columns).where(*paged).order_by(*clauses).limit(page_size + 1)
    found = [tuple(r) for r in session.execute(query)]
    if windowed:
        total = int(found[0][-1]) if found else 0
        found = [r[:-1] for r in found]
    more = len(found) > page_size
    found = found[:page_size]
    by_id = {r.id: r for r in session.scalars(select(RunRow).where(RunRow.id.in_([f[0] for f in found])))}
    rows = [by_id[f[0]] for f in found]
    next_cursor = None
    if more and found:
        last = found[-1]
        next_cursor = encode_cursor([_plain(v) for v in last[1:]], last[0], fingerprint, total)
    if not count:
        total = None
    elif total is None:  # a cursor made without a total
        total = session.scalar(select(func.count()).select_from(RunRow).where(*filters)) or 0
    ids = [r.id for r in rows]
    return SearchPage(rows, next_cursor, total, _metrics(session, ids, metric_columns),
                      _params(session, ids, param_columns))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _metrics(session: Session, ids: list[str], names: Sequence[str]) -> dict[str, dict[str, MetricSummary | None]]:
    out: dict[str, dict[str, MetricSummary | None]] = {i: dict.fromkeys(names) for i in ids}
    if not ids or not names:
        return out
    rows = session.execute(
        select(MetricSeriesRow.run_id, MetricSeriesRow.name, MetricSeriesRow.last_value, MetricSeriesRow.min_value,
               MetricSeriesRow.max_value)
        .where(MetricSeriesRow.run_id.in_(ids), MetricSeriesRow.name.in_(list(names)),
               MetricSeriesRow.kind == "scalar"))
    for run_id, name, last, low, high in rows:
        out[run_id][name] = MetricSummary(last, low, high)
    return out


def _params(session: Session, ids: list[str], names: Sequence[str]) -> dict[str, dict[str, str | None]]:
    out: dict[str, dict[str, str | None]] = {i: dict.fromkeys(names) for i in ids}
    if not ids or not names:
        return out
    rows = session.execute(select(RunPropertyRow.run_id, RunPropertyRow.key, RunPropertyRow.value)
                           .where(RunPropertyRow.run_id.in_(ids), RunPropertyRow.key.in_(list(names))))
    for run_id, key, value in rows:
        out[run_id][key] = value
    return out


__all__ = ["ATTRIBUTES", "Cond", "Key", "MetricSummary", "Order", "SearchPage", "compile_cond", "search"]
