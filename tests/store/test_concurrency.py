"""Concurrent writers on the real store (SQLite, or PostgreSQL under --database=postgresql): no lost updates,
no double-applied journal batches."""

from __future__ import annotations

import threading

from jupyter_aml.core import models
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings


def _parallel(n: int, fn) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def work(i: int) -> None:
        barrier.wait()
        try:
            fn(i)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_run_numbers_stay_unique_under_concurrent_submits(tmp_path, database_url):
    service = AMLService(ServiceSettings(root=tmp_path, database_url=database_url))
    service.workspaces.get_or_create("w")
    spec = models.RunCreate(experiment="e", kind="interactive")
    assert _parallel(8, lambda i: [service.runs.create("w", spec, submitter="t") for _ in range(10)]) == []
    page = service.runs.find("w", page_size=500)
    numbers = sorted(r.number for r in page.items)
    assert numbers == list(range(1, 81))


def test_the_same_journal_batch_posted_concurrently_is_applied_once(tmp_path, database_url):
    service = AMLService(ServiceSettings(root=tmp_path, database_url=database_url))
    service.workspaces.get_or_create("w")
    run = service.runs.create("w", models.RunCreate(experiment="e", kind="interactive"), submitter="t")
    records = [models.JournalRecord(seq=i + 1, run_id=run.id, t=1.0, k="m", n="x", v=float(i)) for i in range(2000)]
    batch = models.JournalBatch(stream="main", records=records)
    assert _parallel(6, lambda i: service.metrics.ingest("w", run.id, batch)) == []
    assert service.metrics.count_points("w", run.id) == 2000
    assert service.metrics.history("w", run.id, "x").values == [float(i) for i in range(2000)]


def test_writers_take_turns_and_readers_wait_for_none(tmp_path, database_url):
    """The promise every backend keeps (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock)."""
    import time

    from sqlalchemy import select

    from jupyter_aml.store.db import Database

    db = Database(database_url or f"sqlite:///{tmp_path / 'turns.db'}")
    order: list[str] = []
    holding = threading.Event()

    def first_writer() -> None:
        with db.session() as s:
            s.execute(select(1))
            holding.set()
            time.sleep(0.6)
            order.append("first")

    thread = threading.Thread(target=first_writer)
    thread.start()
    holding.wait(10)
    started = time.monotonic()
    with db.read() as s:
        s.execute(select(1))
    assert time.monotonic() - started < 0.4  # the reader did not wait for the writer
    with db.session() as s:
        s.execute(select(1))
        order.append("second")
    thread.join()
    assert order == ["first", "second"]
    db.dispose()
