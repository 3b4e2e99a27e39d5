"""``azureml.core.datastore`` provided by jupyter-aml (see azureml.core): ``Datastore(ws, name)``,
``Datastore.get``, ``register_s3`` / ``register_local`` / ``register_azure_blob_container``."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["Datastore"]  # noqa: F822 - resolved lazily by __getattr__


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__))
    globals()[name] = value
    return value
