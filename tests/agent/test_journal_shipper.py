"""JournalShipper in-process against the fake service: limits, splitting, streams, latency, fatal errors."""

from __future__ import annotations

import time
from pathlib import Path

from jupyter_aml.runtime.api import Api
from jupyter_aml.runtime.http import ServiceClient
from jupyter_aml.runtime.journal import JournalWriter, open_journal
from jupyter_aml.runtime.shipper import JournalShipper
from tests.agent.fakeservice import FakeService
from tests.agent.helpers import wait_for


def _shipper(service: FakeService, path: Path, token: str | None = None, **kw: object) -> JournalShipper:
    client = ServiceClient(service.url, token or service.state.token)
    return JournalShipper(Api(client), "ws", "j1", path, **kw)  # type: ignore[arg-type]


def test_batches_respect_record_and_byte_limits(service: FakeService, tmp_path: Path) -> None:
    path = tmp_path / "journal" / "main.jsonl"
    with JournalWriter(path) as w:
        for i in range(25_000):
            w.log_metric("j1", "m", i, i)
        for _ in range(30):
            w.log_list("j1", "big", list(range(10_000)))  # about 50 kB each
    shipper = _shipper(service, path)
    assert shipper.drain(time.monotonic() + 60)
    st = service.state
    assert [r["seq"] for r in st.journal("j1")] == list(range(1, 25_031))
    assert all(n <= 10_000 and size <= (1 << 20) + 100 for n, size in st.journal_batches)
    assert max(n for n, _ in st.journal_batches) == 10_000
    assert shipper.acked_records == 25_030 and shipper.pending == 0


def test_payload_too_large_splits_and_a_rejected_record_is_isolated(service: FakeService, tmp_path: Path) -> None:
    path = tmp_path / "journal" / "main.jsonl"
    with JournalWriter(path) as w:
        for i in range(3000):
            w.log_metric("j1", "m", i)
    service.state.max_journal_records = 700
    service.state.reject_seqs = {1234}
    warnings: list[str] = []
    shipper = _shipper(service, path, on_warning=warnings.append)
    assert shipper.drain(time.monotonic() + 60)
    seqs = [r["seq"] for r in service.state.journal("j1")]
    assert seqs == [s for s in range(1, 3001) if s != 1234]
    assert len(warnings) == 1 and "seq 1234..1234" in warnings[0]


def test_every_stream_is_shipped_live(service: FakeService, tmp_path: Path) -> None:
    path = tmp_path / "journal" / "main.jsonl"
    main, other = JournalWriter(path), open_journal(path)
    shipper = _shipper(service, path).start()
    t0 = time.monotonic()
    main.log_metric("j1", "a", 1)
    wait_for(lambda: service.state.journal("j1"), 5, "the first record")
    latency = time.monotonic() - t0
    other.log_metric("j1", "b", 2)
    wait_for(lambda: service.state.journal("j1", other.stream_id), 5, "the second stream")
    assert shipper.drain(time.monotonic() + 10)
    assert latency < 1.0
    assert service.state.journal("j1", other.stream_id)[0]["v"] == 2
    main.close()
    other.close()


def test_refused_token_stops_shipping(service: FakeService, tmp_path: Path) -> None:
    path = tmp_path / "journal" / "main.jsonl"
    with JournalWriter(path) as w:
        w.log_metric("j1", "a", 1)
    shipper = _shipper(service, path, token="wrong", on_warning=lambda _: None)
    t0 = time.monotonic()
    assert not shipper.drain(time.monotonic() + 30)
    assert time.monotonic() - t0 < 5 and shipper.failed is not None and shipper.failed.code == "Unauthorized"


def test_records_refused_one_by_one_are_dropped_and_never_resent(service: FakeService, tmp_path: Path) -> None:
    path = tmp_path / "journal" / "main.jsonl"
    with JournalWriter(path) as w:
        for i in range(500):
            w.log_metric("j1", "m", i)
    service.state.refuse_seqs = {10, 400}
    warnings: list[str] = []
    shipper = _shipper(service, path, on_warning=warnings.append)
    assert shipper.drain(time.monotonic() + 30)
    assert [r["seq"] for r in service.state.journal("j1")] == [s for s in range(1, 501) if s not in (10, 400)]
    assert shipper.rejected_records == 2 and shipper.pending == 0 and shipper.acked_records == 498
    assert [r["seq"] for r in shipper.rejections] == [10, 400]
    assert service.state.journal_posts == 1  # one batch, never resent
    assert len(warnings) == 1 and "refused 2 record(s)" in warnings[0]


def test_a_whole_batch_refused_with_a_plain_400_is_isolated_not_retried(service: FakeService, tmp_path: Path) -> None:
    path = tmp_path / "journal" / "main.jsonl"
    with JournalWriter(path) as w:
        for i in range(300):
            w.log_metric("j1", "m", i)
    service.state.reject_seqs = {77}
    service.state.reject_error = (400, "AMLError")  # e.g. "the request body is not valid JSON"
    warnings: list[str] = []
    shipper = _shipper(service, path, on_warning=warnings.append)
    t0 = time.monotonic()
    assert shipper.drain(time.monotonic() + 30)
    assert time.monotonic() - t0 < 10
    assert [r["seq"] for r in service.state.journal("j1")] == [s for s in range(1, 301) if s != 77]
    assert len(warnings) == 1 and "seq 77..77" in warnings[0]


def test_a_flush_wakes_an_idle_shipper_instead_of_waiting_out_its_interval(service: FakeService,
                                                                           tmp_path: Path) -> None:
    path = tmp_path / "journal" / "main.jsonl"
    writer = JournalWriter(path)
    shipper = _shipper(service, path, interval=120).start()  # idle waits of 2 minutes
    wait_for(lambda: shipper.streams, 10, "the first (empty) round")
    writer.log_metric("j1", "loss", 0.5)
    # without the wake, the loop sleeps its 120 s and this returns False at the 20 s deadline
    assert shipper.wait_acked(writer.stream_id, writer.seq, time.monotonic() + 20)
    assert [r["seq"] for r in service.state.journal("j1")] == [1]
    shipper.stop()


def test_one_pool_thread_ships_many_runs_journals_live_and_a_flush_pokes_it(service: FakeService,
                                                                            tmp_path: Path) -> None:
    """A notebook's interactive runs: one thread ships them all; a flush needs no idle interval."""
    import threading

    from jupyter_aml.runtime.shipper_pool import ShipperPool

    pool = ShipperPool("test-shippers")
    writers, shippers = [], []
    for n in range(3):
        path = tmp_path / f"j{n}" / "journal" / "main.jsonl"
        writers.append(JournalWriter(path))
        client = ServiceClient(service.url, service.state.token)
        shippers.append(JournalShipper(Api(client), "ws", f"r{n}", path, interval=120).start(pool))  # idle: 2 min
    assert [t.name for t in threading.enumerate()].count("test-shippers") == 1
    time.sleep(0.3)
    assert not any(s.streams for s in shippers)  # nothing logged yet: the first round waits out the interval
    for n, w in enumerate(writers):
        for i in range(5):
            w.log_metric(f"r{n}", f"m{n}", i, i)
    for w, s in zip(writers, shippers, strict=True):
        assert s.wait_acked(w.stream_id, w.seq, time.monotonic() + 20)
    for n in range(3):
        assert [r["n"] for r in service.state.journal(f"r{n}")] == [f"m{n}"] * 5
    writers[0].log_metric("r0", "late", 1)
    shippers[0].stop()  # out of the pool: it ships nothing in the background any more
    assert shippers[0] not in pool and len(pool) == 2
    assert shippers[0].drain(time.monotonic() + 10)  # ... but drains on the caller's thread
    assert service.state.journal("r0")[-1]["n"] == "late"
    for s in shippers[1:]:
        s.stop()
    wait_for(lambda: "test-shippers" not in [t.name for t in threading.enumerate()], 10, "the pool thread's end")
    for w in writers:
        w.close()


def test_a_pooled_shipper_with_a_refused_token_leaves_the_pool_and_says_why(service: FakeService,
                                                                            tmp_path: Path) -> None:
    from jupyter_aml.runtime.shipper_pool import ShipperPool

    pool = ShipperPool("test-shippers-2")
    path = tmp_path / "journal" / "main.jsonl"
    writer = JournalWriter(path)
    writer.log_metric("j1", "a", 1)
    bad = _shipper(service, path, token="wrong", on_warning=lambda _: None).start(pool)
    wait_for(lambda: bad.failed is not None, 10, "the refusal")
    wait_for(lambda: bad not in pool, 10, "leaving the pool")
    assert bad.failed is not None and bad.failed.code == "Unauthorized"
    writer.close()
