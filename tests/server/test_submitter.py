"""Who submitted a run is the user, whichever way the run arrived (issue 16, Build 7): the lab (Jupyter's
login), the SDK in a kernel and the ``aml`` CLI (the service token, which stands for the same user), and a
run's own token creating child runs (its parent's submitter, never "run:<id>"). The real server, real store."""

from __future__ import annotations

import getpass
import json
import os
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError


@pytest.fixture
def call_with(jp_fetch: Any) -> Any:
    async def call(token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"method": method, "headers": {"Authorization": f"Bearer {token}"}}
        if body is not None or method == "POST":
            kwargs["body"] = json.dumps(body or {})
        try:
            resp = await jp_fetch("aml", "api", "v1", *path.split("/"), **kwargs)
        except HTTPClientError as exc:
            assert exc.response is not None
            return exc.code, json.loads(exc.response.body or b"null")
        return resp.code, json.loads(resp.body)

    return call


async def test_every_way_in_records_the_user(jp_serverapp: Any, aml: Any, call_with: Any) -> None:
    user = os.environ.get("JUPYTERHUB_USER") or getpass.getuser()
    settings = jp_serverapp.web_app.settings
    assert (await aml("POST", "workspaces", {"name": "w"}))[0] == 201
    status, lab_run = await aml("POST", "workspaces/w/runs", {"experiment": "e", "kind": "interactive"})
    assert status == 201 and lab_run["submitter"] == user  # the lab, with Jupyter's login

    status, sdk_run = await call_with(settings["aml_service_token"], "POST", "workspaces/w/runs",
                                      {"experiment": "e", "kind": "interactive"})
    assert status == 201 and sdk_run["submitter"] == user  # a kernel's SDK or the CLI: the service token

    token = settings["aml_app"].service.tokens.mint(sdk_run["id"])  # what the run's script holds
    status, kids = await call_with(token, "POST", f"workspaces/w/runs/{sdk_run['id']}/children", {"count": 2})
    assert status == 201 and [k["submitter"] for k in kids["items"]] == [user, user]
    assert [k["display_number"] for k in kids["items"]] == ["2.1", "2.2"]
    status, grandchildren = await call_with(token, "POST", f"workspaces/w/runs/{kids['items'][0]['id']}/children",
                                            {"count": 1})
    assert status == 201, grandchildren  # a run token reaches its children's children too
    assert [(g["submitter"], g["display_number"]) for g in grandchildren["items"]] == [(user, "2.1.1")]
