"""Every route x every kind of caller: anonymous, each built-in role, the workspace's own run token and
another workspace's run token. The expected decision comes from the action each route states and the
roles table (core/roles.py); a route without an action cannot be registered, and one this test cannot
reach fails it. Requests that pass authorization carry bodies the route refuses (or names that do not
exist), so the matrix changes nothing while it runs."""

from __future__ import annotations

import json
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from jupyter_aml.core import roles as rbac
from jupyter_aml.server.extension import all_routes
from jupyter_aml.server.openapi import route_specs
from tests.server.helpers import upload

ROLES = ("Reader", "Contributor", "Owner", "AzureML Data Scientist", "AzureML Compute Operator")
WS = "team"


async def _setup(aml: Any, service: Any) -> dict[str, Any]:
    """The workspace ``team`` (made by the Jupyter user, an administrator) with a member per role, a run
    with a snapshot, a file and a metric, and a run in another workspace."""
    assert (await aml("POST", "workspaces", {"name": WS}))[0] == 201
    assert (await aml("POST", "workspaces", {"name": "elsewhere"}))[0] == 201
    snapshot = await upload(aml, WS, {"train.py": b"print(1)\n"})
    blob = next(iter((await aml("GET", f"workspaces/{WS}/snapshots/{snapshot}"))[1]["files"]))["sha256"]
    status, run = await aml("POST", f"workspaces/{WS}/runs", {"experiment": "e", "kind": "interactive",
                                                               "snapshot_id": snapshot})
    assert status == 201, run
    _, other = await aml("POST", "workspaces/elsewhere/runs", {"experiment": "e", "kind": "interactive"})
    tokens = {}
    for role in ROLES:
        user = "u-" + role.lower().replace(" ", "-")
        assert (await aml("PUT", f"workspaces/{WS}/members/{user}", {"role": role}))[0] == 200
        tokens[role] = service.sharing.create_token(user).token
    tokens["own run"] = service.tokens.mint(run["id"])
    tokens["another run"] = service.tokens.mint(other["id"])
    values = {"workspace": WS, "run_id": run["id"], "snapshot_id": snapshot, "sha256": blob, "name": "nothing",
              "version": "1", "user": "nobody", "dataset_version": "1", "dataset_id": "nothing",
              "pipeline_id": "nothing", "endpoint": "nothing", "endpoint_id": "nothing", "schedule_id": "nothing"}
    return {"tokens": tokens, "values": values, "run": run}


def _expected(caller: str, spec: Any) -> bool:
    """Whether ``caller`` may pass authorization on a route with this spec, from the table alone."""
    if caller == "anonymous" or caller == "another run":
        return False
    if caller == "own run":
        # the token's own run, snapshot and the workspace's blobs; never user routes; never beyond its
        # submitter (here an administrator)
        return spec.scope != "user" and spec.action not in rbac.GLOBAL_ACTIONS
    if spec.action in rbac.GLOBAL_ACTIONS:
        return spec.action != "service/admin"
    role = rbac.BUILTIN_ROLES[caller]
    return role.allows(spec.action)


def _denied(status: int, body: Any) -> bool:
    """403, or the 404 a caller gets for a workspace or run out of reach (the same words as a missing one)."""
    if status == 403:
        return True
    message = (body or {}).get("error", {}).get("message", "") if isinstance(body, dict) else ""
    return status == 404 and (message.startswith(f"workspace {WS!r} not found")
                              or (message.startswith("run ") and "not found in workspace" in message
                              and "nothing" not in message))


async def _call(base: str, method: str, path: str, token: str | None, stream: bool) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {"Authorization": ""}
    body = b"{" if method in ("POST", "PUT", "PATCH") else None  # invalid JSON: refused after authorization
    client = AsyncHTTPClient()
    try:
        resp = await client.fetch(base + path, method=method, headers=headers, body=body,
                                  allow_nonstandard_methods=True, request_timeout=1.5 if stream else 20)
    except HTTPClientError as exc:
        if exc.code == 599 and stream:  # the event stream opened: authorized
            return 200, None
        raw = exc.response.body if exc.response is not None else b""
        try:
            return exc.code, json.loads(raw or b"null")
        except ValueError:
            return exc.code, None
    return resp.code, None


async def test_every_route_against_every_caller(aml, jp_serverapp, jp_base_url, jp_http_port):
    service = jp_serverapp.web_app.settings["aml_app"].service
    setup = await _setup(aml, service)
    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url}aml/api/v1"
    specs = route_specs(all_routes())
    assert len(specs) > 50 and all(spec is not None for *_, spec in specs)
    wrong = []
    for path, method, _handler, spec in specs:
        concrete = path.format(**setup["values"])
        if "{" in concrete:
            raise AssertionError(f"the matrix cannot fill {path}: add its path parameter to _setup")
        if spec.content_type == "text/event-stream":
            concrete += f"?workspace={WS}"
        for caller in ("anonymous", *ROLES, "own run", "another run"):
            token = setup["tokens"].get(caller)
            status, body = await _call(base, method.upper(), concrete, token, spec.content_type == "text/event-stream")
            allowed = not _denied(status, body)
            if status >= 500 or allowed != _expected(caller, spec):
                wrong.append(f"{method.upper()} {path} as {caller}: {status} {body}")
    assert wrong == [], "\n".join(wrong)


def test_the_table_says_what_azure_roles_say():
    """Spot checks of the table itself, so that the matrix above cannot pass on a wrong table."""
    reader, contributor = rbac.BUILTIN_ROLES["Reader"], rbac.BUILTIN_ROLES["Contributor"]
    scientist, operator = rbac.BUILTIN_ROLES["AzureML Data Scientist"], rbac.BUILTIN_ROLES["AzureML Compute Operator"]
    assert reader.allows("runs/read") and not reader.allows("runs/submit")
    assert not reader.allows("services/listkeys") and not reader.allows("activity/read")
    assert contributor.allows("models/write") and contributor.allows("services/listkeys")
    assert not contributor.allows("members/write") and not contributor.allows("roles/write")
    assert scientist.allows("runs/submit") and scientist.allows("services/write")
    assert not scientist.allows("computes/write") and not scientist.allows("members/write")
    assert operator.allows("computes/write") and operator.allows("computes/delete")
    assert not operator.allows("runs/read") and not operator.allows("models/read")
    owner = rbac.BUILTIN_ROLES["Owner"]
    assert owner.allowed() == frozenset(rbac.ACTIONS)
