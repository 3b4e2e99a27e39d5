"""Migration 0015 moves the logged-model records kept as run tags into their own table, and back on downgrade."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from jupyter_aml.store import db as dbmod

_ROWS = [
    "INSERT INTO workspaces (id, name, description, created_at) VALUES (1, 'w', '', '2026-01-01')",
    "INSERT INTO experiments (id, workspace_id, name, created_at, run_count, tags) "
    "VALUES (1, 1, 'e', '2026-01-01', 1, '{}')",
    "INSERT INTO runs (id, workspace_id, experiment_id, number, display_number, child_count, root_id, path, kind, "
    "display_name, description, status, created_at, submitter) VALUES ('r1', 1, 1, 1, '1', 0, 'r1', '/r1/', "
    "'interactive', '', '', 'Running', '2026-01-01', 'me')",
    "INSERT INTO run_tags (run_id, key, value) VALUES ('r1', 'aml.mlflow.loggedModel.m-1', '{\"name\": \"model\"}')",
    "INSERT INTO run_tags (run_id, key, value) VALUES ('r1', 'team', 'red')",
]


def test_logged_model_tags_move_to_their_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    command.upgrade(dbmod.alembic_config(url), "0014")
    engine = sa.create_engine(url)
    with engine.begin() as con:
        for sql in _ROWS:
            con.execute(sa.text(sql))
    command.upgrade(dbmod.alembic_config(url), "0015")
    with engine.connect() as con:
        assert con.execute(sa.text("SELECT model_id, run_id, data FROM mlflow_logged_models")).all() == [
            ("m-1", "r1", '{"name": "model"}')]
        assert con.execute(sa.text("SELECT key FROM run_tags")).scalars().all() == ["team"]
    command.downgrade(dbmod.alembic_config(url), "0014")
    with engine.connect() as con:
        assert sorted(con.execute(sa.text("SELECT key FROM run_tags")).scalars()) == [
            "aml.mlflow.loggedModel.m-1", "team"]
    engine.dispose()
