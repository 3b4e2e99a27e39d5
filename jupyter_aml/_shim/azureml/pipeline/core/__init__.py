"""``azureml.pipeline.core`` provided by jupyter-aml (see azureml.core): pipelines, their data, parameters
and runs (docs/pipelines.md)."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = [
    "Pipeline",
    "PipelineData",
    "PipelineParameter",
    "PipelineRun",
    "PipelineStep",
    "PortDataReference",
    "StepRun",
    "StepSequence",
]
SOURCE = "jupyter_aml.sdk.pipeline"  # the jupyter-aml module that holds these names


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
