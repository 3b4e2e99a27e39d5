"""``azureml.pipeline.steps`` provided by jupyter-aml (see azureml.core): the step types (docs/pipelines.md)."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["CommandStep", "ParallelRunConfig", "ParallelRunStep", "PythonScriptStep"]
SOURCE = "jupyter_aml.sdk.pipeline"


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
