"""``azureml.train.hyperdrive.parameter_expressions`` provided by jupyter-aml.

Names resolve from
``jupyter_aml.sdk.hyperdrive.parameter_expressions`` on first use
(importing it is deferred to that moment).
"""
# ruff: noqa: F822 - the names of __all__ are resolved lazily by __getattr__

import importlib
from typing import Any

__all__ = [
    "choice",
    "lognormal",
    "loguniform",
    "normal",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
]
SOURCE = "jupyter_aml.sdk.hyperdrive.parameter_expressions"


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r} (jupyter-aml shim)")
    value = getattr(importlib.import_module(SOURCE), name)
    globals()[name] = value
    return value
