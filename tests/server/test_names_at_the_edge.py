"""Run-file paths and environment names are refused at the REST edge when invalid or ambiguous (issue 8, finding 9)."""

from __future__ import annotations

import pytest

from tests.server.helpers import interactive_run, sha


@pytest.mark.parametrize(
    ("path", "reason"),
    [(" a.txt", "whitespace"), ("a.txt ", "whitespace"), (" ../x", "' ..'"), ("outputs//a.txt", "empty name")],
)
async def test_registering_a_run_file_with_an_ambiguous_path_is_refused_and_stores_nothing(aml, path, reason):
    run = await interactive_run(aml)
    data = b"contents"
    status, _ = await aml("PUT", f"workspaces/w/blobs/{sha(data)}", raw=data)
    assert status == 201
    good = {"path": "ok.txt", "sha256": sha(data), "size": len(data)}
    bad = {"path": path, "sha256": sha(data), "size": len(data)}
    status, body = await aml("POST", f"workspaces/w/runs/{run['id']}/files", {"files": [good, bad]})
    assert status == 400, body
    assert body["error"]["code"] == "InvalidInput"
    assert repr(path) in body["error"]["message"] and reason in body["error"]["message"]
    assert "never trimmed" in body["error"]["hint"]
    _, listed = await aml("GET", f"workspaces/w/runs/{run['id']}/files")
    assert listed["items"] == []  # the good entry of a refused batch is not stored either


async def test_a_plain_run_file_still_registers_and_downloads(aml):
    run = await interactive_run(aml)
    data = b"weights"
    await aml("PUT", f"workspaces/w/blobs/{sha(data)}", raw=data)
    entry = {"path": "outputs/a b.txt", "sha256": sha(data), "size": len(data)}
    status, body = await aml("POST", f"workspaces/w/runs/{run['id']}/files", {"files": [entry]})
    assert status == 200 and body["items"] == [entry]
    status, got = await aml("GET", f"workspaces/w/runs/{run['id']}/files/content", params={"path": "outputs/a b.txt"})
    assert status == 200 and got == data


@pytest.mark.parametrize(
    ("name", "reason"),
    [(" env", "whitespace"), ("env ", "whitespace"), ("my env", "contains ' '"), ("env:2", "contains ':'"),
     ("-env", "letter or digit"), ("env\u00e9", "contains")],
)
async def test_registering_an_environment_with_an_invalid_name_is_refused_and_stores_nothing(aml, name, reason):
    await aml("POST", "workspaces", {"name": "w"})
    status, body = await aml("POST", "workspaces/w/environments", {"name": name})
    assert status == 400, body
    assert body["error"]["message"].startswith("environment name") and reason in body["error"]["message"]
    assert "letters, digits" in body["error"]["hint"]
    _, listed = await aml("GET", "workspaces/w/environments")
    assert listed["items"] == []


async def test_an_environment_with_a_valid_name_registers(aml):
    await aml("POST", "workspaces", {"name": "w"})
    status, env = await aml("POST", "workspaces/w/environments", {"name": "sklearn-env_2.v1"})
    assert status in (200, 201) and (env["name"], env["version"]) == ("sklearn-env_2.v1", 1)
