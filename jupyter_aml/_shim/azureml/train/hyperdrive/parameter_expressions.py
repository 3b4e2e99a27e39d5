"""``azureml.train.hyperdrive.parameter_expressions`` provided by jupyter-aml (see azureml.core)."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = [  # noqa: F822 - resolved lazily by __getattr__
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
SOURCE = "jupyter_aml.sdk.hyperdrive.parameter_expressions"  # the jupyter-aml module that holds these names


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
