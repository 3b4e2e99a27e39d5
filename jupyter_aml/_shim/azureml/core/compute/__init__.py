"""``azureml.core.compute`` provided by jupyter-aml (see azureml.core): the compute targets this workspace has."""

from typing import Any

from azureml.core._lazy import resolve

# resolved lazily by __getattr__
__all__ = ["AksCompute", "AmlCompute", "ComputeInstance", "ComputeTarget"]  # AksCompute: refused, see webservice_config


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__))
    globals()[name] = value
    return value
