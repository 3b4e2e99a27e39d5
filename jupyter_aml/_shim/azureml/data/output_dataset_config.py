"""``azureml.data.output_dataset_config``, provided by jupyter-aml (docs/datasets.md):
OutputFileDatasetConfig."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["OutputFileDatasetConfig"]  # noqa: F822 - resolved lazily by __getattr__
SOURCE = "jupyter_aml.sdk.dataset_consumption"  # the jupyter-aml module that holds these names


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
