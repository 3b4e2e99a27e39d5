"""Journal records one at a time: which ones the store can hold, and why the others are refused.

One bad record must never cost a batch its good ones (docs/reliability.md): the batch's envelope
(``stream``, ``records`` as a list of objects) is checked as a whole, every record on its own. A refused
record is answered in ``JournalAck.rejected`` and never stored; everything else in the batch is.

The limits are what every store and every reader can carry: a seq is a signed 64-bit integer, a scalar
is a float64, and integers inside list/row/table values stay within 64 bits (what the JSON encoder of the
readers writes), nested at most ``MAX_DEPTH`` deep. A scalar is a number, a string, a bool or None,
and v1's structured kinds are checked against their shapes (runtime/metric_values.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pydantic
import pydantic_core

from jupyter_aml.core import models
from jupyter_aml.core.journal_scalars import MAX_SEQ as MAX_SEQ  # re-exported: journal_recovery reads it here
from jupyter_aml.core.journal_scalars import Scalars, plain_batch, plain_record
from jupyter_aml.errors import AMLError, InvalidInput
from jupyter_aml.runtime.metric_values import MARKERS, MAX_TEXT, V1_KINDS, check_v1

INT_MIN, INT_MAX = -(1 << 63), (1 << 64) - 1  # signed or unsigned 64-bit: what a reader's JSON encoder writes
MAX_DEPTH = 64


@dataclass
class Checked:
    """A parsed batch: the records to store (with their index in the batch) and the refused ones.

    Scalar records (``k: "m"``, nearly all of them) are kept as columns in ``scalars``
    (core/journal_scalars.py); ``records`` holds the other kinds."""

    stream: str
    records: list[tuple[int, models.JournalRecord]]
    rejected: list[models.JournalRejection]
    scalars: Scalars = field(default_factory=Scalars)

    def reject(self, index: int, record: models.JournalRecord | None, seq: int | None, reason: str) -> None:
        usable = record.seq if record is not None else seq
        self.rejected.append(models.JournalRejection(
            index=index, seq=usable if isinstance(usable, int) and 0 < usable <= MAX_SEQ else None, reason=reason))

    def admit(self, index: int, record: models.JournalRecord) -> None:
        """Keep ``record`` to be stored, or refuse it with the reason the store cannot hold it."""
        reason = problem(record)
        if reason is not None:
            self.reject(index, record, None, reason)
        elif record.k == "m":
            self.scalars.add(index, record.seq, record.run_id, record.n, record.t, record.v, record.s, record.d,
                             record.vt)
        else:
            self.records.append((index, record))

    def accepted(self) -> list[tuple[int, int]]:
        """(index in the batch, seq) of every record kept to be stored."""
        return [(i, rec.seq) for i, rec in self.records] + list(self.scalars.accepted())


def parse_batch(raw: bytes) -> Checked:
    """Parse a ``JournalBatch`` body; a record that fails its checks is rejected alone, never the batch.

    The body is parsed once (pydantic-core's JSON parser, in Rust: big integers stay integers, NaN and
    Infinity literals are floats, as the models read them) and then checked without a model per record
    where the records are plain scalars (core/journal_scalars.py)."""
    try:
        body = pydantic_core.from_json(raw or b"{}")
    except ValueError as exc:
        raise AMLError("the request body is not valid JSON", hint=str(exc)) from None
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise InvalidInput("a journal batch is an object with 'stream' and a 'records' list",
                           hint='send {"stream": "main", "records": [{"seq": 1, ...}, ...]}')
    extra = set(body) - {"stream", "records"}
    if extra:
        raise InvalidInput(f"unknown field(s) in the journal batch: {sorted(extra)}", hint="send stream and records")
    records = body["records"]
    if not set(map(type, records)) <= {dict}:  # parsed JSON: objects are plain dicts
        index = next(i for i, item in enumerate(records) if not isinstance(item, dict))
        raise InvalidInput(f"journal record {index} is not an object", hint="each record is {seq, run_id, t, k, ...}")
    if len(records) > 100_000:
        raise InvalidInput(f"a journal batch holds at most 100000 records, not {len(records)}",
                           hint="send smaller batches")
    return check_records(body.get("stream"), records)


def check_records(stream: Any, records: list[Any]) -> Checked:
    """Check a stream id (as a batch's envelope) and each record (parsed JSON values) on its own."""
    envelope = models.JournalBatch.model_validate({"stream": stream, "records": []})  # the stream's own rules
    checked = Checked(envelope.stream, [], [])
    if set(map(type, records)) <= {dict}:
        plain = plain_batch(records)
        if plain is not None:  # the common case: every record a plain scalar, checked by column
            checked.scalars = plain
            return checked
    for index, item in enumerate(records):
        if plain_record(item):
            checked.scalars.add(index, item["seq"], item["run_id"], item["n"], item["t"], item.get("v"),
                                item.get("s"), item.get("d"), None)
            continue
        seq = item.get("seq") if isinstance(item, dict) else None
        try:
            record = models.JournalRecord.model_validate(item)
        except pydantic.ValidationError as exc:
            checked.reject(index, None, seq if type(seq) is int else None, _explain(exc))
            continue
        checked.admit(index, record)
    return checked


def _explain(exc: pydantic.ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "record"
        parts.append(f"{where}: {error['msg']}")
    return "invalid record: " + "; ".join(parts)


def problem(record: models.JournalRecord) -> str | None:
    """Why the store cannot hold ``record`` (None when it can)."""
    if record.seq > MAX_SEQ:
        return f"seq {_short(record.seq)} is beyond 2**63-1, the largest sequence number"
    if not math.isfinite(record.t):
        return "t (the time) is not a finite number"
    if record.k == "m":
        return _scalar_problem(record)
    if record.k in ("l", "r", "tb"):
        return _storable(record.v)
    if record.k in V1_KINDS:
        try:
            check_v1(V1_KINDS[record.k], record.v)
        except InvalidInput as exc:
            return exc.message
        return _storable(record.v)
    if record.k in ("tag", "prop"):
        try:
            str(record.v)
        except ValueError:
            return f"{'tag' if record.k == 'tag' else 'property'} value is an integer too long to store"
    return None


def _scalar_problem(record: models.JournalRecord) -> str | None:
    """A scalar is a number, a string, a bool or None (v1 keeps each); ``vt: f`` marks a non-finite float."""
    value = record.v
    if record.vt == "f":
        return None if value in MARKERS else f"a value marked non-finite must be one of {sorted(MARKERS)}"
    if value is None or isinstance(value, (bool, float)):
        return None
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            return f"a string metric value holds at most {MAX_TEXT} characters, not {len(value)}"
        return None
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            return (f"metric value {_short(value)} is an integer beyond 64 bits and beyond the range of a "
                    "float64 (log it as a string)")
        return None
    return f"metric value {_short(value)} is not a number, string, bool or None (use log_list/log_row/log_table)"


def _storable(value: Any) -> str | None:
    for item, depth in _walk(value, 0):
        if depth > MAX_DEPTH:
            return f"value is nested more than {MAX_DEPTH} levels deep"
        if type(item) is int and not INT_MIN <= item <= INT_MAX:
            return f"value holds the integer {_short(item)}, beyond 64 bits (log it as a float or a string)"
    return None


def _walk(value: Any, depth: int) -> Iterator[tuple[Any, int]]:
    yield value, depth
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for inner in value.values():
            yield from _walk(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner, depth + 1)


def readable(value: Any) -> Any:
    """``value`` as every reader can encode it: an integer beyond 64 bits becomes a float (or None).

    Stored values checked by :func:`problem` never need this; values stored before the checks existed do.
    """
    if type(value) is int:
        if INT_MIN <= value <= INT_MAX:
            return value
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, list):
        return [readable(v) for v in value]
    if isinstance(value, dict):
        return {k: readable(v) for k, v in value.items()}
    return value


def needs_readable(value: Any) -> bool:
    """Whether :func:`readable` would change ``value`` (cheap for the common, all-valid case)."""
    return any(type(item) is int and not INT_MIN <= item <= INT_MAX for item, _ in _walk(value, 0))


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an int with more digits than Python prints
        return "<an integer of more than 4300 digits>"
    return text if len(text) <= 40 else text[:37] + "..."
