"""``azureml.core.conda_dependencies`` provided by jupyter-aml: ``CondaDependencies``, whose conda packages are
installed from PyPI here (docs/environments.md)."""

from typing import Any

__all__ = ["CondaDependencies"]  # noqa: F822 - resolved lazily by __getattr__


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r} (jupyter-aml shim)")
    from jupyter_aml.sdk import conda

    value = getattr(conda, name)
    globals()[name] = value
    return value
