"""Notebook parameters, papermill's rules: shared by the notebook runner (agent) and ``%%aml_submit -p``."""

from __future__ import annotations

import ast
import keyword
from typing import Any

__all__ = ["check_name", "parameters_source", "parse_value"]


def parse_value(text: str) -> Any:
    """papermill's ``-p`` rule: a Python literal when it is one (1, 0.5, True, None, [1, 2]), else a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def check_name(name: str) -> str:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"parameter name {name!r} is not a Python identifier")
    return name


def parameters_source(params: dict[str, Any]) -> str:
    """The injected-parameters cell: one ``name = repr(value)`` line per parameter."""
    return "# Parameters\n" + "".join(f"{check_name(k)} = {v!r}\n" for k, v in params.items())
