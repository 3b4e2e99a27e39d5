"""``azureml.data.azure_storage_datastore`` provided by jupyter-aml (see azureml.core): the class of
``ws.get_default_datastore()`` (workspaceblobstore) and of Azure Blob datastores."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["AbstractAzureStorageDatastore", "AzureBlobDatastore"]  # noqa: F822 - resolved lazily by __getattr__
SOURCE = "jupyter_aml.sdk.datastore"  # the jupyter-aml module that holds these names


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
