"""``azureml.pipeline.core.published_pipeline`` provided by jupyter-aml: v1's module of
``PublishedPipeline`` (docs/pipelines.md)."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["PublishedPipeline"]  # noqa: F822 - resolved lazily by __getattr__
SOURCE = "jupyter_aml.sdk.pipeline_publish"


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
