"""Migration 0012 on a database of the old numbering (children took top-level numbers): top-level runs keep
their numbers, children are renumbered under their parent, and new runs continue without gaps. SQLite, and
PostgreSQL under --database=postgresql."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from jupyter_aml.core import models
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.store import db as dbmod


def _old_runs(conn: sa.Connection) -> None:
    t0 = datetime(2026, 12, 1, tzinfo=timezone.utc)
    conn.execute(sa.text("INSERT INTO workspaces (id, name, description, created_at) VALUES (1, 'w', '', :t)"),
                 {"t": t0})
    conn.execute(sa.text("INSERT INTO experiments (id, workspace_id, name, created_at, run_count, tags) "
                         "VALUES (1, 1, 'e', :t, 7, '{}')"), {"t": t0})
    # the old scheme: #1, its children #2 #3, then #4, its child #5 and grandchild #6, then #7
    rows = [("r1", 1, None), ("c2", 2, "r1"), ("c3", 3, "r1"), ("r4", 4, None), ("c5", 5, "r4"),
            ("g6", 6, "c5"), ("r7", 7, None)]
    for index, (run_id, number, parent) in enumerate(rows):
        path = {"r1": "/r1/", "c2": "/r1/c2/", "c3": "/r1/c3/", "r4": "/r4/", "c5": "/r4/c5/", "g6": "/r4/c5/g6/",
                "r7": "/r7/"}[run_id]
        root = path.strip("/").split("/")[0]
        conn.execute(sa.text(
            "INSERT INTO runs (id, workspace_id, experiment_id, number, parent_id, root_id, path, kind, display_name, "
            "description, status, created_at, submitter) VALUES (:id, 1, 1, :n, :p, :root, :path, 'interactive', "
            ":id, '', 'Completed', :t, 'ann')"),
            {"id": run_id, "n": number, "p": parent, "root": root, "path": path, "t": t0 + timedelta(seconds=index)})


def test_the_backfill_keeps_top_level_numbers_and_numbers_children_under_their_parent(tmp_path, database_url):
    url = database_url or f"sqlite:///{tmp_path / 'old.db'}"
    dbmod.upgrade(url, "0011")
    engine = dbmod.make_engine(url)
    with engine.begin() as conn:
        _old_runs(conn)
    dbmod.upgrade(url)
    with engine.connect() as conn:
        got = dict(conn.execute(sa.text("SELECT id, display_number FROM runs")).all())
        numbers = dict(conn.execute(sa.text("SELECT id, number FROM runs")).all())
        counts = dict(conn.execute(sa.text("SELECT id, child_count FROM runs")).all())
    engine.dispose()
    assert got == {"r1": "1", "c2": "1.1", "c3": "1.2", "r4": "4", "c5": "4.1", "g6": "4.1.1", "r7": "7"}
    assert numbers == {"r1": 1, "c2": 1, "c3": 2, "r4": 4, "c5": 1, "g6": 1, "r7": 7}
    assert counts == {"r1": 2, "c2": 0, "c3": 0, "r4": 1, "c5": 1, "g6": 0, "r7": 0}

    service = AMLService(ServiceSettings(root=tmp_path, database_url=url))
    spec = models.RunCreate(experiment="e", kind="interactive")
    after = service.runs.create("w", spec, submitter="ann")
    child = service.runs.create("w", spec, parent_id=after.id, submitter="ann")
    grandchild = service.runs.create("w", spec, parent_id=child.id, submitter="ann")
    later = service.runs.create("w", spec, submitter="ann")
    assert [r.display_number for r in (after, child, grandchild, later)] == ["8", "8.1", "8.1.1", "9"]
    experiment = service.workspaces.experiment("w", "e")
    assert (experiment.run_count, experiment.child_run_count) == (5, 6)
