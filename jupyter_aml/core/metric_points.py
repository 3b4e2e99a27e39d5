"""Scalar points in their packed chunks: type codes, texts, the wire encoding, and downsampling.

A chunk holds little-endian float64 arrays of steps, values and times; ``types`` (one uint8 per point,
the index of its code in CODES) is absent while every point is a float, and ``texts`` keep strings and
integers past 2**53 exactly (core/metrics.py stores them; runtime/metric_values.py defines the codes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from jupyter_aml.core import models
from jupyter_aml.runtime.metric_values import MARKERS, encode_float, type_code

Floats = NDArray[np.float64]
Codes = NDArray[np.uint8]
CODES = ("f", "i", "b", "n", "s")  # the uint8 stored per point is the index in this tuple
CODE = {c: i for i, c in enumerate(CODES)}
EXACT_INT = 1 << 53  # integers a float64 holds exactly


def pack(values: Floats) -> bytes:
    return values.astype("<f8", copy=False).tobytes()


def _unpack(blob: bytes) -> Floats:
    return np.frombuffer(blob, dtype="<f8")


def downsample(steps: Floats, values: Floats, times: Floats, max_points: int) -> tuple[Floats, Floats, Floats]:
    """Keep at most ``max_points`` points: the first, the last, and each bucket's min and max in order."""
    chosen = downsample_indices(values, max_points)
    if chosen is None:
        return steps, values, times
    return steps[chosen], values[chosen], times[chosen]


def downsample_indices(values: Floats, max_points: int) -> NDArray[np.intp] | None:
    """The indices :func:`downsample` keeps (None: all of them)."""
    n = len(values)
    if n <= max_points:
        return None
    inner = values[1:-1]
    buckets = max(1, (max_points - 2) // 2)
    size = -(-len(inner) // buckets)  # ceil
    padded = np.full(buckets * size, np.nan)
    padded[: len(inner)] = inner
    grid = padded.reshape(buckets, size)
    offsets = np.arange(buckets) * size + 1
    lows = np.argmin(np.where(np.isnan(grid), np.inf, grid), axis=1) + offsets
    highs = np.argmax(np.where(np.isnan(grid), -np.inf, grid), axis=1) + offsets
    chosen = np.unique(np.concatenate(([0, n - 1], lows, highs)))
    return cast(NDArray[np.intp], chosen[chosen < n])


def _jsonable(values: Floats) -> list[float | str]:
    """Float points as JSON carries them: non-finite ones as their marker strings."""
    out: list[float] = values.tolist()
    if np.isfinite(values).all():
        return list[float | str](out)
    return [encode_float(v) for v in out]


class Points:
    """A scalar series read from its chunks: numpy columns, the type codes (None: all floats) and texts."""

    def __init__(self, chunks: Sequence[Any]) -> None:
        # each chunk: (steps, values, times, types, texts) as stored
        self.steps = np.concatenate([_unpack(c[0]) for c in chunks]) if chunks else np.empty(0)
        self.values = np.concatenate([_unpack(c[1]) for c in chunks]) if chunks else np.empty(0)
        self.times = np.concatenate([_unpack(c[2]) for c in chunks]) if chunks else np.empty(0)
        self.codes: Codes | None = None
        self.texts: dict[int, str] = {}
        if any(c[3] is not None for c in chunks):
            parts, offset = [], 0
            for c in chunks:
                count = len(c[1]) // 8
                parts.append(np.frombuffer(c[3], dtype=np.uint8) if c[3] is not None else np.zeros(count, np.uint8))
                for key, text in (c[4] or {}).items():
                    self.texts[offset + int(key)] = text
                offset += count
            self.codes = np.concatenate(parts)

    def wire(self, chosen: NDArray[np.intp] | None) -> tuple[list[Any], list[str] | None]:
        """The values (and their types when not all floats) of the points ``chosen`` (None: all)."""
        values = self.values if chosen is None else self.values[chosen]
        if self.codes is None:
            return _jsonable(values), None
        codes = self.codes if chosen is None else self.codes[chosen]
        if not codes.any():
            return _jsonable(values), None
        index = range(len(self.values)) if chosen is None else chosen.tolist()
        out: list[Any] = []
        for i, code, number in zip(index, codes.tolist(), values.tolist(), strict=True):
            out.append(_wire_value(CODES[code], number, self.texts.get(i)))
        return out, [CODES[c] for c in codes.tolist()]


def _wire_value(code: str, number: float, text: str | None) -> Any:
    if code == "f":
        return encode_float(number)
    if code == "i":
        return int(text) if text is not None else int(number)
    if code == "b":
        return number != 0.0
    if code == "n":
        return None
    return text if text is not None else ""


def point(rec: models.JournalRecord) -> tuple[str, float, str | None, Any]:
    """A scalar record as (type code, number for the chunk, text to keep, value as answered)."""
    return point_of(rec.v, rec.vt)


def point_of(value: Any, vt: str | None) -> tuple[str, float, str | None, Any]:
    """A scalar value (and its ``vt`` marker) as (type code, number for the chunk, text to keep, value as
    answered)."""
    if vt == "f":
        return "f", MARKERS[value], None, value
    code = type_code(value)
    if code == "f":
        return code, value, None, encode_float(value)
    if code == "i":
        exact = -EXACT_INT <= value <= EXACT_INT
        return code, float(value), None if exact else str(value), value
    if code == "b":
        return code, 1.0 if value else 0.0, None, value
    if code == "n":
        return code, math.nan, None, None
    return code, math.nan, value, value
