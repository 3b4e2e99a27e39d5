"""Ships a run journal to ``POST {run}/journal`` until every record is acknowledged.

Used by the run agent for submitted runs and by the SDK for interactive (notebook) runs.

Each stream file is read from a byte offset; records wait in ``pending`` until the service's
``acked_seq`` covers them, so a lost answer or a restarted service only causes a resend that the service
ignores (``seq <= acked``). Batches hold at most ``max_records`` records and ``max_bytes`` bytes.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import json
import operator
import threading
import time
from collections.abc import Callable
from pathlib import Path

from jupyter_aml.errors import (
    AMLError,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    ValidationError,
)
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.api import Api
from jupyter_aml.runtime.heartbeat import warn
from jupyter_aml.runtime.http import backoff_delays
from jupyter_aml.runtime.journal import JournalReader, list_streams
from jupyter_aml.runtime.shipper_pool import ShipperPool

MAX_REFUSALS = 20
_LINE = operator.itemgetter(1)  # a pending (seq, line) pair's line
MAX_KEPT_REJECTIONS = 100


class _Stream:
    def __init__(self, stream_id: str, path: Path, max_records: int) -> None:
        self.id = stream_id
        self.reader = JournalReader(path)
        self.offset = 0
        self.pending: collections.deque[tuple[int, bytes]] = collections.deque()
        self.acked = 0
        self.limit = max_records  # shrinks while a bad or oversized record is being isolated
        self.strikes = 0


class JournalShipper:
    def __init__(self, api: Api, workspace: str, run_id: str, journal: Path, *, max_records: int = 10_000,
                 max_bytes: int = 1 << 20, interval: float = 0.1,
                 on_warning: Callable[[str], None] = warn) -> None:
        self.api, self.workspace, self.run_id, self.journal = api, workspace, run_id, Path(journal)
        self.max_records, self.max_bytes, self.interval = max_records, max_bytes, interval
        self.on_warning = on_warning
        self.streams: dict[str, _Stream] = {}
        self.failed: AMLError | None = None  # a fatal answer (token refused, run gone): shipping stopped
        self.posts = 0
        self.acked_records = 0
        self.rejected_records = 0  # refused by the service record by record: never resent
        self.rejections: list[dict[str, object]] = []  # the first MAX_KEPT_REJECTIONS of them, with the reason
        self._delays = backoff_delays(0.2)
        self._refusals = 0  # consecutive single-record refusals
        self._stop = threading.Event()
        self._wake = threading.Event()  # ends an idle wait early: a flush() is waiting for what was just logged
        self._progress = threading.Condition()  # notified after every round: flush() waits on it, not on a sleep
        self._thread = threading.Thread(target=self._run, name="aml-journal-shipper", daemon=True)
        self._pool: ShipperPool | None = None  # shipped by a pool's thread instead of its own
        self._stepping = threading.Lock()  # held by the pool while it steps this shipper

    def start(self, pool: ShipperPool | None = None) -> JournalShipper:
        """Ship in the background: on a thread of its own, or on ``pool``'s (shared with other runs)."""
        if pool is not None:
            self._pool = pool
            pool.add(self)
        else:
            self._thread.start()
        return self

    def _poke(self) -> None:
        """Wake whatever runs the loop, to send what was just logged."""
        if self._pool is not None:
            self._pool.poke(self)
        else:
            self._wake.set()

    def _looping(self) -> bool:
        return self._thread.is_alive() or (self._pool is not None and self in self._pool)

    # -- one round ---------------------------------------------------------------------------------
    def _discover(self) -> None:
        for sid, file in list_streams(self.journal).items():
            if sid not in self.streams:
                self.streams[sid] = _Stream(sid, file, self.max_records)

    def _read(self, st: _Stream) -> bool:
        if len(st.pending) >= self.max_records:
            return True
        records, st.offset = st.reader.read_raw(st.offset)
        st.pending.extend(records)
        return bool(records)

    def _batch(self, st: _Stream) -> list[tuple[int, bytes]]:
        """The first pending records that fit ``st.limit`` and ``max_bytes`` (at least one), counted in C."""
        head = list(itertools.islice(st.pending, st.limit))
        sizes = itertools.accumulate(map(operator.add, map(len, map(_LINE, head)), itertools.repeat(1)))
        fit = bisect.bisect_right(list(sizes), self.max_bytes)
        return head if fit >= len(head) else head[:max(1, fit)]

    def _send(self, st: _Stream) -> str:
        """Send one batch of ``st``: 'sent', 'empty', 'retry' (service away) or 'fatal'."""
        batch = self._batch(st)
        if not batch:
            return "empty"
        body = b'{"stream":%s,"records":[%s]}' % (json.dumps(st.id).encode(), b",".join(map(_LINE, batch)))
        try:
            answer = self.api.post_journal(self.workspace, self.run_id, body)
        except ServiceUnavailable:
            return "retry"
        except PayloadTooLarge:
            if len(batch) == 1:
                self._drop(st, batch, "too large for the service")
            st.limit = max(1, len(batch) // 2)
            return "sent"
        except (InvalidInput, ValidationError, Forbidden) as exc:
            return self._refused(st, batch, exc)
        except (Unauthorized, NotFound) as exc:
            self.failed = exc
            self.on_warning(f"journal shipping stopped: {exc}")
            return "fatal"
        except AMLError as exc:
            if 400 <= exc.status < 500 and exc.status not in (408, 429):  # refused, not away: isolate it
                return self._refused(st, batch, exc)
            self.on_warning(f"journal batch failed, will retry: {exc}")
            return "retry"
        self.posts += 1
        self._refusals = 0
        self._delays = backoff_delays(0.2)
        acked = answer.get("acked_seq") if isinstance(answer, dict) else None
        if not isinstance(acked, int):
            self.on_warning(f"journal answer without acked_seq: {answer!r}")
            return "retry"
        before, rejected_before = len(st.pending), self.rejected_records
        rejected = answer.get("rejected") or []
        if rejected:
            self._note_rejected(st, batch, rejected)
        st.acked = max(st.acked, acked)
        while st.pending and st.pending[0][0] <= st.acked:
            st.pending.popleft()
        self.acked_records += before - len(st.pending) - self.rejected_records + rejected_before
        if before == len(st.pending):
            st.strikes += 1
            if st.strikes >= 3:  # the service keeps refusing these records without an error
                self._drop(st, batch, f"not acknowledged (acked_seq={acked})")
        else:
            st.strikes = 0
            st.limit = min(self.max_records, st.limit * 2)
        return "sent"

    def _refused(self, st: _Stream, batch: list[tuple[int, bytes]], exc: AMLError) -> str:
        """A whole batch refused (a service that does not refuse records one by one): isolate the bad record
        by halving the batch; a token refused outright shows as a run of single-record refusals and stops."""
        if len(batch) == 1:
            self._drop(st, batch, f"rejected: {exc}")
            self._refusals += 1
            if self._refusals >= MAX_REFUSALS:
                self.failed = exc
                self.on_warning(f"journal shipping stopped after {self._refusals} refusals: {exc}")
                return "fatal"
        st.limit = max(1, len(batch) // 2)
        return "sent"

    def _note_rejected(self, st: _Stream, batch: list[tuple[int, bytes]], rejected: list[T.JournalRejection]) -> None:
        """Records the service refused one by one: never resent, remembered, and said in the agent log."""
        seqs = set()
        for item in rejected:
            index = item.get("index")
            if isinstance(index, int) and 0 <= index < len(batch):
                seqs.add(batch[index][0])
                if len(self.rejections) < MAX_KEPT_REJECTIONS:
                    self.rejections.append({"stream": st.id, "seq": batch[index][0], "reason": str(item.get("reason"))})
        self.rejected_records += len(seqs)
        if seqs:
            st.pending = collections.deque(p for p in st.pending if p[0] not in seqs)
        first = rejected[0]
        self.on_warning(f"journal stream {st.id}: the service refused {len(rejected)} record(s) and will not store "
                        f"them (first: seq {first.get('seq')}: {first.get('reason')})")

    def _drop(self, st: _Stream, batch: list[tuple[int, bytes]], why: str) -> None:
        seqs = {seq for seq, _ in batch}
        st.pending = collections.deque(item for item in st.pending if item[0] not in seqs)
        st.strikes = 0
        self.on_warning(f"journal stream {st.id}: dropped {len(batch)} record(s) "
                        f"seq {min(seqs)}..{max(seqs)}: {why}")

    def step(self) -> str:
        """Read and send once for every stream: 'idle', 'busy' (more to do), 'retry' or 'fatal'."""
        if self.failed is not None:
            return "fatal"
        self._discover()
        busy = False
        for st in list(self.streams.values()):
            more = self._read(st)
            result = self._send(st)
            if result in ("retry", "fatal"):
                return result
            busy = busy or more or bool(st.pending)
        return "busy" if busy else "idle"

    # -- loops ------------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            result = self.step()
            with self._progress:
                self._progress.notify_all()
            if result == "fatal":
                return
            if result == "retry":
                self._stop.wait(next(self._delays))
            elif result == "idle":
                self._wake.wait(self.interval)
                self._wake.clear()

    def wait_acked(self, stream_id: str, seq: int, deadline: float) -> bool:
        """Wake the loop and wait until ``stream_id`` is acknowledged up to ``seq``: True when it is, False at
        ``deadline``; raises the fatal answer that stopped shipping. Without the wake, a flush right after a
        log waited out the idle interval (100 ms per ``run.complete()``)."""
        while True:
            stream = self.streams.get(stream_id)
            if stream is not None and stream.acked >= seq:
                return True
            if self.failed is not None:
                raise self.failed
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with self._progress:
                self._poke()
                self._progress.wait(min(left, 0.05))  # bounded: a loop stopped by drain() notifies nobody

    def stop(self) -> None:
        """Stop the background loop (what is on disk stays there)."""
        self._stop.set()
        self._wake.set()
        if self._pool is not None:
            self._pool.remove(self)
            with self._stepping:  # a step the pool has in flight ends first
                pass
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def drain(self, deadline: float) -> bool:
        """Stop the background loop and ship everything on disk; True when all of it was acknowledged."""
        self.stop()
        while time.monotonic() < deadline:
            result = self.step()
            if result == "idle":
                return True
            if result == "fatal":
                return False
            if result == "retry":
                time.sleep(min(next(self._delays), max(0.0, deadline - time.monotonic())))
        return False

    def last_batch(self) -> tuple[str, list[tuple[int, bytes]]] | None:
        """With the loop stopped: everything not yet acknowledged, when it fits one batch of one stream (what
        a final status report carries, so that completing a run is one request); ``(stream, [])`` when
        nothing is left, None when there is more than one batch's worth (``drain()`` ships that)."""
        if self.failed is not None or self._looping():
            return None
        self._discover()
        for st in self.streams.values():
            while len(st.pending) < self.max_records and self._read(st):
                pass
            if len(st.pending) >= self.max_records:  # maybe more on disk: not one batch
                return None
        waiting = [st for st in self.streams.values() if st.pending]
        if not waiting:
            return (next(iter(self.streams), ""), [])
        if len(waiting) > 1:
            return None
        st = waiting[0]
        batch = self._batch(st)
        return (st.id, batch) if len(batch) == len(st.pending) else None

    def acknowledge(self, stream_id: str, seq: int) -> None:
        """The service stored ``stream_id`` up to ``seq`` by another route (a final status report)."""
        st = self.streams[stream_id]
        before = len(st.pending)
        st.acked = max(st.acked, seq)
        while st.pending and st.pending[0][0] <= st.acked:
            st.pending.popleft()
        self.acked_records += before - len(st.pending)
        self.posts += 1

    @property
    def pending(self) -> int:
        return sum(len(st.pending) for st in self.streams.values())

    def close(self) -> None:
        for st in self.streams.values():
            st.reader.close()
