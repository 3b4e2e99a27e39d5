"""``azureml.widgets`` provided by jupyter-aml (see azureml.core): ``RunDetails(run).show()`` is the live run view."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["RunDetails"]
SOURCE = "jupyter_aml.widgets"  # the jupyter-aml module that holds these names


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
