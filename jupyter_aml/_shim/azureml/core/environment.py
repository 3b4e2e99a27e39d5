"""``azureml.core.environment`` provided by jupyter-aml (see azureml.core and docs/environments.md)."""

import importlib
from typing import Any

# name -> the jupyter_aml.sdk module that defines it
_HOMES = {
    "Environment": "environment",
    "PythonSection": "environment",
    "DockerSection": "environment",
    "ContainerRegistry": "environment",
    "CondaDependencies": "conda",
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
