"""Shared workspaces through the REST API: owners, members, custom roles, the activity log, named tokens,
and what a run token may register (it acts for its submitter, never beyond their role)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from tornado.httpclient import HTTPClientError


@pytest.fixture
def service(jp_serverapp: Any) -> Any:
    return jp_serverapp.web_app.settings["aml_app"].service


@pytest.fixture
def as_user(jp_fetch: Any, service: Any) -> Any:
    """``await as_user("alice", "GET", "workspaces")`` with alice's named token; returns (status, json)."""
    tokens: dict[str, str] = {}

    async def call(user: str, method: str, path: str, body: Any = None, *, token: str | None = None,
                   params: dict[str, Any] | None = None) -> tuple[int, Any]:
        if token is None:
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

    return call


async def test_the_creator_is_owner_and_others_do_not_see_it(as_user):
    assert (await as_user("alice", "POST", "workspaces", {"name": "team"}))[0] == 201
    status, members = await as_user("alice", "GET", "workspaces/team/members")
    assert status == 200 and [(m["user"], m["role"], m["added_by"]) for m in members["items"]] == [
        ("alice", "Owner", "alice")]
    # bob has no role: the workspace "does not exist" for him, in the same words as a missing one
    hidden = await as_user("bob", "GET", "workspaces/team")
    missing = await as_user("bob", "GET", "workspaces/nowhere")
    assert hidden[0] == missing[0] == 404
    assert hidden[1]["error"]["message"].replace("team", "X") == missing[1]["error"]["message"].replace("nowhere", "X")
    assert (await as_user("bob", "GET", "workspaces"))[1]["items"] == []
    assert [w["name"] for w in (await as_user("alice", "GET", "workspaces"))[1]["items"]] == ["team"]


async def test_roles_decide_and_the_last_owner_stays(as_user):
    await as_user("alice", "POST", "workspaces", {"name": "team"})
    assert (await as_user("alice", "PUT", "workspaces/team/members/bob", {"role": "Reader"}))[0] == 200
    assert (await as_user("bob", "GET", "workspaces/team/runs"))[0] == 200
    status, body = await as_user("bob", "POST", "workspaces/team/runs", {"experiment": "e", "kind": "interactive"})
    assert status == 403 and "runs/submit" in body["error"]["message"] and "Reader" in body["error"]["message"]
    access = (await as_user("bob", "GET", "workspaces/team/access"))[1]
    assert access["role"] == "Reader" and "runs/read" in access["actions"] and "runs/submit" not in access["actions"]
    # bob cannot manage members; alice cannot leave the workspace ownerless
    assert (await as_user("bob", "PUT", "workspaces/team/members/bob", {"role": "Owner"}))[0] == 403
    status, body = await as_user("alice", "DELETE", "workspaces/team/members/alice")
    assert status == 409 and "last Owner" in body["error"]["message"]
    assert (await as_user("alice", "PUT", "workspaces/team/members/alice", {"role": "Reader"}))[0] == 409
    assert (await as_user("alice", "PUT", "workspaces/team/members/bob", {"role": "Owner"}))[0] == 200
    assert (await as_user("alice", "PUT", "workspaces/team/members/alice", {"role": "Reader"}))[0] == 200
    # an unknown role is refused and changes nothing
    status, body = await as_user("bob", "PUT", "workspaces/team/members/carol", {"role": "Admin"})
    assert status == 400 and "no role 'Admin'" in body["error"]["message"]
    assert "carol" not in {m["user"] for m in (await as_user("bob", "GET", "workspaces/team/members"))[1]["items"]}


async def test_custom_roles_are_action_patterns(as_user):
    await as_user("alice", "POST", "workspaces", {"name": "team"})
    status, body = await as_user("alice", "PUT", "workspaces/team/roles/runner", {"actions": ["runs/sumbit"]})
    assert status == 400 and "runs/sumbit" in body["error"]["message"]
    status, role = await as_user("alice", "PUT", "workspaces/team/roles/runner",
                                 {"actions": ["runs/*", "workspaces/read"], "not_actions": ["runs/cancel"],
                                  "description": "runs, nothing else"})
    assert status == 200 and role["builtin"] is False
    assert (await as_user("alice", "PUT", "workspaces/team/roles/Owner", {"actions": ["*"]}))[0] == 409
    await as_user("alice", "PUT", "workspaces/team/members/carol", {"role": "runner"})
    status, run = await as_user("carol", "POST", "workspaces/team/runs", {"experiment": "e", "kind": "interactive"})
    assert status == 201 and run["submitter"] == "carol"
    assert (await as_user("carol", "POST", f"workspaces/team/runs/{run['id']}/cancel"))[0] == 403
    assert (await as_user("carol", "GET", "workspaces/team/models"))[0] == 403
    status, body = await as_user("alice", "DELETE", "workspaces/team/roles/runner")
    assert status == 409 and "carol" in body["error"]["message"]
    assert (await as_user("carol", "GET", "workspaces/team/roles"))[0] == 403  # roles/read is not runs/*
    names = [r["name"] for r in (await as_user("alice", "GET", "workspaces/team/roles"))[1]["items"]]
    assert names[:3] == ["Owner", "Contributor", "Reader"] and "runner" in names


async def test_a_run_token_registers_models_only_if_its_submitter_may(as_user, service, aml):
    """Finding 5: a run's token acts for the person who submitted the run, within their role now."""
    await as_user("alice", "POST", "workspaces", {"name": "team"})
    await as_user("alice", "PUT", "workspaces/team/roles/runner", {"actions": ["runs/*", "files/*",
                                                                              "workspaces/read"]})
    await as_user("alice", "PUT", "workspaces/team/members/carol", {"role": "runner"})
    status, run = await as_user("carol", "POST", "workspaces/team/runs", {"experiment": "e", "kind": "interactive"})
    assert status == 201
    token = service.tokens.mint(run["id"])
    blob = b"weights"
    sha = hashlib.sha256(blob).hexdigest()
    await aml("PUT", f"workspaces/team/blobs/{sha}", raw=blob)
    files = {"files": [{"path": "outputs/model.pkl", "sha256": sha, "size": len(blob)}]}
    assert (await as_user("run", "POST", f"workspaces/team/runs/{run['id']}/files", files, token=token))[0] == 200
    register = {"name": "digits", "run_path": "outputs/model.pkl", "tags": {"stage": "prod"}}
    status, body = await as_user("run", "POST", f"workspaces/team/runs/{run['id']}/models", register, token=token)
    assert status == 403 and "models/write" in body["error"]["message"] and "carol" in body["error"]["message"]
    assert (await as_user("alice", "GET", "workspaces/team/models"))[1]["items"] == []
    # as a Contributor, carol (and so her run) may register models
    await as_user("alice", "PUT", "workspaces/team/members/carol", {"role": "Contributor"})
    status, model = await as_user("run", "POST", f"workspaces/team/runs/{run['id']}/models", register, token=token)
    assert status == 201 and model["created_by"] == "carol" and model["run_id"] == run["id"]
    # and once carol is gone from the workspace, her run's token does nothing there
    await as_user("alice", "DELETE", "workspaces/team/members/carol")
    status, body = await as_user("run", "GET", f"workspaces/team/runs/{run['id']}", token=token)
    assert status == 403 and "no longer has a role" in body["error"]["message"]


async def test_the_activity_log_records_who_did_what_and_cannot_be_changed(as_user, service):
    await as_user("alice", "POST", "workspaces", {"name": "team"})
    await as_user("alice", "PUT", "workspaces/team/members/bob", {"role": "Contributor"})
    _, run = await as_user("bob", "POST", "workspaces/team/runs", {"experiment": "e", "kind": "interactive"})
    await as_user("bob", "GET", "workspaces/team/runs")  # reads are not logged
    assert (await as_user("bob", "GET", "workspaces/team/activity"))[0] == 403  # Owners only
    status, page = await as_user("alice", "GET", "workspaces/team/activity", params={"limit": "2"})
    assert status == 200
    assert [(a["user"], a["action"], a["target"]) for a in page["items"]] == [
        ("bob", "runs/submit", run["id"]), ("alice", "members/write", "bob")]
    assert page["items"][1]["detail"]["role"] == "Contributor"
    status, rest = await as_user("alice", "GET", "workspaces/team/activity", params={"after": page["next_cursor"]})
    assert [(a["user"], a["action"], a["target"]) for a in rest["items"]] == [("alice", "workspaces/create", "team")]
    assert rest["next_cursor"] is None
    assert (await as_user("alice", "GET", "workspaces/team/activity", params={"after": "x"}))[0] == 400
    # append-only, by the database itself
    for statement in ("UPDATE activity SET action = 'nothing'", "DELETE FROM activity"):
        with pytest.raises(DatabaseError, match="append-only"), service.db.session() as s:
            s.execute(text(statement))
    assert len((await as_user("alice", "GET", "workspaces/team/activity"))[1]["items"]) == 3


async def test_a_revoked_named_token_is_refused(as_user, service):
    created = service.sharing.create_token("dave", "laptop")
    assert created.token.startswith("amlu_") and created.token not in json.dumps(
        [t.model_dump(mode="json") for t in service.sharing.tokens()])
    assert (await as_user("dave", "POST", "workspaces", {"name": "daves"}, token=created.token))[0] == 201
    service.sharing.revoke_token(created.id)
    assert (await as_user("dave", "GET", "workspaces", token=created.token))[0] == 403

