"""A dataset's transformations, as the definition keeps them (JSON steps), applied to a pyarrow Table or to a
FileDataset's list of files.

v1 chains ``take``, ``skip``, ``random_split``, ``keep_columns``, ``drop_columns`` and ``filter`` lazily; here each
is a step of the definition (so that two equal chains are the same definition, and the same version), applied
in order when the data is read. ``random_split`` and ``take_sample`` draw one number per row from numpy's
generator seeded by the step's seed: the same seed over the same rows always makes the same split, and the
two halves of a split are exact complements.

``ds['col'] > 5`` builds an ``Expression`` (data/expressions.py) that ``filter`` evaluates with pyarrow.compute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jupyter_aml.data.expressions import Expression, column
from jupyter_aml.errors import InvalidInput

__all__ = ["Expression", "apply_list", "apply_table", "check_steps", "column", "evaluate"]

COMPARISONS = {"eq": "equal", "ne": "not_equal", "gt": "greater", "ge": "greater_equal", "lt": "less",
               "le": "less_equal"}
STRING_TESTS = {"starts_with": "starts_with", "ends_with": "ends_with", "contains": "match_substring"}
TABLE_STEPS = ("take", "skip", "keep_columns", "drop_columns", "filter", "random_split", "take_sample")
FILE_STEPS = ("take", "skip", "random_split", "take_sample")
T = TypeVar("T")


# -- evaluation -------------------------------------------------------------------------------------------
def evaluate(tree: Mapping[str, Any], table: pa.Table) -> Any:
    if "col" in tree:
        name = tree["col"]
        if name not in table.column_names:
            raise InvalidInput(f"the filter names column {name!r}, which the dataset does not have",
                               hint="its columns are " + ", ".join(table.column_names))
        return table.column(name)
    if "lit" in tree:
        return tree["lit"]
    op, args = tree.get("op"), tree.get("args") or []
    try:
        if op in COMPARISONS and len(args) == 2:
            return getattr(pc, COMPARISONS[op])(evaluate(args[0], table), evaluate(args[1], table))
        if op in STRING_TESTS and len(args) == 2:
            pattern = evaluate(args[1], table)
            return getattr(pc, STRING_TESTS[op])(evaluate(args[0], table), pattern=str(pattern))
        if op in ("and", "or") and len(args) == 2:
            fn = pc.and_kleene if op == "and" else pc.or_kleene
            return fn(evaluate(args[0], table), evaluate(args[1], table))
        if op == "not" and len(args) == 1:
            return pc.invert(evaluate(args[0], table))
        if op == "is_null" and len(args) == 1:
            return pc.is_null(evaluate(args[0], table))
        if op == "isin" and len(args) == 2:
            return pc.is_in(evaluate(args[0], table), value_set=pa.array(args[1].get("values", [])))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise InvalidInput(f"the filter cannot compare these values: {exc}",
                           hint="compare a column with a constant of its type (numbers with numbers)") from None
    raise InvalidInput(f"not a filter expression: {dict(tree)!r}")


def _mask(rows: int, fraction: float, seed: int) -> np.ndarray[Any, np.dtype[np.bool_]]:
    draws = np.random.default_rng(seed).random(rows)
    return draws < fraction


def _fraction(step: Mapping[str, Any], key: str) -> float:
    value = step.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= float(value) <= 1:
        raise InvalidInput(f"{step.get('op')}: {key} must be a number between 0 and 1, not {value!r}")
    return float(value)


def _seed(step: Mapping[str, Any]) -> int:
    seed = step.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InvalidInput(f"{step.get('op')}: seed must be a non-negative integer, not {seed!r}")
    return seed


def _count(step: Mapping[str, Any]) -> int:
    count = step.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise InvalidInput(f"{step.get('op')}: count must be a non-negative integer, not {count!r}")
    return count


def check_steps(steps: Sequence[Mapping[str, Any]], *, kind: str) -> None:
    """Refuse an unknown or malformed step before it is stored in a definition."""
    allowed = TABLE_STEPS if kind == "tabular" else FILE_STEPS
    for step in steps:
        op = step.get("op")
        if op not in allowed:
            raise InvalidInput(f"{op!r} is not a transformation of a {kind} dataset",
                               hint="one of " + ", ".join(allowed))
        if op in ("take", "skip"):
            _count(step)
        elif op in ("keep_columns", "drop_columns"):
            cols = step.get("columns")
            if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
                raise InvalidInput(f"{op}: columns must be a list of column names")
        elif op == "random_split":
            _fraction(step, "percentage")
            _seed(step)
            if step.get("part") not in (0, 1):
                raise InvalidInput("random_split: part must be 0 or 1")
        elif op == "take_sample":
            _fraction(step, "probability")
            _seed(step)
        elif op == "filter" and not isinstance(step.get("expression"), Mapping):
            raise InvalidInput("filter: expression must be an expression tree")


def apply_table(table: pa.Table, steps: Sequence[Mapping[str, Any]]) -> pa.Table:
    check_steps(steps, kind="tabular")
    for step in steps:
        op = step["op"]
        if op == "take":
            table = table.slice(0, _count(step))
        elif op == "skip":
            table = table.slice(min(_count(step), table.num_rows))
        elif op == "keep_columns":
            missing = [c for c in step["columns"] if c not in table.column_names]
            if missing:
                raise InvalidInput(f"keep_columns names {missing}, which the dataset does not have",
                                   hint="its columns are " + ", ".join(table.column_names))
            table = table.select(list(step["columns"]))
        elif op == "drop_columns":
            table = table.drop_columns([c for c in step["columns"] if c in table.column_names])
        elif op == "filter":
            mask = evaluate(step["expression"], table)
            if not isinstance(mask, (pa.ChunkedArray, pa.Array)) or not pa.types.is_boolean(mask.type):
                raise InvalidInput("the filter expression is not a condition", hint="e.g. ds['age'] > 30")
            table = table.filter(mask, null_selection_behavior="drop")
        else:
            table = table.filter(pa.array(_selected(step, table.num_rows)))
    return table


def _selected(step: Mapping[str, Any], rows: int) -> np.ndarray[Any, np.dtype[np.bool_]]:
    if step["op"] == "random_split":
        first = _mask(rows, _fraction(step, "percentage"), _seed(step))
        return first if step["part"] == 0 else ~first
    return _mask(rows, _fraction(step, "probability"), _seed(step))


def apply_list(items: Sequence[T], steps: Sequence[Mapping[str, Any]]) -> list[T]:
    """The same steps on a FileDataset's files (take, skip, random_split, take_sample)."""
    check_steps(steps, kind="file")
    out = list(items)
    for step in steps:
        if step["op"] == "take":
            out = out[:_count(step)]
        elif step["op"] == "skip":
            out = out[_count(step):]
        else:
            keep = _selected(step, len(out))
            out = [item for item, chosen in zip(out, keep, strict=True) if chosen]
    return out
