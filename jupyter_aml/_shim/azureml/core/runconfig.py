"""``azureml.core.runconfig`` provided by jupyter-aml: ``DockerConfiguration`` (see docs/docker-runs.md)."""

from typing import Any

__all__ = ["DockerConfiguration"]  # noqa: F822 - resolved lazily by __getattr__


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r} (jupyter-aml shim)")
    from jupyter_aml.sdk import runconfig

    value = getattr(runconfig, name)
    globals()[name] = value
    return value
