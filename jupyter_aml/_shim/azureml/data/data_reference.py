"""``azureml.data.data_reference`` provided by jupyter-aml (see azureml.core): ``DataReference``, as a dataset input."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["DataReference"]  # noqa: F822 - resolved lazily by __getattr__
SOURCE = "jupyter_aml.sdk.pipeline_data_reference"  # the jupyter-aml module that holds these names


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
