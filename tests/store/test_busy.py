"""A held write lock answers Busy (retry later), never a raw driver error: the services' callers (and the REST
layer, which maps Busy to 503 + Retry-After) can tell "try again" from "this is broken"."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.errors import Busy
from jupyter_aml.store.db import Database


def _short_busy_timeout(db: Database, ms: int = 100) -> None:
    """New connections of ``db`` give up after ``ms`` instead of the store's 10 s (the test need not wait)."""

    def pragma(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA busy_timeout={ms}")

    event.listen(db.engine, "connect", pragma)  # after the store's own pragmas, so it wins
    db.engine.dispose()


@pytest.fixture
def sqlite_service(tmp_path: Path, database_backend: str) -> AMLService:
    if database_backend != "sqlite":
        pytest.skip("holds SQLite's file lock from a second connection")
    service = AMLService(ServiceSettings(root=tmp_path))
    assert isinstance(service.db, Database)
    _short_busy_timeout(service.db)
    return service


def test_a_write_behind_a_held_write_lock_raises_busy(sqlite_service: AMLService, tmp_path: Path) -> None:
    sqlite_service.workspaces.get_or_create("w")
    holder = sqlite3.connect(tmp_path / "aml.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's long write transaction
    try:
        with pytest.raises(Busy) as caught:
            sqlite_service.workspaces.get_or_create("other")
        assert caught.value.retry_after >= 1
        assert "locked" in caught.value.message
        assert isinstance(caught.value.__cause__, Exception)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # the lock is gone: the same write goes through and the failed one left nothing half-done
    sqlite_service.workspaces.get_or_create("other")
    assert sorted(w.name for w in sqlite_service.workspaces.all()) == ["other", "w"]


def test_reads_do_not_wait_for_the_held_lock(sqlite_service: AMLService, tmp_path: Path) -> None:
    sqlite_service.workspaces.get_or_create("w")
    holder = sqlite3.connect(tmp_path / "aml.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert [w.name for w in sqlite_service.workspaces.all()] == ["w"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_write_behind_a_held_postgres_lock_raises_busy(tmp_path: Path, database_url: str | None) -> None:
    if database_url is None:
        pytest.skip("runs under --database=postgresql")
    from sqlalchemy import text

    from jupyter_aml.store.dialects import PG_WRITE_LOCK

    service = AMLService(ServiceSettings(root=tmp_path, database_url=database_url))
    assert isinstance(service.db, Database)
    service.workspaces.get_or_create("w")

    def short_wait(dbapi_conn: Any, _record: Any) -> None:  # the store's lock_timeout is 60 s
        with dbapi_conn.cursor() as cur:
            cur.execute("SET lock_timeout = 200")
        dbapi_conn.commit()

    event.listen(service.db.engine, "connect", short_wait)
    service.db.engine.dispose()
    holder = service.db.dialect.engine(database_url)
    try:
        with holder.connect() as conn, conn.begin():
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_WRITE_LOCK})  # a long write elsewhere
            with pytest.raises(Busy) as caught:
                service.workspaces.get_or_create("other")
        assert "lock timeout" in caught.value.message
    finally:
        holder.dispose()
    service.workspaces.get_or_create("other")
    assert sorted(w.name for w in service.workspaces.all()) == ["other", "w"]
    service.close()


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"pg error {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("orig", "busy"),
    [
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("database table is locked"), True),
        (sqlite3.OperationalError("no such table: runs"), False),
        (_PgError("55P03"), True),  # lock_not_available: lock_timeout expired
        (_PgError("40001"), True),  # serialization_failure
        (_PgError("40P01"), True),  # deadlock_detected
        (_PgError("23505"), False),  # unique_violation: a real conflict, not "try later"
    ],
)
def test_which_driver_errors_mean_busy(orig: Exception, busy: bool) -> None:
    from sqlalchemy.exc import OperationalError

    from jupyter_aml.store.db import is_busy

    assert is_busy(OperationalError("stmt", {}, orig)) is busy
