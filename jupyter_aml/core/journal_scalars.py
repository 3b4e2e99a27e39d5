"""A journal batch's scalar records as columns: checked a column at a time, stored without a model per record.

Nearly every journal record is a scalar metric in the journal writer's own layout (``{"seq", "t", "run_id",
"k": "m", "n", "v", "s"}``). Validating each one as a pydantic model cost ~10 us per point on the service,
more than everything else on the way from ``run.log`` to the database. Here a batch's plain scalars are
checked with the same rules as ``JournalRecord`` + ``journal_check.problem`` (a seq in 1..2**63-1, a finite
time, a name of 1-255 characters, a value that is a number, a string of at most MAX_TEXT characters, a bool
or None, integers within 64 bits, a numeric or missing step), by column where the whole batch allows it
(C-speed ``map``/``set``/``min``/``max``), and kept as columns (``Scalars``). Any record the plain rules do
not cover exactly (another kind, a ``vt`` marker, an unknown field, a seq given as a float...) is left to
the model and its precise error message, so a record is accepted or refused exactly as before.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from jupyter_aml.core.metric_points import CODE, point_of
from jupyter_aml.runtime.metric_values import MAX_TEXT, encode_float

MAX_SEQ = (1 << 63) - 1
INT_MIN, INT_MAX = -(1 << 63), (1 << 64) - 1  # as journal_check: what a reader's JSON encoder writes
STEP_MAX = 1 << 63  # steps given as integers beyond this take the model's path (its float conversion)
MAX_NAME = 255
PLAIN_KEYS = frozenset({"seq", "t", "run_id", "k", "n", "v", "s", "d"})
_NUMBER = {int, float}
_STEP = {int, float, type(None)}
_VALUE = {int, float, bool, str, type(None)}
_DESC = {str, type(None)}


@dataclass
class Scalars:
    """Scalar records of one batch, one list per field; position ``i`` of every list is one record."""

    index: list[int] = field(default_factory=list)  # the record's position in the batch
    seq: list[int] = field(default_factory=list)
    run_id: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    t: list[float] = field(default_factory=list)
    v: list[Any] = field(default_factory=list)
    s: list[float | None] = field(default_factory=list)
    d: list[str | None] = field(default_factory=list)
    vt: list[str | None] = field(default_factory=list)  # "f": v is the marker string of a non-finite float

    def __len__(self) -> int:
        return len(self.seq)

    def add(self, index: int, seq: int, run_id: str, name: str, t: float, v: Any, s: float | None,
            d: str | None, vt: str | None) -> None:
        self.index.append(index)
        self.seq.append(seq)
        self.run_id.append(run_id)
        self.name.append(name)
        self.t.append(t)
        self.v.append(v)
        self.s.append(s)
        self.d.append(d)
        self.vt.append(vt)

    def take(self, positions: Sequence[int]) -> Scalars:
        """The records at ``positions``, in that order (a ``range`` is taken as a slice, in C)."""
        out = Scalars()
        for name in ("index", "seq", "run_id", "name", "t", "v", "s", "d", "vt"):
            column = getattr(self, name)
            if isinstance(positions, range):
                setattr(out, name, column[positions.start:positions.stop:positions.step])
            else:
                setattr(out, name, [column[p] for p in positions])
        return out

    def in_seq_order(self) -> Scalars:
        """The same records sorted by seq (stable: equal seqs keep their batch order, as ``sorted`` did)."""
        seqs = self.seq
        if seqs == sorted(seqs):  # timsort: one C pass over a list already in order
            return self
        return self.take(sorted(range(len(seqs)), key=seqs.__getitem__))

    def after(self, acked: int) -> Scalars:
        """The records (in seq order) whose seq is past ``acked``."""
        if not self.seq or self.seq[0] > acked:
            return self
        return self.take([i for i, seq in enumerate(self.seq) if seq > acked])

    def groups(self) -> dict[tuple[str, str], Sequence[int]]:
        """Positions of each (run id, metric name), in the order the records first name them.

        A run that logs the same metrics at every step (loss, accuracy, loss, accuracy, ...) gives each name
        every k-th position: found with list comparisons in C and answered as ranges, without a loop."""
        runs, names = self.run_id, self.name
        n = len(runs)
        if not runs:
            return {}
        if runs.count(runs[0]) == n:
            period = len(set(names))
            if len(set(names[:period])) == period and names[period:] == names[:n - period]:
                return {(runs[0], names[p]): range(p, n, period) for p in range(period)}
        out: dict[tuple[str, str], list[int]] = {}
        for position, key in enumerate(zip(runs, names)):  # noqa: B905 (same length by construction)
            got = out.get(key)
            if got is None:
                out[key] = [position]
            else:
                got.append(position)
        found: dict[tuple[str, str], Sequence[int]] = dict(out)
        return found

    def accepted(self) -> Iterator[tuple[int, int]]:
        """(index in the batch, seq) of every record."""
        return zip(self.index, self.seq)  # noqa: B905


def plain_batch(records: list[dict[str, Any]]) -> Scalars | None:
    """All of ``records`` as columns when every one is a plain scalar that the store can hold; else None.

    ``records`` are parsed JSON objects. The checks are those of :func:`plain_record`, made a column at a time.
    """
    if not records:
        return Scalars()
    columns = _writer_columns(records)
    if columns is not None:
        kinds, seq, t, run_id, name, v, s = columns
        d: list[Any] = [None] * len(records)
    else:
        kinds = [r.get("k") for r in records]
        if not all(r.keys() <= PLAIN_KEYS for r in records):
            return None
        seq, t, run_id, name, v, s, d = ([r.get(key) for r in records] for key in ("seq", "t", "run_id", "n",
                                                                                  "v", "s", "d"))
    if kinds.count("m") != len(kinds):
        return None
    if set(map(type, seq)) != {int} or min(seq) < 1 or max(seq) > MAX_SEQ:
        return None
    if set(map(type, run_id)) != {str} or set(map(type, name)) != {str}:
        return None
    lengths = list(map(len, name))
    if min(lengths) < 1 or max(lengths) > MAX_NAME:
        return None
    if not set(map(type, t)) <= _NUMBER or not _all_finite(t):
        return None
    step_types = set(map(type, s))
    if not step_types <= _STEP or (int in step_types and not _ints_within(s, -STEP_MAX, STEP_MAX)):
        return None
    value_types = set(map(type, v))
    if not value_types <= _VALUE or (int in value_types and not _ints_within(v, INT_MIN, INT_MAX)):
        return None
    if str in value_types and max(len(x) for x in v if type(x) is str) > MAX_TEXT:
        return None
    if not set(map(type, d)) <= _DESC:
        return None
    return Scalars(index=list(range(len(records))), seq=seq, run_id=run_id, name=name, t=t, v=v, s=s, d=d,
                   vt=[None] * len(records))


_WRITER_KEYS = ("k", "seq", "t", "run_id", "n", "v", "s")
_WRITER_FIELDS = [operator.itemgetter(key) for key in _WRITER_KEYS]


def _writer_columns(records: list[dict[str, Any]]) -> list[list[Any]] | None:
    """The columns ``k, seq, t, run_id, n, v, s`` when every record has exactly those seven fields (what the
    journal writer's ``log_metric`` writes), taken apart in C; else None."""
    if sum(map(len, records)) != len(_WRITER_KEYS) * len(records):
        return None
    try:  # one C pass per field: no tuple per record (10k tracked tuples a batch made the GC run)
        return [list(map(getter, records)) for getter in _WRITER_FIELDS]
    except KeyError:
        return None


def plain_record(item: Any) -> bool:
    """Whether ``item`` (a parsed JSON value) is a scalar record, without ``vt``, that the store can hold
    as it is; anything else is left to ``JournalRecord`` and ``journal_check.problem``."""
    if type(item) is not dict or item.get("k") != "m" or not item.keys() <= PLAIN_KEYS:
        return False
    seq: Any = item.get("seq")
    t: Any = item.get("t")
    n: Any = item.get("n")
    v: Any = item.get("v")
    s: Any = item.get("s")
    if type(seq) is not int or not 1 <= seq <= MAX_SEQ or type(item.get("run_id")) is not str:
        return False
    if type(n) is not str or not 1 <= len(n) <= MAX_NAME or type(item.get("d")) not in _DESC:
        return False
    if type(t) not in _NUMBER or not _all_finite([t]):
        return False
    if type(s) not in _STEP or (type(s) is int and not -STEP_MAX <= s <= STEP_MAX):
        return False
    tv = type(v)
    if tv is int:
        return bool(INT_MIN <= v <= INT_MAX)
    if tv is str:
        return len(v) <= MAX_TEXT
    return tv in _VALUE


def _all_finite(values: list[Any]) -> bool:
    try:
        return all(map(math.isfinite, values))
    except OverflowError:  # an integer beyond a float64: the model refuses it with its own message
        return False


def _ints_within(values: list[Any], low: int, high: int) -> bool:
    ints = [x for x in values if type(x) is int]
    return low <= min(ints) and max(ints) <= high


class ScalarColumns:
    """The points of one series' records as stored: float64 numbers, uint8 type codes and the texts kept
    exactly (core/metric_points.py); the common all-float case without a Python call per point."""

    def __init__(self, recs: Scalars) -> None:
        self.count = len(recs)
        if set(map(type, recs.v)) == {float} and recs.vt.count(None) == len(recs.vt):
            self.values = np.array(recs.v, dtype=np.float64)
            self.codes = np.zeros(len(recs.v), dtype=np.uint8)
            self.texts: dict[int, str] = {}
            self._points: list[tuple[str, float, str | None, Any]] | None = None
            last = recs.v[-1]
            self.last: tuple[str, float, Any] = ("f", last, encode_float(last))
            return
        points = [point_of(v, vt) for v, vt in zip(recs.v, recs.vt)]  # noqa: B905
        self._points = points
        self.values = np.array([p[1] for p in points], dtype=np.float64)
        self.codes = np.array([CODE[p[0]] for p in points], dtype=np.uint8)
        self.texts = {i: p[2] for i, p in enumerate(points) if p[2] is not None}
        self.last = (points[-1][0], points[-1][1], points[-1][3])

    def shown(self, newest: int) -> list[Any]:
        """The wire values of the ``newest`` last points (what a live event carries)."""
        if self._points is None:
            tail = self.values[-newest:]
            if bool(np.isfinite(tail).all()):
                return cast(list[Any], tail.tolist())
            return [encode_float(x) for x in tail.tolist()]
        return [p[3] for p in self._points[-newest:]]

    def shown_types(self, newest: int) -> list[Any] | None:
        """The type codes of those points, or None when all are floats."""
        if self._points is None:
            return None
        shown = self._points[-newest:]
        return [p[0] for p in shown] if any(p[0] != "f" for p in shown) else None
