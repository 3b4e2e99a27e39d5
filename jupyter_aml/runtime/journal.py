"""The run journal: an append-only JSON-lines file per stream that the script writes and the agent ships.

Record format (docs/rest-api.md, "Journal records"): ``{"seq", "run_id", "t", "k", ...}`` with ``seq``
strictly increasing within a stream. One file is one stream. A run's journal folder holds the main file
(``AML_JOURNAL``, e.g. ``.../journal/main.jsonl``, stream ``main``) and one sibling per extra stream
(``.../journal/<stream>.jsonl``), used by other processes of the same run (forked workers, subprocesses):
each file is held by one writer at a time under an exclusive ``flock``.

Every ``append`` is one ``os.write`` on an ``O_APPEND`` descriptor: once the call returns the bytes are
in the kernel, so a script that raises, calls ``os._exit`` or is SIGKILLed keeps every logged record
(``fsync()`` adds durability against power loss). Non-finite floats are written as marker strings
(runtime/metric_values.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import re
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jupyter_aml.errors import Conflict, InvalidInput
from jupyter_aml.runtime.metric_values import MAX_TEXT, V1_KINDS, check_v1, encode_float, encode_nested

__all__ = [
    "JournalReader",
    "JournalWriter",
    "get_journal",
    "list_streams",
    "open_journal",
    "stream_file",
]

MAX_NAME = 255  # the service's limit on a metric/tag name
_STREAM_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
_time = time.time
_frepr = float.__repr__
_irepr = int.__repr__
_write = os.write
_WRITERS: weakref.WeakSet[JournalWriter] = weakref.WeakSet()


def stream_file(path: str | os.PathLike[str], stream_id: str | None = None) -> Path:
    """The file of ``stream_id`` for the journal whose main file is ``path`` (a sibling in its folder)."""
    base = Path(path)
    if stream_id is None or stream_id == base.stem:
        return base
    if not _STREAM_RE.match(stream_id):
        raise InvalidInput(f"invalid journal stream id {stream_id!r}", hint="use letters, digits, _ . -")
    return base.with_name(stream_id + base.suffix)


def list_streams(path: str | os.PathLike[str]) -> dict[str, Path]:
    """Every stream of the journal whose main file is ``path``: ``{stream_id: file}``."""
    base = Path(path)
    found: dict[str, Path] = {}
    try:
        entries = list(os.scandir(base.parent))
    except FileNotFoundError:
        return found
    for entry in entries:
        name = entry.name
        if name.endswith(base.suffix) and not name.startswith(".") and entry.is_file(follow_symlinks=False):
            stem = name[: len(name) - len(base.suffix)] if base.suffix else name
            if _STREAM_RE.match(stem):
                found[stem] = Path(entry.path)
    return found


def _scalar(value: Any) -> str:
    """JSON text of a scalar metric value that is not a plain int or finite float, plus its type hint.

    Strings, booleans, None and integers are kept as they are (v1 keeps them); numpy / torch scalars become
    their Python value; anything else float() takes (Decimal, Fraction) becomes a float. A non-finite float
    is its marker string with ``"vt":"f"`` (runtime/metric_values.py)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise InvalidInput(f"a string metric value holds at most {MAX_TEXT} characters, not {len(value)}",
                               hint="upload long text as a file with run.upload_file")
        return json.dumps(value)
    if hasattr(value, "item") and not isinstance(value, (int, float)):
        with contextlib.suppress(TypeError, ValueError):
            value = value.item()  # numpy / torch scalars
        if isinstance(value, (bool, str)) or value is None:
            return _scalar(value)
    if isinstance(value, int):
        return _irepr(value)
    try:
        f = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"a metric value must be a number, string, bool or None, not {type(value).__name__}",
            hint="use log_list / log_row / log_table for collections") from exc
    return _frepr(f) if math.isfinite(f) else f'"{encode_float(f)}","vt":"f"'


def _number(value: Any) -> str:
    """JSON text of a step (a number)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        with contextlib.suppress(TypeError, ValueError):
            value = value.item()  # numpy / torch scalars
    if isinstance(value, int) and not isinstance(value, bool):
        return _irepr(value)
    try:
        f = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"a step must be a number, got {type(value).__name__}") from exc
    if not math.isfinite(f):
        raise InvalidInput(f"a step must be a finite number, got {f}")
    return _frepr(f)


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (ValueError, TypeError):
        encoded, _ = encode_nested(value)
        return json.dumps(encoded, separators=(",", ":"), allow_nan=False, default=str)


def _nested(fields: dict[str, Any]) -> dict[str, Any]:
    """The ``v`` of a list/row/table/v1 record with non-finite floats as markers, and ``nf`` when so."""
    encoded, found = encode_nested(fields["v"])
    fields["v"] = encoded
    if found:
        fields["nf"] = 1
    return fields


def _last_seq(fd: int) -> int:
    """The seq of the last complete record; terminates a torn last line so appends start clean."""
    size = os.fstat(fd).st_size
    if size == 0:
        return 0
    if os.pread(fd, 1, size - 1) != b"\n":
        os.write(fd, b"\n")  # the torn fragment becomes one unreadable line that readers skip
        size += 1
    window = 1 << 16
    while True:
        start = max(0, size - window)
        lines = os.pread(fd, size - start, start).split(b"\n")
        if start > 0:
            lines = lines[1:]  # may be a partial line
        for line in reversed(lines):
            seq = _parse_seq(line)
            if seq is not None:
                return seq
        if start == 0:
            return 0
        window *= 4


def _parse_seq(line: bytes) -> int | None:
    if line.startswith(b'{"seq":'):
        end = line.find(b",", 7)
        if end > 7 and line.endswith(b"}"):
            try:
                return int(line[7:end])
            except ValueError:
                pass
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    seq = obj.get("seq") if isinstance(obj, dict) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None


class JournalWriter:
    """Appends records to one journal stream. Thread-safe; one writer per stream file at a time.

    ``path`` is the journal's main file (``AML_JOURNAL``); ``stream_id`` picks a sibling stream (default:
    the main one). Reopening an existing stream continues its ``seq``. Raises ``Conflict`` if another
    writer holds the stream: use :func:`open_journal` / :func:`get_journal` to get a free one.
    """

    def __init__(self, path: str | os.PathLike[str], stream_id: str | None = None) -> None:
        self.base = Path(path)
        self._lock = threading.Lock()
        self._prefixes: dict[tuple[str, str], str] = {}
        self._fd: int | None = None
        self._closed = False
        self._open(stream_id, exclusive=True)
        _WRITERS.add(self)

    # -- opening ---------------------------------------------------------------------------------
    def _open(self, stream_id: str | None, *, exclusive: bool) -> bool:
        file = stream_file(self.base, stream_id)
        file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(file, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if exclusive:
                raise Conflict(
                    f"journal stream {file.stem!r} is held by another writer",
                    hint="use jupyter_aml.runtime.journal.open_journal(), which picks a free stream",
                ) from None
            return False
        try:
            self._seq = _last_seq(fd)
        except BaseException:
            os.close(fd)
            raise
        self.stream_id, self.path, self._fd, self._pid = file.stem, file, fd, os.getpid()
        return True

    def _open_free(self) -> None:
        """Take the first free stream: main, then p<pid>, p<pid>-1, ..."""
        pid = os.getpid()
        candidates = [self.base.stem, f"p{pid}"] + [f"p{pid}-{n}" for n in range(1, 1000)]
        for stream_id in candidates:
            if self._open(stream_id, exclusive=False):
                return
        raise Conflict(f"no free journal stream under {self.base.parent}")

    def _after_fork_in_child(self) -> None:
        # The child shares the parent's open file (and its lock): it must write its own stream.
        self._lock = threading.Lock()
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def _reopen(self) -> int:
        if self._closed:
            raise ValueError("write to a closed JournalWriter")
        self._open_free()
        assert self._fd is not None
        return self._fd

    # -- properties ------------------------------------------------------------------------------
    @property
    def seq(self) -> int:
        """The seq of the last record written (0 for an empty stream)."""
        return self._seq

    # -- writing ---------------------------------------------------------------------------------
    def _prefix(self, run_id: str, name: str) -> str:
        _check_name(name)
        prefix = f',"run_id":{json.dumps(str(run_id))},"k":"m","n":{json.dumps(str(name))},'
        if len(self._prefixes) < 100_000:
            self._prefixes[(run_id, name)] = prefix
        return prefix

    def log_metric(
        self, run_id: str, name: str, value: Any, step: int | None = None, description: str | None = None
    ) -> int:
        """Append a scalar ``{"k": "m", "n": name, "v": value, "s": step}``; return its seq.

        ``value`` is a number, a string, a bool or None, kept as it is; a NaN or ±inf is its marker string
        with ``"vt": "f"``."""
        prefix = self._prefixes.get((run_id, name))
        if prefix is None:
            prefix = self._prefix(run_id, name)
        tv = type(value)
        if tv is float and value - value == 0.0:
            v = _frepr(value)
        elif tv is int:
            v = _irepr(value)
        else:
            v = _scalar(value)
        if step is None:
            s = "null"
        elif type(step) is int:
            s = _irepr(step)
        else:
            s = _number(step)
        tail = "}\n" if description is None else f',"d":{json.dumps(str(description))}}}\n'
        with self._lock:
            fd = self._fd
            if fd is None:
                fd = self._reopen()
            self._seq = seq = self._seq + 1
            _write(fd, f'{{"seq":{seq},"t":{_frepr(_time())}{prefix}"v":{v},"s":{s}{tail}'.encode())
        return seq

    def append(self, run_id: str, kind: str, **fields: Any) -> int:
        """Append a record of any kind (``k``) with the given fields; return its seq."""
        if "n" in fields:
            _check_name(fields["n"])
        body = _dumps(fields)[1:]  # '"n":...}' or '}'
        head = f',"run_id":{json.dumps(str(run_id))},"k":{json.dumps(kind)}'
        with self._lock:
            fd = self._fd
            if fd is None:
                fd = self._reopen()
            self._seq = seq = self._seq + 1
            sep = "," if body != "}" else ""
            _write(fd, f'{{"seq":{seq},"t":{_frepr(_time())}{head}{sep}{body}\n'.encode())
        return seq

    def log_list(self, run_id: str, name: str, values: Any, description: str | None = None) -> int:
        return self.append(run_id, "l", **_nested({"n": name, "v": list(values), **_desc(description)}))

    def log_row(self, run_id: str, name: str, row: Mapping[str, Any], description: str | None = None) -> int:
        return self.append(run_id, "r", **_nested({"n": name, "v": dict(row), **_desc(description)}))

    def log_table(
        self, run_id: str, name: str, table: Mapping[str, Any], description: str | None = None
    ) -> int:
        value = {k: list(v) for k, v in table.items()}
        return self.append(run_id, "tb", **_nested({"n": name, "v": value, **_desc(description)}))

    def log_v1(self, run_id: str, name: str, kind: str, value: Any, description: str | None = None) -> int:
        """Append one of v1's structured metrics (``kind``: confusion_matrix, accuracy_table, predictions,
        residuals), checked against its shape first: a bad shape raises InvalidInput here, in the script."""
        code = next((k for k, v in V1_KINDS.items() if v == kind), None)
        if code is None:
            raise InvalidInput(f"unknown v1 metric kind {kind!r}", hint=f"one of {sorted(V1_KINDS.values())}")
        checked = check_v1(kind, value)
        return self.append(run_id, code, **_nested({"n": name, "v": checked, **_desc(description)}))

    def log_image(
        self, run_id: str, name: str, sha256: str, path: str | None = None, description: str | None = None
    ) -> int:
        """Record an image whose bytes were uploaded as a blob first."""
        extra: dict[str, Any] = {"path": path} if path else {}
        return self.append(run_id, "i", n=name, sha256=sha256, **extra, **_desc(description))

    def set_tag(self, run_id: str, name: str, value: Any) -> int:
        return self.append(run_id, "tag", n=name, v=value)

    def add_property(self, run_id: str, name: str, value: Any) -> int:
        return self.append(run_id, "prop", n=name, v=value)

    def fsync(self) -> None:
        """Force the stream to stable storage (only needed to survive a power loss, not a crash)."""
        with self._lock:
            if self._fd is not None:
                os.fsync(self._fd)

    def close(self) -> None:
        with self._lock:
            fd, self._fd, self._closed = self._fd, None, True
            if fd is not None:
                os.close(fd)
        _WRITERS.discard(self)

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"JournalWriter({str(self.path)!r}, stream={self.stream_id!r}, seq={self._seq})"


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
        raise InvalidInput(f"metric name must be a string of 1 to {MAX_NAME} characters, got {name!r:.80}")


def _desc(description: str | None) -> dict[str, str]:
    return {"d": description} if description is not None else {}


def _reset_writers_in_child() -> None:
    global _CACHE_LOCK
    _CACHE_LOCK = threading.Lock()
    for writer in list(_WRITERS):
        writer._after_fork_in_child()


os.register_at_fork(after_in_child=_reset_writers_in_child)


def open_journal(path: str | os.PathLike[str]) -> JournalWriter:
    """A writer on the first free stream of the journal at ``path`` (main, else ``p<pid>``...)."""
    writer = JournalWriter.__new__(JournalWriter)
    writer.base = Path(path)
    writer._lock = threading.Lock()
    writer._prefixes = {}
    writer._fd = None
    writer._closed = False
    writer._open_free()
    _WRITERS.add(writer)
    return writer


_CACHE: dict[str, JournalWriter] = {}
_CACHE_LOCK = threading.Lock()


def get_journal(path: str | os.PathLike[str]) -> JournalWriter:
    """The process-wide writer for the journal at ``path`` (what ``Run.get_context()`` should use).

    A forked child keeps the same object, which moves itself to a stream of its own on first write.
    """
    key = os.path.abspath(path)
    with _CACHE_LOCK:
        writer = _CACHE.get(key)
        if writer is None or writer._closed:
            writer = _CACHE[key] = open_journal(key)
        return writer


class JournalReader:
    """Reads complete records of one stream file from a byte offset; a torn last line waits.

    ``read_from(offset) -> (records, new_offset)``: records are dicts. ``read_raw`` returns
    ``(seq, line_bytes)`` pairs, lines being strict JSON ready to be embedded in a request body.
    Lines that are not JSON records (a fragment terminated after a crash) are skipped and counted.
    """

    def __init__(self, path: str | os.PathLike[str], max_bytes: int = 4 << 20) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.skipped = 0
        self._fd: int | None = None

    def _chunk(self, offset: int) -> bytes:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                return b""
        size = self.max_bytes
        while True:
            data = os.pread(self._fd, size, offset)
            if b"\n" in data or len(data) < size:
                return data
            size *= 2  # one record longer than max_bytes: keep reading until its end

    def read_raw(self, offset: int = 0) -> tuple[list[tuple[int, bytes]], int]:
        data = self._chunk(offset)
        end = data.rfind(b"\n")
        if end < 0:
            return [], offset
        block = data[:end]
        lines = block.split(b"\n")
        seqs = _fast_seqs(block, lines)
        if seqs is not None:  # every line in the writer's own layout: no Python work per line
            return list(zip(seqs, lines, strict=True)), offset + end + 1
        out: list[tuple[int, bytes]] = []
        for line in lines:
            if not line.strip():
                continue
            fast = _fast_seq(line)
            if fast is not None:
                out.append((fast, line))
                continue
            try:
                obj = json.loads(line)
                seq = obj["seq"]
                if not isinstance(seq, int) or isinstance(seq, bool):
                    raise TypeError(seq)
                out.append((seq, _dumps(obj).encode()))
            except (ValueError, KeyError, TypeError):
                self.skipped += 1
        return out, offset + end + 1

    def read_from(self, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        raw, new_offset = self.read_raw(offset)
        return [json.loads(line) for _, line in raw], new_offset

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> JournalReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_LEADING_SEQ = re.compile(rb'\n\{"seq":([0-9]+),')  # a literal prefix: sre scans for it at C speed


def _fast_seqs(block: bytes, lines: list[bytes]) -> list[int] | None:
    """The seqs of ``lines`` (``block`` split at newlines) when each line is in the writer's own layout, as
    :func:`_fast_seq` would find them one by one; None when any is not. Counted over the whole block in C:
    each line starts with ``{"seq":<digits>,`` and ends with ``}``, and no line holds a NaN or Infinity."""
    n = len(lines)
    if (b"NaN" in block or b"Infinity" in block or not block.startswith(b'{"seq":') or not block.endswith(b"}")
            or block.count(b'\n{"seq":') != n - 1 or block.count(b"}\n") != n - 1):
        return None
    seqs = _LEADING_SEQ.findall(b"\n" + block)
    if len(seqs) != n:
        return None
    return list(map(int, seqs))


def _fast_seq(line: bytes) -> int | None:
    """The seq of a line in the writer's own layout, without a JSON parse (None if not that layout)."""
    if line.startswith(b'{"seq":') and line.endswith(b"}") and b"NaN" not in line and b"Infinity" not in line:
        end = line.find(b",", 7)
        if end > 7:
            digits = line[7:end]
            if digits.isdigit():
                return int(digits)
    return None
