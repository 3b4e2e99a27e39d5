"""``azureml.data.abstract_datastore`` provided by jupyter-aml (see azureml.core): every datastore's base."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["AbstractDatastore"]  # noqa: F822 - resolved lazily by __getattr__
SOURCE = "jupyter_aml.sdk.datastore"  # the jupyter-aml module that holds these names


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
