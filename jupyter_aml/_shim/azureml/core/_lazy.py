"""Resolve shim names from ``jupyter_aml.sdk`` on first use (importing it is deferred to that moment)."""

from __future__ import annotations

import importlib
from typing import Any


def resolve(module: str, name: str, names: tuple[str, ...]) -> Any:
    if name not in names:
        raise AttributeError(f"module {module!r} has no attribute {name!r} (jupyter-aml shim)")
    sdk = importlib.import_module("jupyter_aml.sdk")
    try:
        return getattr(sdk, name)
    except AttributeError:
        raise ImportError(f"jupyter_aml.sdk does not provide {name!r}, needed by the azureml shim") from None
