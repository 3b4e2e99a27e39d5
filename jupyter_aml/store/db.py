"""Engine, sessions and the schema check.

The service refuses to start on a database whose Alembic revision differs from the code's head and
says how to upgrade (``aml db upgrade``). A brand-new database is created at head directly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from jupyter_aml.errors import SchemaOutOfDate

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Take transaction control away from pysqlite, which would run SELECTs outside any transaction
    # (a read-then-write would then lose updates); _sqlite_begin issues BEGIN itself.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # durable at each commit in WAL mode up to OS crash
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    """Writers take SQLite's write lock up front (BEGIN IMMEDIATE), so two read-modify-write transactions
    serialise instead of one failing or losing an update; read-only sessions begin deferred and, in WAL
    mode, never wait for writers."""
    mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def ensure_schema(engine: Engine, url: str, *, auto_create: bool = True) -> None:
    """Create a new database at head; refuse an existing one that is not at head."""
    current = current_revision(engine)
    head = head_revision(url)
    if current is None and auto_create and not inspect(engine).get_table_names():
        upgrade(url)
        return
    if current != head:
        raise SchemaOutOfDate(
            f"the workspace database is at schema revision {current!r} but this version of jupyter-aml needs {head!r}",
            hint="back up the database, then run `aml db upgrade` (or set JUPYTER_AML_AUTO_UPGRADE=1)",
        )


class Database:
    """A sessionmaker with commit/rollback handled in one place."""

    def __init__(self, url: str, *, auto_upgrade: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url)
        if auto_upgrade and current_revision(self.engine) not in (None, head_revision(url)):
            upgrade(url)
        ensure_schema(self.engine, url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        self._read_factory = sessionmaker(
            self.engine.execution_options(sqlite_begin="DEFERRED"), expire_on_commit=False
        )

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        session = self._factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session: never takes the write lock."""
        session = self._read_factory()
        try:
            yield session
        finally:
            session.close()  # ends the transaction; unlike rollback() it leaves loaded rows readable

    def dispose(self) -> None:
        self.engine.dispose()
