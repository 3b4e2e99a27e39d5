"""``azureml.core`` provided by jupyter-aml: the v1 names map to ``jupyter_aml.sdk``, imported lazily."""

from typing import Any

from azureml.core._lazy import resolve

__version__ = "jupyter-aml-shim"
__all__ = ["ComputeTarget", "Environment", "Experiment", "InferenceConfig", "Model", "Run", "ScriptRunConfig",
           "Workspace"]


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
