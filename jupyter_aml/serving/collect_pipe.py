"""The replica's side of model data collection when it serves: ``collect()`` hands records to a writer
*process*, so that turning them into CSV never takes the scoring process's CPU or its GIL. Standard library
only (it runs in the scoring environment).

The replica keeps a bounded deque (``collect()`` appends; when it holds ``QUEUE_RECORDS`` records, a record is
dropped and counted instead); a sender thread wakes four times a second and writes what is queued, pickled,
as one length-prefixed frame to the writer process's stdin (the thread blocks on a full pipe, never a
request: the deque keeps absorbing and then drops). The writer process (``python -m
jupyter_aml.serving.collect_pipe SPOOL SETTINGS``) runs ``collect.Writer``'s formatting, spool chunks and
counters; it ignores SIGTERM (the replica's group hears it when it drains) and ends when its stdin closes,
after writing everything it was sent. Pickling a record costs the replica a few microseconds; the CSV text
of 64 features costs tens, which is why it is done elsewhere.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import pickle
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from jupyter_aml.serving.collect import (
    FLUSH_SECONDS,
    QUEUE_RECORDS,
    Counters,
    Record,
    Settings,
    Writer,
    _say,
    admit,
    to_rows,
)

SEND_EVERY = 0.25


class PipeWriter:
    """``collect.Writer``'s ``submit`` in the replica; the writing in a child process."""

    def __init__(self, spool: Path, settings: Settings, *, max_queue: int = QUEUE_RECORDS,
                 flush_seconds: float = FLUSH_SECONDS, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.rng = rng or random.Random()
        self.max_queue = max_queue
        self.pending: collections.deque[Record] = collections.deque()
        self.counters = Counters()  # here: sampled_out, dropped_queue_full (the child counts the rest)
        self.lock = threading.Lock()
        self.stopped = False
        self.wake = threading.Event()
        self._warned: set[str] = set()
        body = {"sample_rate": settings.sample_rate, "max_record_bytes": settings.max_record_bytes,
                "max_day_bytes": settings.max_day_bytes}
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyter_aml.serving.collect_pipe", str(spool),
                                      json.dumps(body), str(flush_seconds)], stdin=subprocess.PIPE)
        self.thread = threading.Thread(target=self._loop, name="aml-data-collection", daemon=True)

    def start(self) -> PipeWriter:
        self.thread.start()
        return self

    def submit(self, record: Record) -> bool:
        """O(1): sample, then queue without waiting (``collect.admit``); the sender thread takes it from there."""
        return admit(self, record)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            _say(message)

    def _loop(self) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            while True:
                stopping = self.wake.wait(SEND_EVERY)
                self._send(stdin)
                if stopping:
                    return
        except (BrokenPipeError, OSError) as exc:
            _say(f"the data collection writer process is gone ({exc}); collected records are dropped")
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def _send(self, stdin: IO[bytes]) -> None:
        batch = []
        while self.pending:
            batch.append(self.pending.popleft())
        with self.lock:
            replica = {"sampled_out": self.counters.sampled_out,
                       "dropped_queue_full": self.counters.dropped_queue_full}
        try:
            payload = pickle.dumps((replica, batch), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # a value pickle cannot take: send its rows instead (or drop it, counted)
            payload = pickle.dumps((replica, [_plain(r) for r in batch]), protocol=pickle.HIGHEST_PROTOCOL)
        stdin.write(len(payload).to_bytes(8, "big") + payload)
        stdin.flush()

    def stop(self, timeout: float = 10.0) -> None:
        if self.stopped:
            return
        self.stopped = True
        deadline = time.monotonic() + timeout
        self.wake.set()
        self.thread.join(timeout)
        try:
            self.proc.wait(max(0.5, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _plain(record: Record) -> Record | None:
    try:
        pickle.dumps(record.data)
        return record
    except Exception:
        try:
            columns, rows = to_rows(record.data, record.feature_names)
            return Record(record.when, record.correlation_id, record.model, record.version, record.designation,
                          columns, [[v if isinstance(v, (int, float, str, bool, type(None))) else str(v) for v in r]
                                    for r in rows])
        except Exception:
            return None


def _read_frame(stream: IO[bytes]) -> Any:
    head = stream.read(8)
    if len(head) < 8:
        return None
    size = int.from_bytes(head, "big")
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)  # frames come from this replica's own process, through its pipe


def main(argv: list[str]) -> None:
    """The writer process: frames from stdin into the spool, until stdin closes."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the replica drains first, then closes our stdin
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    spool, settings, flush = Path(argv[0]), Settings.from_config(json.loads(argv[1])), float(argv[2])
    writer = Writer(spool, settings, flush_seconds=flush)
    spool.mkdir(parents=True, exist_ok=True)
    writer._write_stats()
    last = time.monotonic()
    stream = sys.stdin.buffer
    while True:
        frame = _read_frame(stream)
        if frame is None:
            break
        replica, batch = frame
        with writer.lock:
            writer.counters.sampled_out = int(replica.get("sampled_out", 0))
            writer.counters.dropped_queue_full = int(replica.get("dropped_queue_full", 0))
        for record in batch:
            if record is None:
                with writer.lock:
                    writer.counters.dropped_errors += 1
                continue
            writer.pending.append(record)
        writer._drain()
        if time.monotonic() - last >= flush:
            writer._rotate()
            last = time.monotonic()
    writer._rotate()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
