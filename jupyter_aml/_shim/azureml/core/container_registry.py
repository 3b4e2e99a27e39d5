"""``azureml.core.container_registry`` provided by jupyter-aml: ``ContainerRegistry`` (only its address is used:
images are never pulled here; see docs/environments.md)."""

from jupyter_aml.sdk.environment import ContainerRegistry

__all__ = ["ContainerRegistry"]
