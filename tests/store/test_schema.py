from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from jupyter_aml.errors import SchemaOutOfDate
from jupyter_aml.store import db as dbmod
from jupyter_aml.store.tables import Base


def test_migrations_produce_exactly_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    dbmod.upgrade(url)
    engine = dbmod.make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_new_database_is_created_in_wal_mode(tmp_path):
    database = dbmod.Database(f"sqlite:///{tmp_path / 'a.db'}")
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert dbmod.current_revision(database.engine) == dbmod.head_revision(database.url)


def test_out_of_date_schema_is_refused_with_upgrade_advice(tmp_path):
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    dbmod.upgrade(url)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0000'")
    with pytest.raises(SchemaOutOfDate) as err:
        dbmod.Database(url)
    assert "aml db upgrade" in err.value.hint
