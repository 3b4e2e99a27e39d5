from __future__ import annotations

import json
import math
import os
import signal
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from jupyter_aml.errors import Conflict
from jupyter_aml.runtime.journal import (
    JournalReader,
    JournalWriter,
    get_journal,
    list_streams,
    open_journal,
    stream_file,
)

ROOT = Path(__file__).resolve().parents[2]


def read_all(path: Path) -> list[dict]:
    records, _ = JournalReader(path).read_from(0)
    return records


def test_records_follow_the_contract(tmp_path: Path) -> None:
    path = tmp_path / "journal" / "main.jsonl"
    with JournalWriter(path) as w:
        assert w.stream_id == "main" and w.path == path
        w.log_metric("r1", "acc", 0.5, 3)
        w.log_metric("r1", "acc", 1)
        w.log_metric("child", 'we"ird\nname', 2.5, description="desc")
        w.log_list("r1", "l", [1, 2.0, float("inf")])
        w.log_row("r1", "row", {"a": 1, "b": 2})
        w.log_table("r1", "tb", {"a": (1, 2), "b": [3, 4]})
        w.log_image("r1", "img", "ab" * 32, "logs/images/img.png")
        w.set_tag("r1", "t", "v")
        w.add_property("r1", "p", "v")
    recs = read_all(path)
    assert [r["seq"] for r in recs] == list(range(1, 10))
    assert all({"seq", "run_id", "t", "k"} <= r.keys() for r in recs)
    assert all(isinstance(r["t"], float) and abs(r["t"] - time.time()) < 60 for r in recs)
    assert recs[0] == {**recs[0], "run_id": "r1", "k": "m", "n": "acc", "v": 0.5, "s": 3}
    assert recs[1]["v"] == 1 and recs[1]["s"] is None
    assert recs[2] == {**recs[2], "run_id": "child", "n": 'we"ird\nname', "v": 2.5, "d": "desc"}
    assert recs[3] == {**recs[3], "k": "l", "v": [1, 2.0, "Infinity"], "nf": 1}
    assert recs[4]["k"] == "r" and recs[4]["v"] == {"a": 1, "b": 2}
    assert recs[5]["k"] == "tb" and recs[5]["v"] == {"a": [1, 2], "b": [3, 4]}
    assert recs[6] == {**recs[6], "k": "i", "sha256": "ab" * 32, "path": "logs/images/img.png"}
    assert (recs[7]["k"], recs[7]["v"], recs[8]["k"]) == ("tag", "v", "prop")


def test_non_finite_and_odd_values_stay_strict_json(tmp_path: Path) -> None:
    path = tmp_path / "main.jsonl"
    with JournalWriter(path) as w:
        w.log_metric("r", "a", float("nan"))
        w.log_metric("r", "b", float("-inf"), 2.0)
        w.log_metric("r", "c", True)

        class Scalar:  # numpy-like
            def item(self) -> float:
                return 0.25

        w.log_metric("r", "d", Scalar())
    for line in path.read_text().splitlines():
        json.loads(line, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    records = read_all(path)
    assert [r["v"] for r in records] == ["NaN", "-Infinity", True, 0.25]  # v1 keeps the bool as a bool
    assert [r.get("vt") for r in records] == ["f", "f", None, None]  # the marker strings stand for floats
    assert records[1]["s"] == 2


def test_log_metric_speed(tmp_path: Path) -> None:
    w = JournalWriter(tmp_path / "main.jsonl")
    log_metric = w.log_metric
    clock = time.perf_counter_ns
    samples = []
    for i in range(20_000):
        t0 = clock()
        log_metric("run_1", "loss", 0.5 + i * 1e-6, i)
        samples.append(clock() - t0)
    median_us = statistics.median(samples) / 1000
    print(f"log_metric median {median_us:.2f} us (target <= 5 us, see benchmarks)")
    w.close()
    assert median_us < 50


def test_threads_keep_seq_order_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "main.jsonl"
    w = JournalWriter(path)

    def work(n: int) -> None:
        for i in range(2000):
            w.log_metric("r", f"m{n}", i, i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r["seq"] for r in read_all(path)] == list(range(1, 8001))


SCRIPT = """
import os, signal, sys
sys.path.insert(0, {root!r})
from jupyter_aml.runtime.journal import get_journal
j = get_journal({path!r})
for i in range(5000):
    j.log_metric("r", "loss", 1.0 / (i + 1), i)
j.set_tag("r", "last", "yes")
if {how!r} == "exit":
    os._exit(1)
if {how!r} == "raise":
    raise RuntimeError("boom")
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("how", ["exit", "raise", "sigkill"])
def test_records_survive_a_crash(tmp_path: Path, how: str) -> None:
    path = tmp_path / "journal" / "main.jsonl"
    code = SCRIPT.format(root=str(ROOT), path=str(path), how=how)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert proc.returncode == {"exit": 1, "raise": 1, "sigkill": -signal.SIGKILL}[how], proc.stderr
    recs = read_all(path)
    assert len(recs) == 5001 and recs[-1]["k"] == "tag"
    assert [r["seq"] for r in recs] == list(range(1, 5002))


def test_torn_last_line_waits_for_the_next_read(tmp_path: Path) -> None:
    path = tmp_path / "main.jsonl"
    with JournalWriter(path) as w:
        w.log_metric("r", "a", 1)
        w.log_metric("r", "a", 2)
    full = path.read_bytes()
    line2 = full.index(b"\n") + 1
    path.write_bytes(full[: line2 + 10])  # second record cut in the middle
    reader = JournalReader(path)
    recs, offset = reader.read_from(0)
    assert [r["v"] for r in recs] == [1] and offset == line2
    assert reader.read_from(offset) == ([], offset)
    with open(path, "ab") as fh:
        fh.write(full[line2 + 10:])  # the writer finishes its line
    recs, offset2 = reader.read_from(offset)
    assert [r["v"] for r in recs] == [2] and offset2 == len(full)


def test_reopen_resumes_seq_and_terminates_a_torn_fragment(tmp_path: Path) -> None:
    path = tmp_path / "main.jsonl"
    with JournalWriter(path) as w:
        for i in range(3):
            w.log_metric("r", "a", i)
    with JournalWriter(path) as w:
        assert w.seq == 3
        assert w.log_metric("r", "a", 3) == 4
    with open(path, "ab") as fh:
        fh.write(b'{"seq":5,"t":1.0,"run_id":"r","k":"m"')  # a fragment (power loss)
    with JournalWriter(path) as w:
        assert w.seq == 4
        w.log_metric("r", "a", 5)
    reader = JournalReader(path)
    recs, _ = reader.read_from(0)
    assert [r["seq"] for r in recs] == [1, 2, 3, 4, 5] and recs[-1]["v"] == 5
    assert reader.skipped == 1


def test_long_records_and_many_reads(tmp_path: Path) -> None:
    path = tmp_path / "main.jsonl"
    with JournalWriter(path) as w:
        w.log_list("r", "big", list(range(50_000)))
        w.log_metric("r", "x", 1)
    reader = JournalReader(path, max_bytes=1024)
    offset, seqs = 0, []
    while True:
        raw, offset = reader.read_raw(offset)
        if not raw:
            break
        seqs.extend(seq for seq, _ in raw)
    assert seqs == [1, 2] and offset == path.stat().st_size


def test_one_writer_per_stream_and_free_streams(tmp_path: Path) -> None:
    path = tmp_path / "journal" / "main.jsonl"
    first = JournalWriter(path)
    with pytest.raises(Conflict):
        JournalWriter(path)
    second = open_journal(path)
    assert second.stream_id == f"p{os.getpid()}"
    assert second.path == stream_file(path, second.stream_id)
    second.log_metric("r", "a", 1)
    first.log_metric("r", "a", 1)
    assert set(list_streams(path)) == {"main", second.stream_id}
    first.close()
    second.close()
    assert open_journal(path).stream_id == "main"  # freed on close


def test_get_journal_is_shared_and_forked_children_write_their_own_stream(tmp_path: Path) -> None:
    path = tmp_path / "journal" / "main.jsonl"
    w = get_journal(path)
    assert get_journal(str(path)) is w
    w.log_metric("r", "parent", 1)
    pid = os.fork()
    if pid == 0:  # child: same object, moves to a stream of its own on first write
        try:
            get_journal(path).log_metric("r", "child", 2)
            get_journal(path).log_metric("r", "child", 3)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    w.log_metric("r", "parent", 4)
    streams = list_streams(path)
    assert set(streams) == {"main", f"p{pid}"}
    assert [r["v"] for r in read_all(streams["main"])] == [1, 4]
    child = read_all(streams[f"p{pid}"])
    assert [(r["seq"], r["v"]) for r in child] == [(1, 2), (2, 3)]
    w.close()


def test_spawned_process_gets_another_stream(tmp_path: Path) -> None:
    path = tmp_path / "journal" / "main.jsonl"
    w = get_journal(path)
    code = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(ROOT)!r})
        from jupyter_aml.runtime.journal import get_journal
        j = get_journal({str(path)!r}); j.log_metric("r", "x", 1); print(j.stream_id)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip().startswith("p") and len(list_streams(path)) == 2
    w.close()


def test_math_sanity_of_fast_path(tmp_path: Path) -> None:
    path = tmp_path / "main.jsonl"
    values = [0.1, 1e-300, 1e300, -0.0, 123456789012345678901234567890, 2**63]
    with JournalWriter(path) as w:
        for v in values:
            w.log_metric("r", "v", v)
    got = [r["v"] for r in read_all(path)]
    assert got == values and math.copysign(1, got[3]) == -1


def test_bad_names_fail_at_log_time(tmp_path: Path) -> None:
    from jupyter_aml.errors import InvalidInput

    with JournalWriter(tmp_path / "main.jsonl") as w:
        for bad in ("", "x" * 256, None):
            with pytest.raises(InvalidInput):
                w.log_metric("r", bad, 1)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            w.set_tag("r", "", "v")
        with pytest.raises(InvalidInput):
            w.log_metric("r", "text", object())  # not a number, string, bool or None
        with pytest.raises(InvalidInput):
            w.log_metric("r", "text", "x" * (65536 + 1))  # a string past the limit
        assert w.seq == 0
