"""``azureml.core.runconfig`` provided by jupyter-aml: ``RunConfiguration`` and ``DockerConfiguration``
(docs/environments.md, docs/docker-runs.md)."""

import importlib
from typing import Any

# name -> the jupyter_aml.sdk module that defines it
_HOMES = {
    "PyTorchConfiguration": "distributed",  # docs/distributed.md
    "MpiConfiguration": "distributed",
    "TensorflowConfiguration": "distributed",
    "DockerConfiguration": "runconfig",
    "RunConfiguration": "run_configuration",
    "HistoryConfiguration": "run_configuration",
    "AmlComputeConfiguration": "run_configuration",
    "DEFAULT_CPU_IMAGE": "run_configuration",
    "DEFAULT_GPU_IMAGE": "run_configuration",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r} (jupyter-aml shim)")
    value = getattr(importlib.import_module(f"jupyter_aml.sdk.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
