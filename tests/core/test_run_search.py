"""Run search in SQL (core/run_search.py) against a Python reference, on a few hundred random runs.

Each filter and order is run page by page through the real store (SQLite, or PostgreSQL with
``--database=postgresql``); the pages must list exactly the runs the reference finds, in its order, each once.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.core.workspaces import WorkspaceService
from jupyter_aml.errors import UserError
from jupyter_aml.mlflow_api import filters
from jupyter_aml.mlflow_api.run_filter import REST, rest_terms
from jupyter_aml.store.tables import MetricSeriesRow, RunPropertyRow, RunRow, RunTagRow

RUNS = 300
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
STATUSES = ["Completed", "Failed", "Running", "Canceled"]


def _ms(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp() * 1000


@pytest.fixture
def service(tmp_path: Path, database_url: str | None) -> AMLService:
    svc = AMLService(ServiceSettings(root=tmp_path, database_url=database_url))
    svc.workspaces.get_or_create("w")
    return svc


def _populate(service: AMLService, seed: int) -> list[dict[str, Any]]:
    """RUNS runs of random metrics, params, tags, statuses and times, straight into the store; and their record."""
    rng = random.Random(seed)
    ref: list[dict[str, Any]] = []
    with service.db.session() as s:
        ws = WorkspaceService.row(s, "w")
        exp = WorkspaceService.experiment_row(s, ws, "e", create=True)
        s.flush()
        for n in range(RUNS):
            rid = f"r{n:04d}"
            created = EPOCH + timedelta(minutes=n)
            start = created + timedelta(seconds=rng.randint(0, 50)) if rng.random() < 0.8 else None
            end = start + timedelta(seconds=rng.randint(1, 90)) if start and rng.random() < 0.7 else None
            rec: dict[str, Any] = {
                "id": rid, "status": rng.choice(STATUSES), "display_name": rng.choice(["alpha", "beta", "Gamma"]),
                "start_time": _ms(start), "end_time": _ms(end), "created_at": _ms(created),
                "metric": {}, "param": {}, "tag": {},
            }
            s.add(RunRow(id=rid, workspace_id=ws.id, experiment_id=exp.id, number=n + 1, display_number=str(n + 1),
                         root_id=rid, path=f"/{rid}/", kind="interactive", display_name=rec["display_name"],
                         status=rec["status"], created_at=created, start_time=start, end_time=end, submitter="t"))
            s.flush()
            for name in ("loss", "acc"):
                if rng.random() < 0.75:
                    values = [round(rng.uniform(0, 1), 2) for _ in range(rng.randint(1, 4))]
                    rec["metric"][name] = {"last": values[-1], "min": min(values), "max": max(values)}
                    s.add(MetricSeriesRow(run_id=rid, name=name, kind="scalar", count=len(values),
                                          last_value=values[-1], min_value=min(values), max_value=max(values)))
            for name, choices in (("lr", ["0.1", "0.01", "0.001"]), ("opt", ["adam", "sgd"])):
                if rng.random() < 0.8:
                    rec["param"][name] = rng.choice(choices)
                    s.add(RunPropertyRow(run_id=rid, key=name, value=rec["param"][name]))
            if rng.random() < 0.6:
                rec["tag"]["team"] = rng.choice(["red", "blue", "Red"])
                s.add(RunTagRow(run_id=rid, key="team", value=rec["tag"]["team"]))
            ref.append(rec)
    return ref


def _value(rec: dict[str, Any], entity: str, key: str) -> Any:
    if entity == "metric":
        name, _, agg = key.rpartition(".") if key.endswith((".min", ".max", ".last")) else (key, "", "last")
        summary = rec["metric"].get(name)
        return None if summary is None else summary[agg]
    if entity in ("param", "tag"):
        return rec[entity].get(key)
    return rec[{"run_name": "display_name", "run_id": "id"}.get(key, key)]


def _schema() -> filters.Schema:
    return REST


def _reference(ref: list[dict[str, Any]], text: str, order: list[str]) -> list[str]:
    where = filters.parse_filter(text, _schema())
    found = [r for r in ref if filters.matches(where, lambda e, k, r=r: _value(r, e, k))]
    found.sort(key=lambda r: r["id"])
    for clause in reversed(filters.parse_order_by(order, _schema())):
        have = [r for r in found if _value(r, clause.entity, clause.key) is not None]
        missing = [r for r in found if _value(r, clause.entity, clause.key) is None]
        have.sort(key=lambda r, c=clause: _value(r, c.entity, c.key), reverse=not clause.ascending)  # type: ignore[misc]
        found = have + missing  # Python's sorts are stable, reversed too: ties stay in id order, as in SQL
    return [r["id"] for r in found]


FILTERS = [
    "",
    "metrics.loss < 0.5",
    "metrics.loss.min <= 0.2 AND metrics.acc.max > 0.5",
    "metrics.acc != 0.5 AND params.lr = '0.01'",
    "params.opt != 'adam'",
    "params.lr IS NULL",
    "tags.team IS NOT NULL AND tags.team LIKE 'r%'",
    "tags.team ILIKE 'r%'",
    "status IN ('Completed', 'Failed') AND metrics.loss.last >= 0.3",
    "status NOT IN ('Running')",
    "run_name LIKE '%a%' AND start_time > 1767226000000",
    "end_time <= 1767240000000",
]
ORDERS = [
    [],
    ["metrics.loss DESC"],
    ["metrics.acc.min", "params.lr DESC"],
    ["params.opt", "metrics.loss.max DESC"],
    ["start_time DESC"],
    ["tags.team", "end_time"],
]


def test_pages_match_the_reference_and_cover_every_run_once(service: AMLService) -> None:
    ref = _populate(service, seed=12)
    rng = random.Random(7)
    cases = [(f, o) for f in FILTERS for o in ORDERS]
    rng.shuffle(cases)
    for text, order in cases[:40]:
        conds, orders = rest_terms(text, order)
        expected = _reference(ref, text, order)
        seen: list[str] = []
        token: str | None = None
        pages = 0
        while True:
            page = service.runs.find("w", conds=conds, order_by=orders, sort="number", page_size=41, page_token=token,
                                     metric_columns=["loss"], param_columns=["lr"])
            assert page.total == len(expected), (text, order)
            seen += [r.id for r in page.items]
            for run in page.items:
                rec = next(r for r in ref if r["id"] == run.id)
                column = (run.metric_columns or {})["loss"]
                assert (column and column.model_dump()) == (rec["metric"].get("loss") or None)
                assert (run.param_columns or {})["lr"] == rec["param"].get("lr")
            token = page.next_page_token
            pages += 1
            if token is None:
                break
        assert seen == expected, (text, order)
        assert pages == max(1, -(-len(expected) // 41))


def test_a_cursor_only_serves_the_order_it_was_made_for(service: AMLService) -> None:
    _populate(service, seed=3)
    _, order = rest_terms("", ["metrics.loss DESC"])
    page = service.runs.find("w", order_by=order, page_size=10)
    assert page.next_page_token
    _, other = rest_terms("", ["metrics.acc"])
    with pytest.raises(UserError, match="page_token"):
        service.runs.find("w", order_by=other, page_size=10, page_token=page.next_page_token)


@pytest.mark.parametrize("text, words", [
    ("metrics.loss OR x", "expected a comparator"),
    ("metrics.loss < 'a'", "Expected numeric value"),
    ("status = 'Bogus'", "not a run status"),
    ("nope = 'x'", "Invalid attribute key"),
    ("params.lr > '1'", "Invalid comparator"),
])
def test_bad_filters_are_refused_with_what_was_wrong(text: str, words: str) -> None:
    with pytest.raises(UserError, match=words):
        rest_terms(text, [])


def test_searches_too_large_for_the_database_are_refused_up_front(service: AMLService) -> None:
    conds, _ = rest_terms(" AND ".join(f"params.p{i} = 'x'" for i in range(101)), [])
    with pytest.raises(UserError, match="at most 100"):
        service.runs.find("w", conds=conds)
    values = ", ".join(f"'{i}'" for i in range(1001))
    conds, _ = rest_terms(f"run_id IN ({values})", [])
    with pytest.raises(UserError, match="too long"):
        service.runs.find("w", conds=conds)
