"""``azureml.contrib.notebook`` provided by jupyter-aml (see azureml.core): a pipeline step that runs a notebook
with parameters (docs/pipelines.md)."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = [
    "AzureMLNotebookHandler",
    "NotebookExecutionHandler",
    "NotebookRunConfig",
    "NotebookRunnerStep",
    "PapermillExecutionHandler",
]
SOURCE = "jupyter_aml.sdk.pipeline_notebook"


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
