"""Metric values as Azure ML v1 keeps them: their types, the non-finite floats, and v1's structured shapes.

Stdlib only: the journal writer (in the run), the service's checks and store, and the SDK's readers all
use this one module, so the encoding has a single definition (docs/runs-and-metrics.md, "Value types").

JSON cannot carry NaN or ±inf. Everywhere a value travels as JSON (journal records, REST answers, push
events) a non-finite float is one of the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (what v1's REST
did), and the record or answer says where those strings stand for floats, so a string metric whose text is
``"NaN"`` still reads back as that string:

- a scalar journal record carries ``"vt": "f"`` next to such a ``v``;
- a scalar history carries ``types`` (one code per value) whenever any value is not a float; without
  ``types`` every value is a float and the three strings are the non-finite ones;
- a nested value (list, row, table, v1 shape) carries ``"nf": 1`` in the journal, and a history lists the
  indices of such values in ``nonfinite``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from jupyter_aml.errors import InvalidInput

__all__ = [
    "MARKERS",
    "MAX_TEXT",
    "V1_KINDS",
    "check_v1",
    "decode_nested",
    "decode_scalar",
    "decode_scalars",
    "encode_float",
    "encode_nested",
    "type_code",
]

# one code per scalar point: float, int, bool, None, str
FLOAT, INT, BOOL, NONE, STR = "f", "i", "b", "n", "s"
CODES = (FLOAT, INT, BOOL, NONE, STR)
MARKERS: dict[str, float] = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
MAX_TEXT = 1 << 16  # characters of a string metric value
INT64 = (-(1 << 63), (1 << 63) - 1)

# journal record kind -> (metric kind, v1 schema_type)
V1_KINDS: dict[str, str] = {
    "cm": "confusion_matrix",
    "at": "accuracy_table",
    "pr": "predictions",
    "rs": "residuals",
}


def encode_float(value: float) -> float | str:
    """A float as JSON can carry it: itself when finite, else its marker string."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def type_code(value: Any) -> str:
    """The type code of a scalar metric value (bool before int: ``True`` is an int in Python)."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, str):
        return STR
    raise InvalidInput(f"a metric value must be a number, string, bool or None, not {type(value).__name__}",
                       hint="use log_list / log_row / log_table for collections")


def decode_scalar(value: Any, code: str | None) -> Any:
    """One scalar value of a history, as it was logged (``code`` from ``types``; None: the series is float)."""
    if code is None or code == FLOAT:
        if isinstance(value, str):
            return MARKERS.get(value, math.nan)
        return None if value is None else float(value)
    if code == INT:
        return int(value) if value is not None else None
    if code == BOOL:
        return bool(value)
    if code == NONE:
        return None
    return value


def decode_scalars(values: list[Any], types: list[str] | None) -> list[Any]:
    if types is None:
        return [decode_scalar(v, None) for v in values]
    return [decode_scalar(v, c) for v, c in zip(values, types, strict=False)]


def encode_nested(value: Any) -> tuple[Any, bool]:
    """``value`` with non-finite floats (at any depth) as marker strings; True if there were any.

    Tuples become lists and numpy arrays / scalars their Python values, as JSON holds them."""
    found = False

    def walk(item: Any) -> Any:
        nonlocal found
        if isinstance(item, float):
            if math.isfinite(item):
                return item
            found = True
            return encode_float(item)
        if isinstance(item, (str, int, type(None))):
            return item
        if isinstance(item, Mapping):
            return {str(k): walk(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [walk(v) for v in item]
        if hasattr(item, "tolist"):
            return walk(item.tolist())
        if hasattr(item, "item"):
            return walk(item.item())
        return item

    return walk(value), found


def decode_nested(value: Any) -> Any:
    """The inverse of :func:`encode_nested`, for a value known to hold marker strings."""
    if isinstance(value, str):
        return MARKERS.get(value, value)
    if isinstance(value, list):
        return [decode_nested(v) for v in value]
    if isinstance(value, dict):
        return {k: decode_nested(v) for k, v in value.items()}
    return value


# -- v1's structured metrics ------------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) or value in MARKERS


def _numbers(data: Mapping[str, Any], key: str, kind: str, *, length: int | None = None) -> list[Any]:
    seq = data.get(key)
    if not isinstance(seq, list) or not all(_is_number(v) for v in seq):
        raise InvalidInput(f"{kind}: data.{key} must be a list of numbers, got {_short(seq)}",
                           hint=f"see docs/runs-and-metrics.md for the {kind} shape")
    if length is not None and len(seq) != length:
        raise InvalidInput(f"{kind}: data.{key} has {len(seq)} values, expected {length}",
                           hint=f"see docs/runs-and-metrics.md for the {kind} shape")
    return seq


def _labels(data: Mapping[str, Any], kind: str) -> list[Any]:
    labels = data.get("class_labels")
    if not isinstance(labels, list) or not labels or not all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in labels):
        raise InvalidInput(f"{kind}: data.class_labels must be a non-empty list of strings or numbers, "
                           f"got {_short(labels)}", hint='e.g. "class_labels": ["cat", "dog"]')
    return labels


def _grid(value: Any, rows: int, cols: int, what: str, kind: str) -> None:
    ok = isinstance(value, list) and len(value) == rows and all(
        isinstance(row, list) and len(row) == cols and all(_is_number(v) for v in row) for row in value)
    if not ok:
        raise InvalidInput(f"{kind}: {what} must be {rows} rows of {cols} numbers, got {_short(value)}",
                           hint=f"see docs/runs-and-metrics.md for the {kind} shape")


def _confusion_matrix(data: Mapping[str, Any]) -> None:
    labels = _labels(data, "confusion_matrix")
    _grid(data.get("matrix"), len(labels), len(labels), "data.matrix", "confusion_matrix")


def _accuracy_table(data: Mapping[str, Any]) -> None:
    kind = "accuracy_table"
    labels = _labels(data, kind)
    for prefix in ("probability", "percentile"):
        thresholds = _numbers(data, f"{prefix}_thresholds", kind)
        tables = data.get(f"{prefix}_tables")
        if not isinstance(tables, list) or len(tables) != len(labels):
            raise InvalidInput(f"{kind}: data.{prefix}_tables must hold one table per class label "
                               f"({len(labels)}), got {_short(tables)}",
                               hint="each table is [[tp, fp, tn, fn], ...], one row per threshold")
        for index, table in enumerate(tables):
            _grid(table, len(thresholds), 4, f"data.{prefix}_tables[{index}]", kind)


def _predictions(data: Mapping[str, Any]) -> None:
    kind = "predictions"
    edges = _numbers(data, "bin_edges", kind)
    if len(edges) < 2:
        raise InvalidInput(f"{kind}: data.bin_edges needs at least 2 edges", hint="one more edge than bins")
    for key in ("bin_averages", "bin_errors", "bin_counts"):
        _numbers(data, key, kind, length=len(edges) - 1)


def _residuals(data: Mapping[str, Any]) -> None:
    kind = "residuals"
    edges = _numbers(data, "bin_edges", kind)
    if len(edges) < 2:
        raise InvalidInput(f"{kind}: data.bin_edges needs at least 2 edges", hint="one more edge than counts")
    _numbers(data, "bin_counts", kind, length=len(edges) - 1)


_CHECKS = {"confusion_matrix": _confusion_matrix, "accuracy_table": _accuracy_table,
           "predictions": _predictions, "residuals": _residuals}


def check_v1(kind: str, value: Any) -> dict[str, Any]:
    """``value`` (a dict, or its JSON text, as v1 took) checked against v1's ``kind`` shape.

    The shape is ``{"schema_type": kind, "schema_version": "1.0.0", "data": {...}}``; a bad shape raises
    InvalidInput saying which field is wrong. Returns the dict (parsed, when text was given)."""
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise InvalidInput(f"{kind}: the value is not valid JSON: {exc}") from None
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{kind}: the value must be a dict (or its JSON text), not {type(value).__name__}",
                           hint=f'{{"schema_type": "{kind}", "schema_version": "1.0.0", "data": {{...}}}}')
    extra = set(value) - {"schema_type", "schema_version", "data"}
    if extra:
        raise InvalidInput(f"{kind}: unknown field(s) {sorted(extra)}", hint="give schema_type, schema_version, data")
    if value.get("schema_type") != kind:
        raise InvalidInput(f"{kind}: schema_type must be {kind!r}, got {_short(value.get('schema_type'))}",
                           hint=f"log a {value.get('schema_type')} with its own log_ method")
    version = value.get("schema_version")
    if not isinstance(version, str) or not version or len(version) > 32:
        raise InvalidInput(f"{kind}: schema_version must be a short string such as '1.0.0', got {_short(version)}")
    data = value.get("data")
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{kind}: data must be an object, got {_short(data)}")
    encoded, _ = encode_nested(dict(value))  # numpy arrays -> lists, non-finite -> markers, for the checks
    _CHECKS[kind](encoded["data"])
    return dict(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
