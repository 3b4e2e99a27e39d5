"""A run (its token included) cannot create child runs without bound: past the quota the answer is 429 with
the numbers and the setting to raise, and a batch that would cross it creates none of its runs."""

from __future__ import annotations

from typing import Any

from tests.server.helpers import interactive_run


async def test_children_past_the_quota_answer_429_and_create_nothing(aml: Any, jp_serverapp: Any) -> None:
    rid = (await interactive_run(aml))["id"]
    jp_serverapp.web_app.settings["aml_app"].service.runs.max_child_runs_per_run = 5
    status, kids = await aml("POST", f"workspaces/w/runs/{rid}/children", {"count": 3})
    assert status == 201 and len(kids["items"]) == 3

    status, body = await aml("POST", f"workspaces/w/runs/{rid}/children", {"count": 3})
    assert status == 429, body
    error = body["error"]
    assert error["code"] == "QuotaExceeded"
    assert "3 child runs" in error["message"] and "3 more" in error["message"] and "5" in error["message"]
    assert "max_child_runs_per_run" in error["hint"]
    status, listing = await aml("GET", f"workspaces/w/runs/{rid}/children", params={"recursive": "true"})
    assert len(listing["items"]) == 3  # none of the refused batch was written

    # grandchildren count against the same top-level run: its token cannot go around the quota one level down
    grand = kids["items"][0]["id"]
    status, more = await aml("POST", f"workspaces/w/runs/{grand}/children", {"count": 2})
    assert status == 201 and len(more["items"]) == 2
    status, body = await aml("POST", f"workspaces/w/runs/{grand}/children", {"count": 1})
    assert status == 429 and "5 child runs" in body["error"]["message"]
    status, listing = await aml("GET", f"workspaces/w/runs/{rid}/children", params={"recursive": "true"})
    assert len(listing["items"]) == 5
