"""``JournalReader.read_raw`` reads a block of writer-layout lines without a Python step per line, and any
block holding another line gives the same (seq, line) pairs as the line-by-line reading did."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_aml.runtime.journal import JournalReader, JournalWriter, _fast_seqs


def test_writer_lines_are_read_as_a_block(tmp_path: Path) -> None:
    path = tmp_path / "main.jsonl"
    with JournalWriter(path) as writer:
        for i in range(1000):
            writer.log_metric("R", "loss" if i % 2 else "acc", i * 0.5, step=i)
        writer.log_list("R", "l", [1, 2])
    block = path.read_bytes().rstrip(b"\n")
    assert _fast_seqs(block, block.split(b"\n")) == list(range(1, 1002))
    records, offset = JournalReader(path).read_raw(0)
    assert [seq for seq, _ in records] == list(range(1, 1002))
    assert offset == path.stat().st_size
    assert [line for _, line in records] == block.split(b"\n")  # each line as written


@pytest.mark.parametrize("odd", [
    b'{"seq":7,"t":1.0,"run_id":"R","k":"m","n":"x","v":"NaN","vt":"f","s":1}',  # a marker: re-encoded
    b'{"t":1.0,"seq":8,"run_id":"R","k":"m","n":"x","v":1}',  # another key order
    b"",  # a blank line
    b'{"seq":x9,"t":1}',  # not a record: skipped and counted
    b'{"seq":10,"t":1.0,"run_id":"R","k":"m","n":"x","v":1} ',  # trailing space
])
def test_a_block_with_another_line_is_read_line_by_line(tmp_path: Path, odd: bytes) -> None:
    path = tmp_path / "main.jsonl"
    good = [b'{"seq":%d,"t":1.0,"run_id":"R","k":"m","n":"x","v":%d,"s":%d}' % (i, i, i) for i in (1, 2, 3)]
    path.write_bytes(b"\n".join([good[0], odd, *good[1:]]) + b"\n")
    block = path.read_bytes().rstrip(b"\n")
    assert _fast_seqs(block, block.split(b"\n")) is None
    reader = JournalReader(path)
    records, offset = reader.read_raw(0)
    assert offset == path.stat().st_size
    seqs = [seq for seq, _ in records]
    assert seqs[0] == 1 and seqs[-2:] == [2, 3]
    assert len(records) == 3 + (odd.startswith(b"{") and b"x9" not in odd)
    assert reader.skipped == (1 if b"x9" in odd else 0)
