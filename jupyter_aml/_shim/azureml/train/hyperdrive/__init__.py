"""``azureml.train.hyperdrive`` provided by jupyter-aml (see azureml.core): HyperDrive sweeps as v1 wrote them.

Names resolve from
``jupyter_aml.sdk.hyperdrive`` on first use
(importing it is deferred to that moment).
"""

import importlib
from typing import Any

__all__ = [
    "BanditPolicy",
    "BayesianParameterSampling",
    "EarlyTerminationPolicy",
    "GridParameterSampling",
    "HyperDriveConfig",
    "HyperDriveRun",
    "HyperParameterSampling",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "PrimaryMetricGoal",
    "RandomParameterSampling",
    "TruncationSelectionPolicy",
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
SOURCE = "jupyter_aml.sdk.hyperdrive"


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r} (jupyter-aml shim)")
    value = getattr(importlib.import_module(SOURCE), name)
    globals()[name] = value
    return value
