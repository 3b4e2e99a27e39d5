"""``azureml.core.compute_target`` provided by jupyter-aml (see azureml.core): v1 scripts catch
``ComputeTargetException`` from here when a target does not exist."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["ComputeTargetException"]  # noqa: F822 - resolved lazily by __getattr__


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__))
    globals()[name] = value
    return value
