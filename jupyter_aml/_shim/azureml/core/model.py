"""``azureml.core.model`` provided by jupyter-aml (see azureml.core): scoring scripts call
``Model.get_model_path(name)``; notebooks register and deploy."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = ["InferenceConfig", "Model"]  # noqa: F822 - resolved lazily by __getattr__


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__))
    globals()[name] = value
    return value
