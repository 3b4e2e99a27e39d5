"""``azureml.train.hyperdrive.policy`` provided by jupyter-aml.

Names resolve from
``jupyter_aml.sdk.hyperdrive.policy`` on first use
(importing it is deferred to that moment).
"""
# ruff: noqa: F822 - the names of __all__ are resolved lazily by __getattr__

import importlib
from typing import Any

__all__ = [
    "BanditPolicy",
    "EarlyTerminationPolicy",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "TruncationSelectionPolicy",
]
SOURCE = "jupyter_aml.sdk.hyperdrive.policy"


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r} (jupyter-aml shim)")
    value = getattr(importlib.import_module(SOURCE), name)
    globals()[name] = value
    return value
