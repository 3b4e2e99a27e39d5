"""The store seam: sessions over one database, the schema check, and migrations.

The core services talk to a ``Store``: write sessions (committed at the end, rolled back on error, never
interleaved with another writer) and read-only sessions (never waiting for writers). ``Database`` is the
SQLAlchemy implementation for every backend in ``dialects`` (SQLite by default, PostgreSQL for shared
workspaces); what differs between backends lives there, not here.

A database that is busy (SQLite's lock still held when the busy timeout runs out, a PostgreSQL lock timeout,
serialization failure or deadlock) surfaces from both kinds of session as ``Busy``, which the REST layer
answers 503 + Retry-After: every service gets "retry later" instead of a 500, from this one place.

The service refuses to start on a database whose Alembic revision differs from the code's head and
says how to upgrade (``aml db upgrade``). A brand-new database is created at head directly.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from jupyter_aml.errors import Busy, SchemaOutOfDate
from jupyter_aml.store.dialects import WRITER, dialect_for

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Seconds a client is asked to wait after a busy database. It has already waited the backend's own timeout
# (SQLite's busy_timeout, PostgreSQL's lock_timeout, see dialects) behind the lock holder, so coming straight
# back would only queue it again; a few seconds lets a long write finish.
BUSY_RETRY_AFTER = 5
_SQLITE_BUSY = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED: primary codes (the low byte of the extended ones)
_PG_BUSY = {"55P03", "40001", "40P01"}  # lock_not_available (lock_timeout), serialization_failure, deadlock
_BUSY_TEXT = ("database is locked", "database table is locked", "database schema is locked")


def is_busy(exc: BaseException) -> bool:
    """Whether a driver error means "the database is busy, the same call may succeed later" (not a bug)."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_BUSY
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)  # psycopg 3, psycopg2
    if isinstance(state, str):
        return state in _PG_BUSY
    return any(text in str(orig).lower() for text in _BUSY_TEXT)


def busy_error(exc: DBAPIError) -> Busy:
    reason = str(exc.orig).strip().splitlines()[0][:200] if exc.orig is not None else type(exc).__name__
    return Busy(
        f"the workspace database is busy ({reason}): another write held its lock for longer than this one "
        "could wait; nothing of this request was written",
        hint=f"retry after {BUSY_RETRY_AFTER} s (SDK and run clients retry safe calls by themselves); if it keeps "
        "happening, see docs/reliability.md",
        retry_after=BUSY_RETRY_AFTER,
    )


def make_engine(url: str) -> Engine:
    """An engine set up for the URL's backend (see ``dialects``)."""
    return dialect_for(url).engine(url)


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


class Store(abc.ABC):
    """What the core services need from a database: sessions, and a way to let go of it."""

    url: str

    @abc.abstractmethod
    def session(self) -> contextlib.AbstractContextManager[Session]:
        """A write session: committed when the block ends, rolled back if it raises."""

    @abc.abstractmethod
    def read(self) -> contextlib.AbstractContextManager[Session]:
        """A read-only session: takes no write lock."""

    @abc.abstractmethod
    def dispose(self) -> None: ...


def schema_status(url: str, sqlite_file: Path | None = None) -> tuple[str | None, str | None, bool]:
    """(current revision, head revision, whether the database exists), without creating a missing SQLite file."""
    head = head_revision(url)
    if sqlite_file is not None and not sqlite_file.exists():
        return None, head, False
    engine = make_engine(url)
    try:
        return current_revision(engine), head, True
    finally:
        engine.dispose()


class Database(Store):
    """The SQLAlchemy store: a sessionmaker with commit/rollback handled in one place."""

    def __init__(self, url: str, *, auto_upgrade: bool = False) -> None:
        self.url = url
        self.dialect = dialect_for(url)
        self.engine = self.dialect.engine(url)
        if auto_upgrade and current_revision(self.engine) not in (None, head_revision(url)):
            upgrade(url)
        ensure_schema(self.engine, url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        self._read_factory = sessionmaker(
            self.engine.execution_options(**{WRITER: False}), expire_on_commit=False
        )

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        session = self._factory()
        try:
            yield session
            session.commit()
        except DBAPIError as exc:
            session.rollback()
            if is_busy(exc):
                raise busy_error(exc) from exc
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session: never takes the write lock (a busy database can still refuse it, e.g. while
        SQLite recovers its WAL: that is ``Busy`` too)."""
        session = self._read_factory()
        try:
            yield session
        except DBAPIError as exc:
            if is_busy(exc):
                raise busy_error(exc) from exc
            raise
        finally:
            session.close()  # ends the transaction; unlike rollback() it leaves loaded rows readable

    def dispose(self) -> None:
        self.engine.dispose()
