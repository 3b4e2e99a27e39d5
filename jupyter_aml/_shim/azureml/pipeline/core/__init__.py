"""``azureml.pipeline.core`` provided by jupyter-aml (see azureml.core): pipelines, their data, parameters
and runs (docs/pipelines.md)."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = [
    "Pipeline",
    "PipelineData",
    "PipelineEndpoint",
    "PipelineParameter",
    "PipelineRun",
    "PipelineStep",
    "PortDataReference",
    "PublishedPipeline",
    "Schedule",
    "ScheduleRecurrence",
    "StepRun",
    "StepSequence",
    "TimeZone",
]
SOURCE = "jupyter_aml.sdk.pipeline"  # the jupyter-aml module that holds these names
# names held elsewhere: publishing (sdk/pipeline_publish.py) and schedules (sdk/schedule.py)
SOURCES = {"PublishedPipeline": "jupyter_aml.sdk.pipeline_publish",
           "PipelineEndpoint": "jupyter_aml.sdk.pipeline_publish",
           "Schedule": "jupyter_aml.sdk.schedule", "ScheduleRecurrence": "jupyter_aml.sdk.schedule",
           "TimeZone": "jupyter_aml.sdk.schedule"}


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCES.get(name, SOURCE))
    globals()[name] = value
    return value
