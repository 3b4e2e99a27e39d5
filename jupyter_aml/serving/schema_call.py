"""How a replica calls a scoring script's ``run()``: with the raw JSON text, or, for a ``run()`` decorated
with inference-schema's ``@input_schema`` / ``@output_schema``, with the request's JSON object as keyword
arguments. Standard library only (it runs in the scoring environment, beside ``replica.py``).

Azure ML v1's scoring server made this distinction, and v1 scoring scripts rely on it: a decorated
``run(data)`` expects ``{"data": [[...]]}`` to arrive as ``run(data=[[...]])``, which the decorator then
converts to the declared type (a numpy array, a pandas DataFrame, ...). Called with the raw text instead,
the conversion fails on every request.

The schema itself is read through inference-schema's own accessors (``schema_util.get_input_schema`` and
friends), which look the function up in the registry the decorators fill at import time: nothing is
imported here unless the scoring script imported inference-schema itself.
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass, field
from types import CodeType, TracebackType
from typing import Any

SCHEMA_UTIL = "inference_schema.schema_util"


class BadScoringInput(ValueError):
    """The request does not fit the decorated ``run()``: answered 400 with this message."""


@dataclass
class RunSchema:
    """What a decorated ``run()`` declares: the swagger schemas of its input object and of its output."""

    input: dict[str, Any]
    output: dict[str, Any]
    versions: list[str]
    parameters: list[str] = field(default_factory=list)  # run()'s parameter names, in order
    required: list[str] = field(default_factory=list)  # those without a default
    takes_any: bool = False  # run(**kwargs): any key is a parameter

    def as_dict(self) -> dict[str, Any]:
        return {"decorated": True, "input": self.input, "output": self.output, "versions": self.versions}


def read_schema(run_fn: Any) -> RunSchema | None:
    """The schema a decorated ``run()`` declares, or None when it is not decorated (or inference-schema was
    never imported by the scoring script, so it cannot be)."""
    util = sys.modules.get(SCHEMA_UTIL)
    if util is None:
        return None
    if not util.is_schema_decorated(run_fn):
        return None
    inner = inspect.unwrap(run_fn)
    parameters, required, takes_any = [], [], False
    for p in inspect.signature(inner).parameters.values():
        if p.kind is p.VAR_KEYWORD:
            takes_any = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            parameters.append(p.name)
            if p.default is p.empty:
                required.append(p.name)
    versions = list(util.get_supported_versions(run_fn)) if hasattr(util, "get_supported_versions") else ["2.0"]
    return RunSchema(input=dict(util.get_input_schema(run_fn)), output=dict(util.get_output_schema(run_fn)),
                     versions=versions, parameters=parameters, required=required, takes_any=takes_any)


def keyword_arguments(schema: RunSchema, data: Any) -> dict[str, Any]:
    """The request's JSON value as ``run()``'s keyword arguments; ``BadScoringInput`` says what is wrong."""
    if not isinstance(data, dict):
        raise BadScoringInput(
            f"run() declares an input schema, so the request must be a JSON object whose keys are its parameters "
            f"({', '.join(schema.parameters) or 'none'}), not a JSON {type(data).__name__}"
        )
    unknown = [k for k in data if k not in schema.parameters]
    if unknown and not schema.takes_any:
        raise BadScoringInput(f"run() has no parameter {', '.join(map(repr, unknown))}; it takes "
                              f"{', '.join(schema.parameters) or 'no parameters'}")
    missing = [p for p in schema.required if p not in data]
    if missing:
        raise BadScoringInput(f"the request lacks {', '.join(map(repr, missing))}, which run() requires")
    return data


def failed_before_user_code(exc: BaseException, run_fn: Any) -> bool:
    """True when ``exc`` was raised while the decorators converted the input, before the user's own
    ``run()`` body started: the request did not fit the declared type (a 400, not the script's failure)."""
    code: CodeType | None = getattr(inspect.unwrap(run_fn), "__code__", None)
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is code:
            return False
        tb = tb.tb_next
    return code is not None
