from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_aml.core import roles as rbac
from jupyter_aml.server.base import api
from jupyter_aml.server.extension import all_routes
from jupyter_aml.server.openapi import route_specs
from tests.server.helpers import interactive_run


def test_every_route_has_an_authorization_decision():
    specs = route_specs(all_routes())
    assert len(specs) > 20
    unguarded = [f"{m.upper()} {p}" for p, m, _h, spec in specs if spec is None]
    assert unguarded == []
    for _p, _m, _h, spec in specs:
        assert spec.scope in {"user", "run", "run-read", "blobs", "snapshot", "experiment-read", "workspace"}
        assert spec.action in rbac.ACTIONS or spec.action in rbac.GLOBAL_ACTIONS


def test_a_route_without_a_known_action_cannot_be_declared():
    with pytest.raises(TypeError):
        api("user", "no decision")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="unknown action"):
        api("user", "a typo", action="runs/sumbit")


async def test_unauthenticated_requests_are_refused(jp_fetch):
    try:
        await jp_fetch("aml", "api", "v1", "workspaces", headers={"Authorization": ""})
        raise AssertionError("expected 403")
    except HTTPClientError as exc:
        assert exc.code == 403


async def _as_token(jp_fetch, token, method, *path, body=None, params=None):
    kwargs = {"method": method, "headers": {"Authorization": f"Bearer {token}"}, "params": params or {}}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    try:
        resp = await jp_fetch("aml", "api", "v1", *path, **kwargs)
        return resp.code
    except HTTPClientError as exc:
        return exc.code


async def test_run_token_reaches_only_its_own_tree(aml, jp_fetch, jp_serverapp):
    service = jp_serverapp.web_app.settings["aml_app"].service
    mine = await interactive_run(aml)
    other = await interactive_run(aml)
    _, kids = await aml("POST", f"workspaces/w/runs/{mine['id']}/children", {})
    child = kids["items"][0]["id"]
    token = service.tokens.mint(mine["id"])
    assert await _as_token(jp_fetch, token, "GET", "workspaces", "w", "runs", mine["id"]) == 200
    assert await _as_token(jp_fetch, token, "GET", "workspaces", "w", "runs", child) == 200
    assert (
        await _as_token(
            jp_fetch, token, "POST", "workspaces", "w", "runs", child, "status", body={"status": "Completed"}
        )
        == 200
    )
    # another run (404, as for a run that does not exist), listings, workspaces, Jupyter's APIs: refused
    assert await _as_token(jp_fetch, token, "GET", "workspaces", "w", "runs", other["id"]) == 404
    assert await _as_token(jp_fetch, token, "GET", "workspaces", "w", "runs", "no-such-run") == 404
    assert await _as_token(jp_fetch, token, "GET", "workspaces", "w", "runs") == 403
    assert await _as_token(jp_fetch, token, "GET", "workspaces") == 403
    try:
        await jp_fetch("aml", "api", "v1", "workspaces", headers={"Authorization": f"Bearer {token}"})
        raise AssertionError("a run token must not list workspaces")
    except HTTPClientError as exc:
        message = json.loads(exc.response.body)["error"]["message"]
    assert message.startswith(f"the token of run {mine['id']} may not workspaces/list (list the workspaces")
    assert "datastores, datasets and secrets a run reads" in message  # what it may reach, as it is today
    try:
        await jp_fetch("api", "kernels", headers={"Authorization": f"Bearer {token}"})
        raise AssertionError("a run token must not reach kernels")
    except HTTPClientError as exc:
        assert exc.code == 403
    # the child's token may read its parent's record but not write it
    child_token = service.tokens.mint(child)
    assert await _as_token(jp_fetch, child_token, "GET", "workspaces", "w", "runs", mine["id"]) == 200
    assert (
        await _as_token(
            jp_fetch, child_token, "PATCH", "workspaces", "w", "runs", mine["id"], body={"tags": {"x": "1"}}
        )
        == 403
    )
    # ancestors' own records only: not their children (its siblings), not recursively through them
    sibling = (await aml("POST", f"workspaces/w/runs/{mine['id']}/children", {}))[1]["items"][0]["id"]
    assert await _as_token(jp_fetch, child_token, "GET", "workspaces", "w", "runs", mine["id"], "metrics") == 200
    assert await _as_token(jp_fetch, child_token, "GET", "workspaces", "w", "runs", sibling) == 404
    assert await _as_token(jp_fetch, child_token, "GET", "workspaces", "w", "runs", mine["id"], "children") == 403
    metrics = ("workspaces", "w", "runs", mine["id"], "metrics")
    assert await _as_token(jp_fetch, child_token, "GET", *metrics, params={"recursive": "true"}) == 403
    # a forged token is not a token
    assert await _as_token(jp_fetch, token[:-4] + "0000", "GET", "workspaces", "w", "runs", mine["id"]) == 403


async def test_openapi_document_is_generated_from_models(aml):
    status, doc = await aml("GET", "openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
    assert "RunCreate" in doc["components"]["schemas"]
    op = doc["paths"]["/workspaces/{workspace}/runs"]["post"]
    # every operation says what it does in the roles table, and who may
    assert op["x-aml-action"] == "runs/submit" and "Reader" not in op["x-aml-roles"]
    assert "Contributor" in op["x-aml-roles"] and "AzureML Data Scientist" in op["x-aml-roles"]
    assert doc["paths"]["/gc"]["post"]["x-aml-roles"] == ["administrators"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("RunCreate")
