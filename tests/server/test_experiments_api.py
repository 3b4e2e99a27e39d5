"""Experiments through REST and the SDK: tags, archive and reactivate (v1's Experiment API), who may change
them (a Reader may not), and the archived ones hidden from the default listing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_aml.errors import Conflict, Forbidden, InvalidInput


@pytest.fixture
def service(jp_serverapp: Any) -> Any:
    return jp_serverapp.web_app.settings["aml_app"].service


@pytest.fixture
def as_user(jp_fetch: Any, service: Any) -> Any:
    tokens: dict[str, str] = {}

    async def call(user: str, method: str, path: str, body: Any = None,
                   params: dict[str, Any] | None = None) -> tuple[int, Any]:
        token = tokens.get(user) or tokens.setdefault(user, service.sharing.create_token(user).token)
        kwargs: dict[str, Any] = {"method": method, "headers": {"Authorization": f"Bearer {token}"},
                                  "params": params or {}}
        if body is not None or method in ("POST", "PUT", "PATCH"):
            kwargs["body"] = json.dumps(body if body is not None else {})
        try:
            resp = await jp_fetch("aml", "api", "v1", *path.split("/"), **kwargs)
        except HTTPClientError as exc:
            assert exc.response is not None
            return exc.code, json.loads(exc.response.body or b"null")
        return resp.code, json.loads(resp.body) if resp.body else None

    call.tokens = tokens  # type: ignore[attr-defined]
    return call


async def _team(as_user: Any) -> str:
    """Workspace ``team`` of alice (Owner) with bob as Reader and carol as Contributor, and a run in ``exp``."""
    assert (await as_user("alice", "POST", "workspaces", {"name": "team"}))[0] == 201
    for user, role in (("bob", "Reader"), ("carol", "Contributor")):
        assert (await as_user("alice", "PUT", f"workspaces/team/members/{user}", {"role": role}))[0] == 200
    status, run = await as_user("alice", "POST", "workspaces/team/runs", {"experiment": "exp", "kind": "interactive"})
    assert status == 201
    return str(run["id"])


def _names(body: Any) -> list[str]:
    return [e["name"] for e in body["items"]]


async def test_tags_archive_and_reactivate_over_rest(as_user):
    run_id = await _team(as_user)
    status, exp = await as_user("alice", "GET", "workspaces/team/experiments/exp")
    assert status == 200 and exp["tags"] == {} and exp["archived_time"] is None and exp["run_count"] == 1
    status, tagged = await as_user("carol", "PATCH", "workspaces/team/experiments/exp",
                                   {"tags": {"owner": "carol", "stage": "dev"}})
    assert status == 200 and tagged["tags"] == {"owner": "carol", "stage": "dev"} and tagged["id"] == exp["id"]
    status, tagged = await as_user("carol", "PATCH", "workspaces/team/experiments/exp", {"remove_tags": ["stage", "x"]})
    assert tagged["tags"] == {"owner": "carol"}
    # a Reader reads, and changes nothing
    assert (await as_user("bob", "GET", "workspaces/team/experiments/exp"))[0] == 200
    for method, path in (("PATCH", "exp"), ("POST", "exp/archive"), ("POST", "exp/reactivate"), ("PUT", "new")):
        status, body = await as_user("bob", method, f"workspaces/team/experiments/{path}", {})
        assert status == 403, (method, path, body)
    assert (await as_user("alice", "GET", "workspaces/team/experiments/new"))[0] == 404  # bob's PUT made nothing
    # PUT is v1's get-or-create
    status, made = await as_user("carol", "PUT", "workspaces/team/experiments/other", {"tags": {"k": "v"}})
    assert status == 200 and made["run_count"] == 0 and made["tags"] == {"k": "v"}
    assert _names((await as_user("bob", "GET", "workspaces/team/experiments", params={"tag": "k=v"}))[1]) == ["other"]

    status, archived = await as_user("carol", "POST", "workspaces/team/experiments/exp/archive")
    assert status == 200 and archived["archived_time"] is not None
    assert _names((await as_user("bob", "GET", "workspaces/team/experiments"))[1]) == ["other"]
    only = (await as_user("bob", "GET", "workspaces/team/experiments", params={"view_type": "ArchivedOnly"}))[1]
    assert _names(only) == ["exp"]
    both = (await as_user("bob", "GET", "workspaces/team/experiments", params={"view_type": "All"}))[1]
    assert _names(both) == ["exp", "other"]
    status, body = await as_user("bob", "GET", "workspaces/team/experiments", params={"view_type": "Archived"})
    assert status == 400 and "ActiveOnly, ArchivedOnly, All" in body["error"]["hint"]
    # its runs stay readable while archived
    assert (await as_user("bob", "GET", f"workspaces/team/runs/{run_id}"))[0] == 200

    status, body = await as_user("carol", "POST", "workspaces/team/experiments/exp/reactivate", {"new_name": "other"})
    assert status == 409 and "already exists" in body["error"]["message"]
    status, body = await as_user("carol", "POST", "workspaces/team/experiments/exp/reactivate", {"new_name": "-bad"})
    assert status == 422
    status, back = await as_user("carol", "POST", "workspaces/team/experiments/exp/reactivate",
                                 {"new_name": "exp-v2"})
    assert status == 200 and back["name"] == "exp-v2" and back["id"] == exp["id"] and back["archived_time"] is None
    status, body = await as_user("carol", "POST", "workspaces/team/experiments/exp-v2/reactivate")
    assert status == 409 and "not archived" in body["error"]["message"]
    runs = (await as_user("bob", "GET", "workspaces/team/runs", params={"experiment": "exp-v2"}))[1]
    assert [r["id"] for r in runs["items"]] == [run_id] and runs["items"][0]["experiment"] == "exp-v2"
    activity = (await as_user("alice", "GET", "workspaces/team/activity"))[1]["items"]
    assert {a["action"] for a in activity} >= {"experiments/write"}


async def test_the_sdk_archives_and_reactivates_and_a_reader_cannot(as_user, jp_http_port, jp_base_url):
    from jupyter_aml.sdk import Experiment, ViewType, Workspace

    await _team(as_user)
    await as_user("bob", "GET", "workspaces/team")  # mints bob's token
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}aml/api/v1"

    def as_sdk(user: str) -> Any:
        return Workspace("team", service_url=url, token=as_user.tokens[user], create=False)

    def owner_side() -> None:
        ws = as_sdk("alice")
        exp = Experiment(ws, "exp")
        first_id = exp.id
        exp.set_tags({"a": "1", "b": "2"})
        exp.tag("c")
        exp.remove_tags(["b"])
        assert exp.tags == {"a": "1", "c": ""}
        fresh = Experiment(ws, "fresh")  # get-or-create on first use, as v1
        assert fresh.id != first_id and fresh.tags == {}
        assert [e.name for e in Experiment.list(ws)] == ["exp", "fresh"]
        assert [e.name for e in Experiment.list(ws, tags="a")] == ["exp"]
        assert [e.name for e in Experiment.list(ws, tags={"a": "1"})] == ["exp"]
        assert [e.name for e in Experiment.list(ws, experiment_name="fresh")] == ["fresh"]
        exp.archive()
        assert exp.archived_time is not None
        assert [e.name for e in Experiment.list(ws)] == ["fresh"]
        assert [e.name for e in Experiment.list(ws, view_type=ViewType.ARCHIVED_ONLY)] == ["exp"]
        assert [e.name for e in Experiment.list(ws, view_type=ViewType.ALL)] == ["exp", "fresh"]
        assert "exp" not in ws.experiments
        with pytest.raises(Conflict, match="already exists"):
            exp.reactivate(new_name="fresh")
        exp.reactivate(new_name="exp-again")
        assert exp.name == "exp-again" and exp.id == first_id and exp.archived_time is None
        assert [r.experiment.name for r in exp.get_runs()] == ["exp-again"]
        with pytest.raises(Conflict, match="not archived"):
            exp.reactivate()
        with pytest.raises(InvalidInput):
            Experiment.list(ws, view_type="Everything")

    def reader_side() -> None:
        ws = as_sdk("bob")
        exp = Experiment(ws, "exp-again")
        assert exp.tags == {"a": "1", "c": ""}
        with pytest.raises(Forbidden):
            exp.archive()
        with pytest.raises(Forbidden):
            exp.set_tags({"x": "y"})
        assert exp.archived_time is None

    await asyncio.to_thread(owner_side)
    await asyncio.to_thread(reader_side)
