"""Orphaned journals: what a run logged to disk but its agent never shipped (the agent died or hung).

When the service sees a run's agent gone without a final status, it reads the run's journal folder itself
and ingests every stream through the same per-record checks and the same idempotent cursor as
``POST {run}/journal``: records the agent did ship are skipped by seq, the rest are stored. Nothing that
reached the journal is lost to a kill -9 of the agent (docs/reliability.md).

The folder is written by the run's own code, so it is read as untrusted input: no symlink is followed
(the folder and each file are opened with ``O_NOFOLLOW``), only regular files are read, every record is
checked, and records can only land in the run's own tree.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydantic_core

from jupyter_aml.core.journal_check import MAX_SEQ, check_records

if TYPE_CHECKING:
    from jupyter_aml.core.metrics import MetricService

log = logging.getLogger(__name__)

SUFFIX = ".jsonl"
BATCH_RECORDS = 10_000
CHUNK_BYTES = 8 << 20
MAX_LINE_BYTES = 64 << 20  # one record larger than a request may be is not read into memory (counted instead)
_STREAM_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")  # what the run's journal writer names streams


@dataclass
class Recovery:
    """What one recovery pass found: per stream, records read from disk; stored and refused totals."""

    read: dict[str, int] = field(default_factory=dict)
    stored: int = 0  # records that were not stored before (the agent never shipped them)
    rejected: int = 0
    unreadable_lines: int = 0
    unusable_seq: int = 0  # records without a seq the store can hold (missing, not an integer, >= 2**63)

    def summary(self) -> str:
        if not self.read:
            return "no journal on disk"
        return (f"{sum(self.read.values())} journal record(s) on disk, {self.stored} recovered"
                + (f", {self.rejected} refused" if self.rejected else "")
                + (f", {self.unreadable_lines} unreadable line(s)" if self.unreadable_lines else "")
                + (f", {self.unusable_seq} without a usable seq" if self.unusable_seq else ""))


def recover_journal(metrics: MetricService, workspace: str, run_id: str, journal: str | os.PathLike[str]) -> Recovery:
    """Ingest every stream of the journal whose main file is ``journal`` (a path on this machine)."""
    result = Recovery()
    folder = Path(journal).parent
    try:
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:  # no journal here (never started, another machine's folder, or not a real folder)
        return result
    try:
        for name in sorted(os.listdir(dir_fd)):
            stem = name[: -len(SUFFIX)]
            if name.endswith(SUFFIX) and _STREAM_RE.match(stem):
                _recover_stream(metrics, workspace, run_id, dir_fd, name, stem, result)
    finally:
        os.close(dir_fd)
    if result.read:
        log.info("run %s: %s", run_id, result.summary())
    return result


def _recover_stream(metrics: MetricService, workspace: str, run_id: str, dir_fd: int, name: str, stem: str,
                    result: Recovery) -> None:
    batch: list[Any] = []
    acked = metrics.acked_seq(workspace, run_id, stem)
    for line in _lines(dir_fd, name, result):
        seq = _leading_seq(line)
        if seq is not None and seq <= acked:  # shipped already: skipped without a parse
            result.read[stem] = result.read.get(stem, 0) + 1
            continue
        try:
            record = pydantic_core.from_json(line)
        except ValueError:
            result.unreadable_lines += 1  # e.g. the torn last line of a writer that was killed
            continue
        result.read[stem] = result.read.get(stem, 0) + 1
        seq = record.get("seq") if isinstance(record, dict) else None
        if type(seq) is not int or not 0 < seq <= MAX_SEQ:
            # no cursor can cover it, so the service could not tell a second refusal from the first: such
            # a record was refused when it was shipped, or is counted here (in the summary) only
            result.unusable_seq += 1
            continue
        batch.append(record)
        if len(batch) >= BATCH_RECORDS:
            _ingest(metrics, workspace, run_id, stem, batch, result)
            batch = []
    if batch:
        _ingest(metrics, workspace, run_id, stem, batch, result)


def _ingest(metrics: MetricService, workspace: str, run_id: str, stream: str, records: list[Any],
            result: Recovery) -> None:
    checked = check_records(stream, records)
    before = metrics.acked_seq(workspace, run_id, stream)
    ack = metrics.ingest_checked(workspace, run_id, checked)
    refused = {r.index for r in ack.rejected}
    result.stored += sum(1 for i, seq in checked.accepted() if seq > before and i not in refused)
    result.rejected += sum(1 for r in ack.rejected if r.seq is None or r.seq > before)


def _leading_seq(line: bytes) -> int | None:
    """The seq of a line in the journal writer's own layout (``{"seq":N,...``), else None."""
    if line.startswith(b'{"seq":'):
        end = line.find(b",", 7, 40)
        if end > 7 and line[7:end].isdigit():
            return int(line[7:end])
    return None


def _lines(dir_fd: int, name: str, result: Recovery) -> Iterator[bytes]:
    """The complete lines of one stream file, read in chunks; nothing if it is not a regular file."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        pending = b""
        skipping = False  # inside a line longer than MAX_LINE_BYTES: dropped up to its end
        while True:
            chunk = os.read(fd, CHUNK_BYTES)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if lines and skipping:
                lines, skipping = lines[1:], False
            for line in lines:
                if len(line) > MAX_LINE_BYTES:
                    result.unreadable_lines += 1
                elif line.strip():
                    yield line
            if len(pending) > MAX_LINE_BYTES:
                result.unreadable_lines += 0 if skipping else 1
                pending, skipping = b"", True
        if pending.strip() and not skipping:
            yield pending  # a last line without its newline: parsed if it is complete, else counted
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
