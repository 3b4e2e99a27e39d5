"""Model data collection inside a scoring replica: what ``ModelDataCollector.collect()`` does. Standard library
only (it runs in the scoring environment, beside ``replica.py``).

A web service deployed with ``collect_model_data=True`` starts one ``Writer`` per replica before the scoring
script's ``init()``. ``collect()`` on the request thread does O(1) work: the sampling draw and a
``put_nowait`` on a bounded queue (a reference to the data, not a copy: do not change it after collecting it).
When the queue is full the record is dropped and counted; the request never waits. A background thread
turns records into CSV rows, drops (counts, logs) a record whose CSV text is over ``max_record_bytes``, and
appends the rows to spool files in the replica's writable folder, ``<status folder>/modeldata/<replica>/``::

    <model>/<version>/<designation>/<yyyy>/<mm>/<dd>/<chunk>.csv   (header line, then rows)
    stats.json                                                    (this replica's counters)

A chunk is written as ``.part`` and renamed to ``.csv`` when closed (every ``FLUSH_SECONDS``, on shutdown):
the workspace service (``collect_sink``) moves closed chunks into the workspaceblobstore datastore, in
v1's layout. Replicas never write to the workspace's storage themselves: under the sandbox they cannot
reach it, and the service decides which folder a service's data lands in.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import io
import json
import os
import random
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

FLUSH_SECONDS = 1.0
QUEUE_RECORDS = 10_000  # records waiting for the writer; beyond that collect() drops (and counts)
DEFAULT_MAX_RECORD_BYTES = 1024 * 1024
DEFAULT_MAX_DAY_BYTES = 1024**3
DESIGNATIONS = ("inputs", "predictions", "labels", "signals", "general", "default")
SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
TIMESTAMP = "$aml_dc_scoring_timestamp"
CORRELATION = "$aml_dc_correlation_id"

# The replica sets .request_id per request (the default correlation id), and .batch_ids during run_batch()
# (dynamic batching: the ids of the batch's callers, in order, for collect_batch()).
request_context = threading.local()


def _say(message: str) -> None:
    with contextlib.suppress(Exception):
        sys.stderr.write(f"[data collection] {message}\n")
        sys.stderr.flush()


def safe_part(value: Any, fallback: str = "default") -> str:
    """A model name or version as one folder name (never '..', a separator or an empty name)."""
    text = re.sub(r"[^A-Za-z0-9._-]", "_", str(value if value not in (None, "") else fallback))[:128]
    return text if SAFE.fullmatch(text) else fallback


@dataclass
class Settings:
    sample_rate: float = 1.0
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    max_day_bytes: int = DEFAULT_MAX_DAY_BYTES

    @classmethod
    def from_config(cls, raw: dict[str, Any] | None) -> Settings:
        raw = raw or {}
        return cls(sample_rate=float(raw.get("sample_rate", 1.0)),
                   max_record_bytes=int(raw.get("max_record_bytes", DEFAULT_MAX_RECORD_BYTES)),
                   max_day_bytes=int(raw.get("max_day_bytes", DEFAULT_MAX_DAY_BYTES)))


@dataclass
class Record:
    when: float
    correlation_id: str
    model: str
    version: str
    designation: str
    feature_names: list[str] | None
    data: Any


@dataclass
class Counters:
    collected: int = 0  # records written to the spool (each a collect() call; it may hold many rows)
    rows: int = 0
    sampled_out: int = 0
    dropped_too_large: int = 0
    dropped_queue_full: int = 0
    dropped_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def to_rows(data: Any, feature_names: list[str] | None) -> tuple[list[str], list[list[Any]]]:
    """The columns and rows a collected value becomes: a DataFrame's columns, a dict's keys, or
    ``feature_names``; a 2-D value is one row per inner list, a 1-D value one row per item, a scalar one row."""
    columns = list(feature_names) if feature_names else None
    frame_columns = getattr(data, "columns", None)
    if frame_columns is not None and callable(getattr(data, "to_numpy", None)):
        columns = columns or [str(c) for c in frame_columns]
        data = data.to_numpy()
    if callable(getattr(data, "tolist", None)):
        data = data.tolist()
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError:
            data = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if isinstance(data, dict) and "data" in data and len(data) == 1 and isinstance(data["data"], list):
        data = data["data"]  # v1's request shape {"data": [[...], ...]}
    if isinstance(data, dict):
        keys = [str(k) for k in data]
        columns = columns or keys
        rows = [[data[k] for k in data]]
    elif isinstance(data, (list, tuple)):
        if data and all(isinstance(r, dict) for r in data):
            keys = list(dict.fromkeys(str(k) for r in data for k in r))
            columns = columns or keys
            rows = [[r.get(k) for k in keys] for r in data]
        elif data and all(isinstance(r, (list, tuple)) for r in data):
            rows = [list(r) for r in data]
        else:
            rows = [[v] for v in data]
    else:
        rows = [[data]]
    width = max((len(r) for r in rows), default=0)
    if columns is None:
        columns = ["value"] if width == 1 else [f"feature_{i}" for i in range(width)]
    return columns, rows


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str)
    return value


class Writer:
    """The replica's collector: a bounded queue, a writer thread, spool files, counters."""

    def __init__(self, spool: Path, settings: Settings, *, rng: random.Random | None = None,
                 max_queue: int = QUEUE_RECORDS, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.spool = spool
        self.settings = settings
        self.rng = rng or random.Random()
        self.pending: collections.deque[Record] = collections.deque()  # append/popleft are atomic
        self.max_queue = max_queue
        self.flush_seconds = flush_seconds
        self.counters = Counters()
        self.lock = threading.Lock()
        self.open: dict[tuple[Any, ...], tuple[io.TextIOWrapper, Path]] = {}  # chunk key -> (file, .part path)
        self.partitions: dict[tuple[str, str, str, int], Path] = {}
        self.thread = threading.Thread(target=self._loop, name="aml-data-collection", daemon=True)
        self.wake = threading.Event()
        self.stopped = False
        self._warned: set[str] = set()
        self._stamp: tuple[int, str] = (-1, "")

    def start(self) -> Writer:
        self.spool.mkdir(parents=True, exist_ok=True)
        self._write_stats()
        self.thread.start()
        return self

    # -- the request thread ----------------------------------------------------------------------------------
    def submit(self, record: Record) -> bool:
        """O(1): sample, then queue without waiting. False when the record was sampled out or dropped."""
        return admit(self, record)  # the writer drains in batches: no wake-up per record

    # -- the writer thread -----------------------------------------------------------------------------------
    def _loop(self) -> None:
        """Wake a few times a second, write what is queued, close the chunks every ``flush_seconds``."""
        last_flush = time.monotonic()
        while True:
            stopping = self.wake.wait(min(0.25, self.flush_seconds / 4))
            self._drain()
            if stopping or time.monotonic() - last_flush >= self.flush_seconds:
                self._rotate()
                last_flush = time.monotonic()
            if stopping:
                return

    def _drain(self) -> None:
        while self.pending:
            record = self.pending.popleft()
            try:
                self._write(record)
            except Exception as exc:  # never take the replica down for a record
                with self.lock:
                    self.counters.dropped_errors += 1
                self._warn_once(f"error:{type(exc).__name__}", f"a record could not be written "
                                                               f"({type(exc).__name__}: {exc}); dropped")

    def _timestamp(self, when: float) -> str:
        second = int(when)
        if self._stamp[0] != second:
            self._stamp = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return f"{self._stamp[1]}.{int(when % 1 * 1e6):06d}Z"

    def _write(self, record: Record) -> None:
        columns, rows = to_rows(record.data, record.feature_names)
        lead = f"{self._timestamp(record.when)},{_csv_text(record.correlation_id)},"
        if all(type(v) in (int, float) for row in rows for v in row):  # numbers: no quoting, str() is repr()
            text = "".join(lead + ",".join(map(str, row)) + "\n" for row in rows)
            size = len(text)
        else:
            lines = []
            for row in rows:  # one buffer per row: a quoted cell may hold a newline
                buffer = io.StringIO()
                csv.writer(buffer, lineterminator="\n").writerow([_cell(v) for v in row])
                lines.append(lead + buffer.getvalue())
            text = "".join(lines)
            size = len(text.encode("utf-8"))
        if size > self.settings.max_record_bytes:
            with self.lock:
                self.counters.dropped_too_large += 1
            _say(f"a {record.designation} record of model {record.model} is {size} bytes, over the "
                 f"{self.settings.max_record_bytes}-byte limit (max_record_bytes): dropped (request "
                 f"{record.correlation_id})")
            return
        day = int(record.when // 86400)
        key = (record.model, record.version, record.designation, day, tuple(columns))
        handle = self.open.get(key) or self._open(key, columns, record)
        handle[0].write(text)
        with self.lock:
            self.counters.collected += 1
            self.counters.rows += len(rows)

    def _open(self, key: tuple[Any, ...], columns: list[str], record: Record) -> tuple[io.TextIOWrapper, Path]:
        where = (record.model, record.version, record.designation, key[3])
        partition = self.partitions.get(where)
        if partition is None:
            day = time.gmtime(record.when)
            partition = (self.spool / safe_part(record.model) / safe_part(record.version) / record.designation
                         / f"{day.tm_year:04d}" / f"{day.tm_mon:02d}" / f"{day.tm_mday:02d}")
            partition.mkdir(parents=True, exist_ok=True)
            self.partitions[where] = partition
        part = partition / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.csv.part"
        handle = open(part, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed by _close
        csv.writer(handle, lineterminator="\n").writerow([TIMESTAMP, CORRELATION, *columns])
        self.open[key] = (handle, part)
        return self.open[key]

    def _close(self, key: tuple[Any, ...]) -> None:
        handle, part = self.open.pop(key)
        handle.close()
        os.replace(part, part.with_suffix(""))  # x.csv.part -> x.csv: complete, the service may take it

    def _rotate(self) -> None:
        for key in list(self.open):
            try:
                self._close(key)
            except OSError as exc:
                self._warn_once("rotate", f"a chunk could not be closed: {exc}")
        self._write_stats()

    def _write_stats(self) -> None:
        with self.lock:
            body = self.counters.as_dict()
        tmp = self.spool / f"stats.json.{os.getpid()}.tmp"
        with contextlib.suppress(OSError):
            tmp.write_text(json.dumps(body))
            os.replace(tmp, self.spool / "stats.json")

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            _say(message)

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, close the chunks (the replica calls this when it drains)."""
        if self.stopped:
            return
        self.stopped = True
        self.wake.set()
        self.thread.join(timeout)


class Intake(Protocol):
    """What :func:`admit` needs of a writer: ``Writer`` here, ``collect_pipe.PipeWriter`` in a serving replica."""

    settings: Settings
    rng: random.Random
    pending: collections.deque[Record]
    max_queue: int
    stopped: bool
    counters: Counters
    lock: threading.Lock

    def _warn_once(self, key: str, message: str) -> None: ...


def admit(writer: Intake, record: Record) -> bool:
    """The request thread's part of ``collect()``, the same for both writers: the sampling draw, then a queue
    append that never waits (a full queue, or a stopped writer, drops the record and counts it). True when the
    record was queued."""
    rate = writer.settings.sample_rate
    if rate < 1.0 and writer.rng.random() >= rate:
        with writer.lock:
            writer.counters.sampled_out += 1
        return False
    if len(writer.pending) >= writer.max_queue or writer.stopped:
        with writer.lock:
            writer.counters.dropped_queue_full += 1
        writer._warn_once("queue", f"the writer is behind ({writer.max_queue} records waiting): records are "
                                   "dropped and counted until it catches up")
        return False
    writer.pending.append(record)  # deque.append is atomic: no lock on the request path
    return True


def _csv_text(value: str) -> str:
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


_writer: Any = None  # the replica's PipeWriter (collect_pipe), or a Writer


def start(raw_settings: dict[str, Any] | None, spool: Path) -> Any:
    """Called by the replica when its service collects model data, before the scoring script's init(): the
    writing runs in a child process (``collect_pipe``), off the scoring process's CPU and GIL."""
    from jupyter_aml.serving.collect_pipe import PipeWriter

    global _writer
    _writer = PipeWriter(spool, Settings.from_config(raw_settings)).start()
    return _writer


def stop(timeout: float = 10.0) -> None:
    if _writer is not None:
        _writer.stop(timeout)


def active() -> Any:
    return _writer


def deployed_version(model_name: str) -> str | None:
    """The version of ``model_name`` this service serves (AML_MODELS), if it serves it."""
    try:
        info = json.loads(os.environ.get("AML_MODELS") or "{}").get(model_name)
    except ValueError:
        return None
    return str(info["version"]) if isinstance(info, dict) and "version" in info else None


def submit(model: str, version: str, designation: str, feature_names: list[str] | None, data: Any,
           correlation_id: str | None) -> str | None:
    """Queue one record on this replica's writer; the correlation id, or None when collection is off here."""
    writer = _writer
    if writer is None:
        return None
    cid = correlation_id or getattr(request_context, "request_id", "") or uuid.uuid4().hex
    writer.submit(Record(time.time(), cid, model, version, designation, feature_names, data))
    return cid


def submit_batch(model: str, version: str, designation: str, feature_names: list[str] | None, items: Any,
                 correlation_ids: list[str] | None) -> list[str] | None:
    """One record per item: in ``run_batch()`` the items are the batch's callers, in order, and each record gets
    its caller's request id; elsewhere each gets the request's id. The ids, or None when collection is off."""
    writer = _writer
    if writer is None:
        return None
    items = list(items.tolist() if callable(getattr(items, "tolist", None)) else items)
    ids = list(correlation_ids) if correlation_ids else getattr(request_context, "batch_ids", None)
    if ids is None:
        ids = [getattr(request_context, "request_id", "") or uuid.uuid4().hex for _ in items]
    if len(ids) != len(items):
        raise ValueError(f"collect_batch() got {len(items)} items for {len(ids)} requests: give one item per "
                         "request of the batch, in their order")
    now = time.time()
    for cid, item in zip(ids, items, strict=True):
        writer.submit(Record(now, cid, model, version, designation, feature_names, item))
    return ids


__all__ = ["DESIGNATIONS", "Counters", "Intake", "Record", "Settings", "Writer", "admit", "start", "stop", "submit",
           "submit_batch", "to_rows"]
