from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from jupyter_aml.errors import SchemaOutOfDate
from jupyter_aml.store import db as dbmod
from jupyter_aml.store.tables import Base


def test_migrations_produce_exactly_the_models(tmp_path, database_url):
    url = database_url or f"sqlite:///{tmp_path / 'm.db'}"
    dbmod.upgrade(url)
    engine = dbmod.make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    engine.dispose()


def test_migrations_downgrade_to_base_and_up_again(tmp_path, database_url):
    url = database_url or f"sqlite:///{tmp_path / 'd.db'}"
    dbmod.upgrade(url)
    from alembic import command

    command.downgrade(dbmod.alembic_config(url), "base")
    engine = dbmod.make_engine(url)
    assert dbmod.current_revision(engine) is None
    dbmod.upgrade(url)
    assert dbmod.current_revision(engine) == dbmod.head_revision(url)
    engine.dispose()


def test_schema_status_reports_a_missing_database_without_creating_it(tmp_path, database_url):
    path = tmp_path / "none.db"
    assert dbmod.schema_status(f"sqlite:///{path}", path) == (None, dbmod.head_revision("sqlite://"), False)
    assert not path.exists()
    if database_url:  # an empty PostgreSQL database exists but has no schema yet
        assert dbmod.schema_status(database_url) == (None, dbmod.head_revision(database_url), True)


def test_an_unknown_database_backend_is_a_clear_error():
    from jupyter_aml.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        dbmod.Database("mysql://u@h/db")
    assert "postgresql+psycopg://" in (err.value.hint or "")


def test_new_database_is_created_in_wal_mode(tmp_path):
    database = dbmod.Database(f"sqlite:///{tmp_path / 'a.db'}")
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert dbmod.current_revision(database.engine) == dbmod.head_revision(database.url)


def test_out_of_date_schema_is_refused_with_upgrade_advice(tmp_path, database_url):
    path = tmp_path / "old.db"
    url = database_url or f"sqlite:///{path}"
    dbmod.upgrade(url)
    if database_url:
        engine = dbmod.make_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0000'")
        engine.dispose()
    else:
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE alembic_version SET version_num = '0000'")
    with pytest.raises(SchemaOutOfDate) as err:
        dbmod.Database(url)
    assert "aml db upgrade" in err.value.hint
