"""One bad journal record is refused alone: the valid ones are stored, the run says so, reads never 500."""

from __future__ import annotations

import json

from sqlalchemy import select

from jupyter_aml.store.tables import MetricSeriesRow, MetricValueRow
from tests.server.helpers import interactive_run, records


def _bad(rid: str) -> list[dict[str, object]]:
    return [
        {"seq": 201, "run_id": rid, "t": 1.0, "k": "m", "n": "loss", "v": 10**400},  # past float64
        {"seq": 202, "run_id": rid, "t": 1.0, "k": "l", "n": "big", "v": [1, 2**64]},  # past 64 bits
        {"seq": 2**63, "run_id": rid, "t": 1.0, "k": "m", "n": "loss", "v": 1.0},  # past the largest seq
        {"seq": 203, "run_id": rid, "k": "m"},  # malformed: no name, no time
        {"seq": "204", "run_id": rid, "t": 1.0, "k": "x", "n": "loss"},  # malformed: an unknown kind
    ]


async def test_valid_records_are_stored_and_each_bad_one_is_named(aml):
    run = await interactive_run(aml)
    rid = run["id"]
    body = {"stream": "main", "records": [*records(rid, 1, 100), *_bad(rid), *records(rid, 101, 100)]}
    raw = json.dumps(body).encode()  # 10**400 is not a Python float: the test client must not touch it
    status, ack = await aml("POST", f"workspaces/w/runs/{rid}/journal", raw=raw)
    assert status == 200, ack
    rejected = {r["index"]: r for r in ack["rejected"]}
    assert sorted(rejected) == [100, 101, 102, 103, 104]
    assert "float64" in rejected[100]["reason"] and rejected[100]["seq"] == 201
    assert "64 bits" in rejected[101]["reason"]
    assert rejected[102]["seq"] is None and "2**63" in rejected[102]["reason"]
    assert "invalid record" in rejected[103]["reason"] and rejected[103]["seq"] == 203
    assert "invalid record" in rejected[104]["reason"] and rejected[104]["seq"] is None
    assert ack["acked_seq"] == 203
    _, summary = await aml("GET", f"workspaces/w/runs/{rid}/metrics")
    assert [(m["name"], m["count"]) for m in summary["items"]] == [("loss", 200)]
    _, got = await aml("GET", f"workspaces/w/runs/{rid}")
    assert got["properties"]["aml.journal.rejected"] == "5"
    assert "stream main" in got["properties"]["aml.journal.rejected_reason"]
    status, again = await aml("POST", f"workspaces/w/runs/{rid}/journal", raw=raw)
    assert status == 200 and again["acked_seq"] == 203
    _, summary = await aml("GET", f"workspaces/w/runs/{rid}/metrics")
    assert summary["items"][0]["count"] == 200  # a resend stores nothing twice


async def test_a_batch_of_only_bad_records_is_answered_not_retried(aml):
    run = await interactive_run(aml)
    rid = run["id"]
    status, ack = await aml("POST", f"workspaces/w/runs/{rid}/journal",
                            raw=json.dumps({"stream": "main", "records": _bad(rid)[:3]}).encode())
    assert status == 200 and len(ack["rejected"]) == 3 and ack["acked_seq"] == 202


async def test_an_envelope_error_is_a_4xx(aml):
    run = await interactive_run(aml)
    rid = run["id"]
    for body in (b"[]", b'{"stream": "main"}', b'{"stream": "a b", "records": []}', b"{nope",
                 b'{"stream": "main", "records": ["not a record"]}'):
        status, answer = await aml("POST", f"workspaces/w/runs/{rid}/journal", raw=body)
        assert 400 <= status < 500, (body, status, answer)


async def test_an_already_stored_huge_integer_does_not_break_reads(aml, jp_serverapp):
    run = await interactive_run(aml)
    rid = run["id"]
    ok = {"seq": 1, "run_id": rid, "t": 1.0, "k": "l", "n": "big", "v": [1, 2]}
    await aml("POST", f"workspaces/w/runs/{rid}/journal", {"stream": "main", "records": [ok]})
    service = jp_serverapp.web_app.settings["aml_app"].service
    with service.db.session() as s:  # what a service before the checks stored
        series = s.scalar(select(MetricSeriesRow).where(MetricSeriesRow.run_id == rid))
        assert series is not None
        s.add(MetricValueRow(series_id=series.id, ts=2.0, payload=[3, 2**64, {"x": -(10**400)}]))
        series.count += 1
    status, hist = await aml("GET", f"workspaces/w/runs/{rid}/metrics/big")
    assert status == 200 and hist["values"] == [[1, 2], [3, float(2**64), {"x": None}]]
    status, every = await aml("GET", f"workspaces/w/runs/{rid}/metric-values")
    assert status == 200 and every["items"][0]["values"][1][1] == float(2**64)
