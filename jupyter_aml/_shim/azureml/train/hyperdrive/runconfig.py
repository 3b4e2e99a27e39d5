"""``azureml.train.hyperdrive.runconfig`` provided by jupyter-aml (see azureml.core)."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = [  # noqa: F822 - resolved lazily by __getattr__
    "HyperDriveConfig",
    "PrimaryMetricGoal",
]
SOURCE = "jupyter_aml.sdk.hyperdrive.runconfig"  # the jupyter-aml module that holds these names


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
