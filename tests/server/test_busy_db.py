"""A write that meets a held database lock answers 503 with Retry-After (the client retries), never a 500."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from tornado.httpclient import HTTPClientError


async def test_a_write_behind_a_held_lock_answers_503_with_retry_after(
    aml: Any, jp_serverapp: Any, jp_fetch: Any, aml_root: Path, database_backend: str
) -> None:
    if database_backend != "sqlite":
        pytest.skip("holds SQLite's file lock from a second connection")
    status, _ = await aml("GET", "workspaces")  # the service is up
    assert status == 200
    db = jp_serverapp.web_app.settings["aml_app"].service.db

    def short_wait(dbapi_conn: Any, _record: Any) -> None:  # the test need not wait the store's 10 s
        dbapi_conn.execute("PRAGMA busy_timeout=100")

    event.listen(db.engine, "connect", short_wait)
    db.engine.dispose()
    holder = sqlite3.connect(aml_root / "aml.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # e.g. a run registering 100k files
    try:
        with pytest.raises(HTTPClientError) as caught:
            await jp_fetch("aml", "api", "v1", "workspaces", method="POST", body=json.dumps({"name": "w"}))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    resp = caught.value.response
    assert resp is not None and resp.code == 503
    assert int(resp.headers["Retry-After"]) >= 1
    error = json.loads(resp.body)["error"]
    assert error["code"] == "Busy" and "locked" in error["message"]
    # once the lock is released the same call succeeds
    resp = await jp_fetch("aml", "api", "v1", "workspaces", method="POST", body=json.dumps({"name": "w"}))
    assert resp.code == 201
