"""``azureml.data`` provided by jupyter-aml (see azureml.core): its submodules hold the v1 names
(``azureml.data.datapath.DataPath``, ``azureml.data.azure_storage_datastore.AzureBlobDatastore``, ...)."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["DataType", "FileDataset", "OutputFileDatasetConfig", "TabularDataset"]
SOURCE = "jupyter_aml.sdk"


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
