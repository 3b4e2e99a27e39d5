"""``azureml.data.dataset_factory``, provided by jupyter-aml (docs/datasets.md):
the dataset factories and DataType for set_column_types."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["DataType", "FileDatasetFactory", "TabularDatasetFactory"]  # noqa: F822 - resolved lazily by __getattr__
SOURCE = "jupyter_aml.sdk.dataset"  # the jupyter-aml module that holds these names


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
