"""Datastores over REST on a real Jupyter server and a real S3 server: register, list, get, default, delete,
files through the service, the audited location route; no answer carries a credential; a Reader cannot
register or read credentials; a run token reaches its own workspace's datastores only."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from tests.data.s3 import S3Server


@pytest.fixture
def service(jp_serverapp: Any) -> Any:
    return jp_serverapp.web_app.settings["aml_app"].service


@pytest.fixture
def call(jp_fetch: Any, service: Any) -> Any:
    """``await call(who, method, path, body, raw=, params=)`` as user ``who`` (a named token) or with a run
    token (``amlr.``); returns (status, body, headers)."""
    tokens: dict[str, str] = {}

    async def go(who: str, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
                 params: dict[str, Any] | None = None) -> Any:
        token = who if who.startswith("amlr.") else tokens.setdefault(who, service.sharing.create_token(who).token)
        kwargs: dict[str, Any] = {"method": method, "headers": {"Authorization": f"Bearer {token}"},
                                  "params": params or {}}
        if raw is not None:
            kwargs["body"] = raw
        elif body is not None or method in ("POST", "PUT", "PATCH"):
            kwargs["body"] = json.dumps(body if body is not None else {})
        try:
            resp = await jp_fetch("aml", "api", "v1", *path.split("/"), **kwargs)
        except HTTPClientError as exc:
            assert exc.response is not None
            return exc.code, json.loads(exc.response.body or b"null"), exc.response.headers
        ctype = resp.headers.get("Content-Type", "")
        return resp.code, (json.loads(resp.body) if "json" in ctype else resp.body), resp.headers

    return go


def s3_body(server: S3Server, bucket: str, **extra: Any) -> dict[str, Any]:
    return {"name": "s3data", "kind": "s3", "bucket_name": bucket, "endpoint_url": server.endpoint_url,
            "region": server.region, "access_key_id": server.access_key, "secret_access_key": server.secret_key,
            **extra}


async def _workspace(aml: Any, service: Any, members: dict[str, str] | None = None) -> None:
    assert (await aml("POST", "workspaces", {"name": "w"}))[0] == 201
    for user, role in (members or {}).items():
        assert (await aml("PUT", f"workspaces/w/members/{user}", {"role": role}))[0] == 200


async def test_register_list_default_delete_and_no_credential_in_any_answer(
        aml: Any, call: Any, service: Any, s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    await _workspace(aml, service, {"carol": "Contributor"})
    status, listing, _ = await call("carol", "GET", "workspaces/w/datastores")
    assert status == 200 and listing["default"] == "workspaceblobstore"
    status, ds, _ = await call("carol", "POST", "workspaces/w/datastores", s3_body(s3_server, s3_bucket))
    assert status == 201, ds
    assert ds["datastore_type"] == "S3" and ds["has_credentials"] and ds["location"] == f"s3://{s3_bucket}"
    answers = [ds]
    for path in ("workspaces/w/datastores", "workspaces/w/datastores/s3data", "workspaces/w/datastores/S3DATA"):
        status, body, _ = await call("carol", "GET", path)
        assert status == 200
        answers.append(body)
    assert all(s3_server.secret_key not in json.dumps(a) and s3_server.access_key not in json.dumps(a)
               for a in answers)
    status, ds, _ = await call("carol", "POST", "workspaces/w/datastores/s3data/default")
    assert status == 200 and ds["is_default"]
    assert (await call("carol", "GET", "workspaces/w/datastores"))[1]["default"] == "s3data"
    status, conflict, _ = await call("carol", "POST", "workspaces/w/datastores", s3_body(s3_server, s3_bucket))
    assert status == 409 and "already exists" in conflict["error"]["message"]
    status, _, _ = await call("carol", "DELETE", "workspaces/w/datastores/s3data")
    assert status == 200
    assert (await call("carol", "GET", "workspaces/w/datastores/s3data"))[0] == 404
    assert (await call("carol", "GET", "workspaces/w/datastores"))[1]["default"] == "workspaceblobstore"
    assert service.keyvault.list_secrets("w") == []
    assert (await call("carol", "DELETE", "workspaces/w/datastores/workspaceblobstore"))[0] == 409


async def test_wrong_credentials_and_bad_bodies_never_echo_the_secret(
        aml: Any, call: Any, service: Any, s3_server: S3Server, s3_bucket: str, caplog: Any) -> None:
    await _workspace(aml, service)
    wrong = "Wr0ng-Secret-Over-REST-1234"
    status, body = await aml("POST", "workspaces/w/datastores", s3_body(s3_server, s3_bucket,
                                                                      secret_access_key=wrong))
    assert status == 403 and "s3data" in body["error"]["message"] and wrong not in json.dumps(body)
    status, body = await aml("POST", "workspaces/w/datastores", {**s3_body(s3_server, s3_bucket,
                                                                         secret_access_key=wrong), "path": "/x"})
    assert status == 422 and wrong not in json.dumps(body)
    status, body = await aml("POST", "workspaces/w/datastores", s3_body(s3_server, s3_bucket,
                                                                      secret_access_key=wrong * 500))
    assert status == 422 and wrong not in json.dumps(body)
    assert wrong not in caplog.text
    assert (await aml("GET", "workspaces/w/datastores"))[1]["items"][0]["name"] == "workspaceblobstore"
    assert len((await aml("GET", "workspaces/w/datastores"))[1]["items"]) == 1
    assert service.keyvault.list_secrets("w") == []


async def test_files_through_the_service(aml: Any, call: Any, service: Any, tmp_path: Path) -> None:
    await _workspace(aml, service, {"rita": "Reader", "carol": "Contributor"})
    local = tmp_path / "shared"
    local.mkdir()
    status, _, _ = await call("carol", "POST", "workspaces/w/datastores",
                              {"name": "shared", "kind": "local", "path": str(local)})
    assert status == 201
    for store in ("workspaceblobstore", "shared"):
        base = f"workspaces/w/datastores/{store}"
        status, up, _ = await call("carol", "PUT", f"{base}/file", raw=b"a,b\n1,2\n", params={"path": "in/t.csv"})
        assert status == 201 and up == {"path": "in/t.csv", "size": 8, "written": True}
        status, up, _ = await call("carol", "PUT", f"{base}/file", raw=b"changed", params={"path": "in/t.csv"})
        assert status == 201 and up["written"] is False
        status, data, _ = await call("rita", "GET", f"{base}/file", params={"path": "in/t.csv"})
        assert status == 200 and data == b"a,b\n1,2\n"
        status, files, _ = await call("rita", "GET", f"{base}/files", params={"pattern": "**/*.csv"})
        assert status == 200 and [f["path"] for f in files["items"]] == ["in/t.csv"]
        status, err, _ = await call("rita", "GET", f"{base}/files", params={"pattern": "**/*.parquet"})
        assert status == 404 and "matches nothing" in err["error"]["message"]
        for bad in ("../escape.txt", "/etc/passwd"):
            status, err, _ = await call("carol", "PUT", f"{base}/file", raw=b"x", params={"path": bad})
            assert status == 400, err
            assert (await call("rita", "GET", f"{base}/file", params={"path": bad}))[0] == 400
        started = time.monotonic()
        status, err, _ = await call("carol", "PUT", f"{base}/file", raw=b"", params={"path": "0" * 1000})
        assert status == 400 and time.monotonic() - started < 5, err  # a name too long for the file system
        status, err, _ = await call("carol", "PUT", f"{base}/file", raw=b"x", params={"path": "./"})
        assert status == 400 and "names no file" in err["error"]["message"]
        long_path = "/".join(["d"] * 600)  # 1,199 characters of short folder names: over the documented 1,024
        status, err, _ = await call("carol", "PUT", f"{base}/file", raw=b"x", params={"path": long_path})
        assert status == 400 and "at most 1024" in err["error"]["message"], err
        assert (await call("rita", "GET", f"{base}/file", params={"path": long_path}))[0] == 400
        status, err, _ = await call("carol", "PUT", f"{base}/file", raw=b"x", params={"path": "a\x10b.txt"})
        assert status == 400 and "control characters" in err["error"]["message"], err
        status, err, _ = await call("rita", "GET", f"{base}/files", params={"pattern": "a/**b"})
        assert status == 400 and "not a valid glob" in err["error"]["message"]
        # a Reader may read, not write
        status, err, _ = await call("rita", "PUT", f"{base}/file", raw=b"x", params={"path": "r.txt"})
        assert status == 403
    assert (local / "in" / "t.csv").read_bytes() == b"a,b\n1,2\n"
    assert (service.datastores.blob_root("w") / "in" / "t.csv").read_bytes() == b"a,b\n1,2\n"
    (local / "link").symlink_to(tmp_path)
    status, err, _ = await call("rita", "GET", "workspaces/w/datastores/shared/file", params={"path": "link/x"})
    assert status == 400 and "symbolic link" in err["error"]["message"]


async def test_a_reader_cannot_register_or_read_credentials(
        aml: Any, call: Any, service: Any, s3_server: S3Server, s3_bucket: str) -> None:
    await _workspace(aml, service, {"rita": "Reader", "dana": "AzureML Data Scientist"})
    status, err, _ = await call("rita", "POST", "workspaces/w/datastores", s3_body(s3_server, s3_bucket))
    assert status == 403 and "datastores/write" in err["error"]["message"]
    assert (await call("dana", "POST", "workspaces/w/datastores", s3_body(s3_server, s3_bucket)))[0] == 201
    assert (await call("rita", "GET", "workspaces/w/datastores/s3data"))[0] == 200
    status, err, _ = await call("rita", "GET", "workspaces/w/datastores/s3data/location")
    assert status == 403 and "datastores/listsecrets" in err["error"]["message"]
    assert (await call("rita", "DELETE", "workspaces/w/datastores/s3data"))[0] == 403
    assert (await call("rita", "POST", "workspaces/w/datastores/s3data/default"))[0] == 403
    status, loc, headers = await call("dana", "GET", "workspaces/w/datastores/s3data/location")
    assert status == 200 and loc["protocol"] == "s3" and loc["options"]["secret"] == s3_server.secret_key
    assert headers["Cache-Control"] == "no-store"
    activity = service.sharing.activity("w").items
    assert any(a.action == "datastores/listsecrets" and a.user == "dana" for a in activity)
    assert any(a.action == "secrets/getvalue" and a.user == "dana" and a.target == "datastore-s3data"
               for a in activity)


async def test_run_tokens_reach_their_own_workspace_only(aml: Any, call: Any, service: Any) -> None:
    await _workspace(aml, service)
    assert (await aml("POST", "workspaces", {"name": "other"}))[0] == 201
    status, run = await aml("POST", "workspaces/w/runs", {"experiment": "e", "kind": "interactive"})
    assert status == 201
    token = service.tokens.mint(run["id"])
    status, up, _ = await call(token, "PUT", "workspaces/w/datastores/workspaceblobstore/file", raw=b"out",
                               params={"path": f"outputs/{run['id']}/r.txt"})
    assert status == 201, up
    assert (await call(token, "GET", "workspaces/w/datastores"))[0] == 200
    assert (await call(token, "GET", "workspaces/w/datastores/workspaceblobstore/location"))[0] == 200
    assert (await call(token, "GET", "workspaces/other/datastores"))[0] == 404
    assert (await call(token, "POST", "workspaces/w/datastores", {"name": "x", "kind": "local", "path": "/tmp"}))[0] \
        == 403
