"""``azureml.core`` provided by jupyter-aml: the v1 names map to ``jupyter_aml.sdk``, imported lazily."""

from typing import Any

from azureml.core._lazy import resolve, shim_version

# "1.61.0+jupyter.aml.<jupyter-aml version>": the v1 API level, then what this is (docs/v1-compatibility.md)
VERSION = __version__ = shim_version()
__all__ = ["ComputeTarget", "Dataset", "Datastore", "Environment", "Experiment", "InferenceConfig", "Keyvault",
           "Model", "Run",
           "RunConfiguration", "ScriptRun", "ScriptRunConfig", "Workspace"]


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
