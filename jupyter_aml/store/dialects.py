"""What differs between the database engines the store runs on, kept in one place.

SQLite (the zero-configuration default) gets WAL mode, foreign keys and writers that take the write lock up
front; PostgreSQL (shared workspaces) gets pooled connections checked before use and writers serialised by
a transaction-scoped advisory lock. Both give the services the same promise: two read-modify-write sessions
never interleave, and read-only sessions never wait for writers.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

from jupyter_aml.errors import InvalidInput

WRITER = "aml_writer"  # execution option: True on the engine of write sessions


class Dialect(abc.ABC):
    """How to open an engine on one database backend and how its write sessions begin."""

    name: ClassVar[str]

    @abc.abstractmethod
    def engine(self, url: str) -> Engine: ...


class SQLiteDialect(Dialect):
    name = "sqlite"

    def engine(self, url: str) -> Engine:
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine


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


def _sqlite_begin(conn: Connection) -> None:
    """Writers take SQLite's write lock up front (BEGIN IMMEDIATE), so two read-modify-write transactions
    serialise instead of one failing or losing an update; read-only sessions begin deferred and, in WAL
    mode, never wait for writers."""
    mode = "IMMEDIATE" if conn.get_execution_options().get(WRITER, True) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


# Any fixed 64-bit number: the key of the advisory lock that write sessions of this store hold.
PG_WRITE_LOCK = 0x616D6C5F7772
PG_LOCK_TIMEOUT_MS = 60_000


class PostgreSQLDialect(Dialect):
    """READ COMMITTED alone would let two writers read the same row and both write (a lost update, or a
    duplicate run number): write sessions first take one advisory lock, held until commit or rollback, as
    SQLite's BEGIN IMMEDIATE does. Readers take no lock."""

    name = "postgresql"

    def engine(self, url: str) -> Engine:
        # lock_timeout: a writer that waits this long for the lock fails (as SQLite's busy timeout does) rather
        # than hanging for ever behind a stuck transaction.
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                               connect_args={"options": f"-c lock_timeout={PG_LOCK_TIMEOUT_MS}"})
        event.listen(engine, "begin", _pg_begin)
        return engine


def _pg_begin(conn: Connection) -> None:
    if conn.get_execution_options().get(WRITER, True):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")


DIALECTS: dict[str, type[Dialect]] = {"sqlite": SQLiteDialect, "postgresql": PostgreSQLDialect}


def dialect_for(url: str) -> Dialect:
    try:
        backend = make_url(url).get_backend_name()
    except Exception as exc:  # sqlalchemy.exc.ArgumentError: not a URL at all
        raise InvalidInput(f"{url!r} is not a database URL: {exc}") from None
    cls = DIALECTS.get(backend)
    if cls is None:
        raise InvalidInput(
            f"database backend {backend!r} is not supported",
            hint="use sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DB",
        )
    return cls()
