"""The store seam: sessions over one database, the schema check, and migrations.

The core services talk to a ``Store``: write sessions (committed at the end, rolled back on error, never
interleaved with another writer) and read-only sessions (never waiting for writers). ``Database`` is the
SQLAlchemy implementation for every backend in ``dialects`` (SQLite by default, PostgreSQL for shared
workspaces); what differs between backends lives there, not here.

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
from sqlalchemy.orm import Session, sessionmaker

from jupyter_aml.errors import SchemaOutOfDate
from jupyter_aml.store.dialects import WRITER, dialect_for

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


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
