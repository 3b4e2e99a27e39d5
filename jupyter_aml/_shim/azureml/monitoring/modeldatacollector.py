"""``azureml.monitoring.modeldatacollector`` provided by jupyter-aml (see azureml.monitoring)."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["ModelDataCollector"]  # noqa: F822 - resolved lazily by __getattr__
SOURCE = "jupyter_aml.sdk.monitoring"


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
