"""GET runs with filter=, order_by=, metrics= and params=: metrics logged through the journal, then searched."""

from __future__ import annotations

from typing import Any

from tests.server.helpers import interactive_run


async def _run_with(aml: Any, losses: list[float], lr: str) -> str:
    run = await interactive_run(aml, properties={"lr": lr})
    rid = run["id"]
    recs = [{"seq": i + 1, "run_id": rid, "t": 1.0 + i, "k": "m", "n": "loss", "v": v, "s": i}
            for i, v in enumerate(losses)]
    status, _ = await aml("POST", f"workspaces/w/runs/{rid}/journal", {"stream": "main", "records": recs})
    assert status == 200
    return rid


async def test_filter_order_columns_and_cursor(aml: Any) -> None:
    a = await _run_with(aml, [0.9, 0.2, 0.5], "0.1")
    b = await _run_with(aml, [0.8, 0.7], "0.01")
    c = await _run_with(aml, [0.3], "0.1")
    status, page = await aml("GET", "workspaces/w/runs", params={
        "filter": "metrics.loss.min < 0.75 AND params.lr = '0.1'", "order_by": "metrics.loss DESC",
        "metrics": "loss,acc", "params": "lr", "page_size": "1"})
    assert status == 200, page
    assert [r["id"] for r in page["items"]] == [a] and page["total"] == 2
    first = page["items"][0]
    assert first["metric_columns"] == {"loss": {"last": 0.5, "min": 0.2, "max": 0.9}, "acc": None}
    assert first["param_columns"] == {"lr": "0.1"}
    _, rest = await aml("GET", "workspaces/w/runs", params={
        "filter": "metrics.loss.min < 0.75 AND params.lr = '0.1'", "order_by": "metrics.loss DESC",
        "page_size": "1", "page_token": page["next_page_token"]})
    assert [r["id"] for r in rest["items"]] == [c] and rest["next_page_token"] is None
    assert "metric_columns" not in rest["items"][0] or rest["items"][0]["metric_columns"] is None
    _, ordered = await aml("GET", "workspaces/w/runs", params={"order_by": "metrics.loss.max"})
    assert [r["id"] for r in ordered["items"]] == [c, b, a]


async def test_bad_filters_answer_400_saying_what_was_wrong(aml: Any) -> None:
    await interactive_run(aml)
    for text, words in (("metrics.loss > 'high'", "numeric"), ("params.lr = 'a' OR params.lr = 'b'", "OR"),
                        ("status = 'Done'", "not a run status"), ("tags.t = 'open", "never closed"),
                        ("bogus.x = 'y'", "entity")):
        status, body = await aml("GET", "workspaces/w/runs", params={"filter": text})
        assert status == 400 and words in body["error"]["message"], (text, body)
    status, body = await aml("GET", "workspaces/w/runs", params={"order_by": "metrics.loss SIDEWAYS"})
    assert status == 400 and "order_by" in body["error"]["message"]
    status, body = await aml("GET", "workspaces/w/runs", params={"page_token": "bm9wZQ=="})
    assert status == 400 and "page_token" in body["error"]["message"]
