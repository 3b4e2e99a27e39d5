"""The key vault over REST on a real Jupyter server: list names, set, delete, read values; roles; run tokens
reach their own workspace's vault only; bad input is a clear 4xx that never echoes a value; each value read
is in the activity log, with the run as actor when a run reads."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

VALUE = "s3cr3t-REST-4f2a9d"


@pytest.fixture
def service(jp_serverapp: Any) -> Any:
    return jp_serverapp.web_app.settings["aml_app"].service


@pytest.fixture
def call(jp_fetch: Any, service: Any) -> Any:
    """``await call(token_or_user, "GET", path, body)``: a ``amlr.``/service token is used as it is, any other
    string is a user name given a named token; returns (status, json, headers)."""
    tokens: dict[str, str] = {}

    async def go(who: str, method: str, path: str, body: Any = None, *, raw: bytes | None = None) -> Any:
        token = who if who.startswith("amlr.") else tokens.setdefault(who, service.sharing.create_token(who).token)
        kwargs: dict[str, Any] = {"method": method, "headers": {"Authorization": f"Bearer {token}"}}
        if raw is not None:
            kwargs["body"] = raw
        elif body is not None or method in ("POST", "PUT", "PATCH"):
            kwargs["body"] = json.dumps(body if body is not None else {})
        try:
            resp = await jp_fetch("aml", "api", "v1", *path.split("/"), **kwargs)
        except HTTPClientError as exc:
            assert exc.response is not None
            return exc.code, json.loads(exc.response.body or b"null"), exc.response.headers
        return resp.code, json.loads(resp.body) if resp.body else None, resp.headers

    return go


async def _team(call: Any, *members: tuple[str, str]) -> None:
    assert (await call("alice", "POST", "workspaces", {"name": "team"}))[0] == 201
    for user, role in members:
        assert (await call("alice", "PUT", f"workspaces/team/members/{user}", {"role": role}))[0] == 200


async def _activity(call: Any, workspace: str = "team") -> list[tuple[str, str, str]]:
    status, page, _ = await call("alice", "GET", f"workspaces/{workspace}/activity")
    assert status == 200, page
    return [(a["user"], a["action"], a["target"]) for a in reversed(page["items"]) if a["target_kind"] == "secrets"]


async def test_set_list_read_delete(call: Any) -> None:
    await _team(call)
    status, body, _ = await call("alice", "PUT", "workspaces/team/secrets/db-password", {"value": VALUE})
    assert status == 200 and body == {"names": ["db-password"]}
    status, body, _ = await call("alice", "POST", "workspaces/team/secrets", {"secrets": {"user": "me", "b": "2"}})
    assert status == 200 and sorted(body["names"]) == ["b", "user"]
    status, listing, _ = await call("alice", "GET", "workspaces/team/secrets")
    assert status == 200 and listing == {"items": [{"name": "b"}, {"name": "db-password"}, {"name": "user"}]}
    status, values, headers = await call("alice", "POST", "workspaces/team/secret-values",
                                         {"names": ["db-password", "user"]})
    assert status == 200 and values == {"secrets": {"db-password": VALUE, "user": "me"}}
    assert headers["Cache-Control"] == "no-store"
    status, body, _ = await call("alice", "DELETE", "workspaces/team/secrets/b")
    assert status == 200 and body == {"names": ["b"]}
    assert [i["name"] for i in (await call("alice", "GET", "workspaces/team/secrets"))[1]["items"]] == [
        "db-password", "user"]
    # one activity row per action (the vault's own; the handler adds none), never a value
    assert await _activity(call) == [("alice", "secrets/write", "db-password"), ("alice", "secrets/write", "user"),
                                     ("alice", "secrets/write", "b"), ("alice", "secrets/getvalue", "db-password"),
                                     ("alice", "secrets/getvalue", "user"), ("alice", "secrets/delete", "b")]


async def test_roles_reader_lists_names_only(call: Any) -> None:
    await _team(call, ("rita", "Reader"), ("dora", "AzureML Data Scientist"), ("carl", "Contributor"),
                ("otto", "AzureML Compute Operator"))
    await call("alice", "PUT", "workspaces/team/secrets/k", {"value": VALUE})
    assert (await call("rita", "GET", "workspaces/team/secrets"))[0] == 200
    for method, path, body in (("POST", "workspaces/team/secret-values", {"names": ["k"]}),
                               ("PUT", "workspaces/team/secrets/k", {"value": "x"}),
                               ("DELETE", "workspaces/team/secrets/k", None)):
        status, answer, _ = await call("rita", method, path, body)
        assert status == 403 and "secrets/" in answer["error"]["message"] and VALUE not in json.dumps(answer)
    assert (await call("otto", "GET", "workspaces/team/secrets"))[0] == 403
    for user in ("dora", "carl"):
        status, values, _ = await call(user, "POST", "workspaces/team/secret-values", {"names": ["k"]})
        assert status == 200 and values["secrets"] == {"k": VALUE}
    assert (await call("nobody", "GET", "workspaces/team/secrets"))[0] == 404  # no role: no workspace


@pytest.mark.parametrize("method,path,body", [
    ("PUT", "workspaces/team/secrets/bad_name", {"value": VALUE}),
    ("PUT", "workspaces/team/secrets/" + "x" * 128, {"value": VALUE}),
    ("POST", "workspaces/team/secrets", {"secrets": {"ok": VALUE, "no good": VALUE}}),
    ("POST", "workspaces/team/secret-values", {"names": ["bad.name"]}),
])
async def test_an_illegal_name_is_400_saying_the_rule(call: Any, method: str, path: str, body: Any) -> None:
    await _team(call)
    status, answer, _ = await call("alice", method, path, body)
    assert status == 400 and "letters, digits and dashes" in answer["error"]["message"]
    assert VALUE not in json.dumps(answer)
    assert (await call("alice", "GET", "workspaces/team/secrets"))[1]["items"] == []  # nothing half-written


async def test_bad_values_and_bodies_never_echo_the_value(call: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await _team(call)
    for body in ({"value": ""}, {"value": 12345678}, {"value": VALUE, "extra": VALUE}, {"secrets": VALUE},
                 {}, [VALUE]):
        status, answer, _ = await call("alice", "PUT", "workspaces/team/secrets/k", body)
        assert status in (400, 422), (body, answer)
        assert VALUE not in json.dumps(answer) and "12345678" not in json.dumps(answer)
    status, answer, _ = await call("alice", "PUT", "workspaces/team/secrets/k", {"value": ""})
    assert "empty" in answer["error"]["message"]
    status, answer, _ = await call("alice", "POST", "workspaces/team/secrets", {"secrets": {"a": VALUE, "b": 7}})
    assert status == 422 and VALUE not in json.dumps(answer)
    status, answer, _ = await call("alice", "PUT", "workspaces/team/secrets/k", raw=b'{"value": "' + VALUE.encode())
    assert status == 400 and VALUE not in json.dumps(answer)
    assert (await call("alice", "GET", "workspaces/team/secrets"))[1]["items"] == []
    assert VALUE not in caplog.text and "12345678" not in caplog.text


async def test_a_missing_secret_is_404_with_a_hint(call: Any) -> None:
    await _team(call)
    status, answer, _ = await call("alice", "POST", "workspaces/team/secret-values", {"names": ["nope"]})
    assert status == 404 and "secret 'nope' not found" in answer["error"]["message"] and answer["error"]["hint"]
    assert (await call("alice", "DELETE", "workspaces/team/secrets/nope"))[0] == 404
    status, answer, _ = await call("alice", "POST", "workspaces/team/secret-values",
                                   {"names": ["nope"], "missing_ok": True})
    assert status == 200 and answer == {"secrets": {"nope": None}}
    assert await _activity(call) == []  # nothing was read or deleted, nothing recorded


async def test_a_run_token_reads_its_own_workspace_only(call: Any, service: Any) -> None:
    await _team(call)
    assert (await call("alice", "POST", "workspaces", {"name": "other"}))[0] == 201
    await call("alice", "PUT", "workspaces/team/secrets/k", {"value": VALUE})
    await call("alice", "PUT", "workspaces/other/secrets/k", {"value": "other-" + VALUE})
    status, run, _ = await call("alice", "POST", "workspaces/team/runs", {"experiment": "e", "kind": "interactive"})
    assert status == 201
    token = service.tokens.mint(run["id"])
    path = f"workspaces/team/runs/{run['id']}/secret-values"
    status, values, headers = await call(token, "POST", path, {"names": ["k"]})
    assert status == 200 and values == {"secrets": {"k": VALUE}} and headers["Cache-Control"] == "no-store"
    # another workspace's vault, through either route: refused, its name not even confirmed
    status, answer, _ = await call(token, "POST", f"workspaces/other/runs/{run['id']}/secret-values", {"names": ["k"]})
    assert status == 404 and "workspace 'other' not found" in answer["error"]["message"]
    for method, route, body in (("POST", "workspaces/other/secret-values", {"names": ["k"]}),
                                ("POST", "workspaces/team/secret-values", {"names": ["k"]}),
                                ("GET", "workspaces/team/secrets", None),
                                ("PUT", "workspaces/team/secrets/k", {"value": "x"})):
        status, answer, _ = await call(token, method, route, body)
        assert status in (403, 404) and VALUE not in json.dumps(answer), (route, answer)
    # another run of its own workspace is out of its reach
    _, sibling, _ = await call("alice", "POST", "workspaces/team/runs", {"experiment": "e", "kind": "interactive"})
    status, _, _ = await call(token, "POST", f"workspaces/team/runs/{sibling['id']}/secret-values", {"names": ["k"]})
    assert status == 404
    assert await _activity(call) == [("alice", "secrets/write", "k"),
                                     (f"alice (run {run['id']})", "secrets/getvalue", "k")]
    assert [a for a in await _activity(call, "other") if a[1] == "secrets/getvalue"] == []


async def test_a_run_tokens_read_is_refused_once_its_submitter_may_not(call: Any, service: Any) -> None:
    await _team(call, ("dora", "AzureML Data Scientist"))
    await call("alice", "PUT", "workspaces/team/secrets/k", {"value": VALUE})
    status, run, _ = await call("dora", "POST", "workspaces/team/runs", {"experiment": "e", "kind": "interactive"})
    assert status == 201
    token = service.tokens.mint(run["id"])
    path = f"workspaces/team/runs/{run['id']}/secret-values"
    assert (await call(token, "POST", path, {"names": ["k"]}))[0] == 200
    assert (await call("alice", "PUT", "workspaces/team/members/dora", {"role": "Reader"}))[0] == 200
    status, answer, _ = await call(token, "POST", path, {"names": ["k"]})
    assert status == 403 and "secrets/getvalue" in answer["error"]["message"]


async def test_a_user_reading_through_a_run_route_needs_a_real_run(call: Any) -> None:
    await _team(call)
    await call("alice", "PUT", "workspaces/team/secrets/k", {"value": VALUE})
    status, answer, _ = await call("alice", "POST", "workspaces/team/runs/no-such-run/secret-values", {"names": ["k"]})
    assert status == 404 and "no-such-run" in answer["error"]["message"]
