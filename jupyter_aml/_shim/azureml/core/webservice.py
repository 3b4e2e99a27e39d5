"""``azureml.core.webservice`` provided by jupyter-aml (see azureml.core)."""

from typing import Any

from azureml.core._lazy import resolve

# resolved lazily by __getattr__
__all__ = ["AciWebservice", "AksWebservice", "LocalWebservice", "Webservice"]  # noqa: F822


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__))
    globals()[name] = value
    return value
