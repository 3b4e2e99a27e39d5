"""Scalar journal records checked by column are accepted or refused exactly as the model-per-record path does.

``journal_check.parse_batch`` keeps plain scalar records as columns (core/journal_scalars.py) instead of one
pydantic ``JournalRecord`` each. Every record below is parsed both ways: alone in a batch, among plain
records (the column-at-a-time check), and through ``JournalRecord`` + ``problem`` (the model's rules). The
stored values must be the same, and so must the verdict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic
import pytest

from jupyter_aml.core import models
from jupyter_aml.core.journal_check import parse_batch, problem
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings

BASE: dict[str, Any] = {"seq": 1, "t": 1.5, "run_id": "R", "k": "m", "n": "loss", "v": 0.5, "s": 0}
EDGES: list[dict[str, Any]] = [
    {},
    {"v": 3},
    {"v": -(2**63)},
    {"v": 2**64 - 1},
    {"v": 2**64},  # beyond 64 bits: refused
    {"v": -(2**63) - 1},
    {"v": True},
    {"v": None},
    {"v": "text"},
    {"v": "x" * 70_000},  # over MAX_TEXT: refused
    {"v": [1, 2]},  # a list under a scalar's kind: refused
    {"v": {"a": 1}},
    {"s": None},
    {"s": 2.5},
    {"s": 2**70},
    {"s": "3"},  # a numeric string: the model's lax rules decide
    {"s": True},
    {"t": 7},
    {"t": "1.5"},
    {"t": True},
    {"seq": 0},
    {"seq": 2**63},
    {"seq": 1.0},
    {"seq": "1"},
    {"seq": True},
    {"n": ""},
    {"n": "x" * 256},
    {"n": 5},
    {"run_id": 5},
    {"d": "a description"},
    {"d": 5},
    {"vt": "f", "v": "NaN"},
    {"extra": 1},
]


def _model_verdict(record: dict[str, Any]) -> str | None:
    try:
        parsed = models.JournalRecord.model_validate(record)
    except pydantic.ValidationError:
        return "invalid"
    return problem(parsed)


def _record(edge: dict[str, Any]) -> dict[str, Any]:
    record = {**BASE, **edge}
    return {k: v for k, v in record.items() if v is not ...}


def _batch(records: list[dict[str, Any]]) -> bytes:
    return json.dumps({"stream": "main", "records": records}).encode()


@pytest.mark.parametrize("edge", EDGES, ids=[json.dumps(e)[:40] for e in EDGES])
def test_a_scalar_record_is_judged_as_the_model_judges_it(edge: dict[str, Any]) -> None:
    record = _record(edge)
    expected_ok = _model_verdict(record) is None
    alone = parse_batch(_batch([record]))
    assert (not alone.rejected) == expected_ok
    # among plain scalars: the column-at-a-time check must not let it through, nor refuse its neighbours
    plain = [{**BASE, "seq": i} for i in range(2, 6)]
    mixed = parse_batch(_batch([*plain, {**record, "seq": record.get("seq")}]))
    assert [r.index for r in mixed.rejected] == ([] if expected_ok else [4])
    assert len(mixed.accepted()) == (5 if expected_ok else 4)


def test_plain_values_keep_their_python_types_and_steps(tmp_path: Path) -> None:
    """A batch of plain scalars stored through the columns reads back as logged: ints, bools, None, strings,
    floats, a missing step numbered by position."""
    service = AMLService(ServiceSettings(root=tmp_path))
    service.workspaces.get_or_create("w")
    run = service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t")
    values: list[Any] = [0.25, 3, True, None, "text", 2**60, -1.5]
    records = [{"seq": i + 1, "t": 10.0 + i, "run_id": run.id, "k": "m", "n": "x", "v": v, "s": i * 2}
               for i, v in enumerate(values)]
    records.append({"seq": 8, "t": 20.0, "run_id": run.id, "k": "m", "n": "y", "v": 1.0})  # no step
    checked = parse_batch(_batch(records))
    assert len(checked.scalars) == 8 and not checked.records
    ack = service.metrics.ingest_checked("w", run.id, checked)
    assert ack.acked_seq == 8 and not ack.rejected
    history = service.metrics.history("w", run.id, "x")
    assert history.values == [0.25, 3, True, None, "text", 2**60, -1.5]
    assert history.steps == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0]
    assert history.times == [10.0 + i for i in range(7)]
    assert service.metrics.history("w", run.id, "y").steps == [0.0]


def test_a_resent_batch_and_a_batch_out_of_order_are_stored_once_in_seq_order(tmp_path: Path) -> None:
    service = AMLService(ServiceSettings(root=tmp_path))
    service.workspaces.get_or_create("w")
    run = service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t")
    records = [{"seq": s, "t": float(s), "run_id": run.id, "k": "m", "n": "x", "v": float(s), "s": s}
               for s in (3, 1, 2)]
    assert service.metrics.ingest_checked("w", run.id, parse_batch(_batch(records))).acked_seq == 3
    more = [{**r, "seq": r["seq"] + 2, "v": r["v"] + 2, "s": r["s"] + 2} for r in records]  # seqs 5, 3, 4
    assert service.metrics.ingest_checked("w", run.id, parse_batch(_batch(more))).acked_seq == 5
    assert service.metrics.history("w", run.id, "x").values == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_records_of_a_run_outside_the_owner_are_refused_alone(tmp_path: Path) -> None:
    service = AMLService(ServiceSettings(root=tmp_path))
    service.workspaces.get_or_create("w")
    run = service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t")
    other = service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t")
    records = [{"seq": i + 1, "t": 1.0, "run_id": rid, "k": "m", "n": "x", "v": float(i)}
               for i, rid in enumerate([run.id, other.id, run.id])]
    ack = service.metrics.ingest_checked("w", run.id, parse_batch(_batch(records)))
    assert ack.acked_seq == 3 and [(r.index, r.seq) for r in ack.rejected] == [(1, 2)]
    assert service.metrics.history("w", run.id, "x").values == [0.0, 2.0]
    assert service.metrics.count_points("w", other.id) == 0


@pytest.mark.parametrize("names", [
    ["a", "b", "c"] * 3 + ["a", "b"],  # every step logs the same metrics: the ranges path
    ["a", "b", "a", "a", "c", "b"],  # no period: record by record
])
def test_interleaved_metrics_each_get_their_own_points_in_order(tmp_path: Path, names: list[str]) -> None:
    service = AMLService(ServiceSettings(root=tmp_path))
    service.workspaces.get_or_create("w")
    run = service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t")
    records = [{"seq": i + 1, "t": float(i), "run_id": run.id, "k": "m", "n": n, "v": float(i), "s": i}
               for i, n in enumerate(names)]
    groups = parse_batch(_batch(records)).scalars.groups()
    assert list(groups) == [(run.id, n) for n in dict.fromkeys(names)]
    service.metrics.ingest_checked("w", run.id, parse_batch(_batch(records)))
    for name in set(names):
        expected = [float(i) for i, n in enumerate(names) if n == name]
        assert service.metrics.history("w", run.id, name).values == expected
