"""``azureml.monitoring`` provided by jupyter-aml: ``ModelDataCollector`` for scoring scripts (see
jupyter_aml/sdk/monitoring.py and docs/data-collection.md)."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["ModelDataCollector"]
SOURCE = "jupyter_aml.sdk.monitoring"


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
