"""``azureml.pipeline.core.run`` provided by jupyter-aml: v1's module of ``PipelineRun`` and ``StepRun``."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["PipelineRun", "StepRun"]  # noqa: F822 - resolved lazily by __getattr__
SOURCE = "jupyter_aml.sdk.pipeline"


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
