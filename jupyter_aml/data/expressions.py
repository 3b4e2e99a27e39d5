"""Filter expressions: v1's ``ds['age'] > 30``, as a small JSON tree of comparisons, ``&``, ``|`` and ``~`` on
columns and constants. Stdlib only (the SDK builds them at import-free cost); data/transforms.py evaluates them
with pyarrow.compute."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jupyter_aml.errors import InvalidInput


class Expression:
    """A filter expression: v1's ``ds['age'] > 30``, ``(ds['a'] > 1) & (ds['b'] == 'x')``, ``~expr``."""

    def __init__(self, tree: dict[str, Any]) -> None:
        self.tree = tree

    def _cmp(self, op: str, other: Any) -> Expression:
        return Expression({"op": op, "args": [self.tree, _operand(other)]})

    def __eq__(self, other: Any) -> Expression:  # type: ignore[override]
        return self._cmp("eq", other)

    def __ne__(self, other: Any) -> Expression:  # type: ignore[override]
        return self._cmp("ne", other)

    def __gt__(self, other: Any) -> Expression:
        return self._cmp("gt", other)

    def __ge__(self, other: Any) -> Expression:
        return self._cmp("ge", other)

    def __lt__(self, other: Any) -> Expression:
        return self._cmp("lt", other)

    def __le__(self, other: Any) -> Expression:
        return self._cmp("le", other)

    def __and__(self, other: Expression) -> Expression:
        return Expression({"op": "and", "args": [self.tree, _operand(other)]})

    def __or__(self, other: Expression) -> Expression:
        return Expression({"op": "or", "args": [self.tree, _operand(other)]})

    def __invert__(self) -> Expression:
        return Expression({"op": "not", "args": [self.tree]})

    def __bool__(self) -> bool:
        raise TypeError("a dataset expression has no truth value: combine with &, | and ~, not and/or/not")

    __hash__ = None  # type: ignore[assignment]

    def starts_with(self, prefix: str) -> Expression:
        return self._cmp("starts_with", prefix)

    def ends_with(self, suffix: str) -> Expression:
        return self._cmp("ends_with", suffix)

    def contains(self, text: str) -> Expression:
        return self._cmp("contains", text)

    def is_null(self) -> Expression:
        return Expression({"op": "is_null", "args": [self.tree]})

    def isin(self, values: Sequence[Any]) -> Expression:
        return Expression({"op": "isin", "args": [self.tree, {"values": [_constant(v) for v in values]}]})

    def __repr__(self) -> str:
        return f"Expression({self.tree!r})"


def column(name: str) -> Expression:
    return Expression({"col": name})


def _constant(value: Any) -> Any:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    raise InvalidInput(f"a filter compares with numbers, strings, booleans or None, not {type(value).__name__}")


def _operand(value: Any) -> dict[str, Any]:
    if isinstance(value, Expression):
        return value.tree
    return {"lit": _constant(value)}
