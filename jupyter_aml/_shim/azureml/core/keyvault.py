"""``azureml.core.keyvault`` provided by jupyter-aml (see azureml.core): the workspace's key vault,
``Keyvault(ws)`` or ``ws.get_default_keyvault()``."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["Keyvault"]  # noqa: F822 - resolved lazily by __getattr__


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__))
    globals()[name] = value
    return value
