from __future__ import annotations


async def test_workspace_lifecycle(aml):
    status, body = await aml("POST", "workspaces", {"name": "demo"})
    assert status == 201 and body["name"] == "demo"
    status, body = await aml("POST", "workspaces", {"name": "demo"})
    assert status == 409 and "already exists" in body["error"]["message"]
    status, body = await aml("GET", "workspaces")
    assert [w["name"] for w in body["items"]] == ["demo"]
    status, body = await aml("GET", "workspaces/nope")
    assert status == 404 and "'nope'" in body["error"]["message"]
    status, body = await aml("POST", "workspaces", {"name": "../bad"})
    assert status == 422 and "name" in body["error"]["message"]
