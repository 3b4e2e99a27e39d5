"""``azureml.core.authentication`` provided by jupyter-aml (see azureml.core):
v1 credentials, mapped to this service's token."""

from typing import Any

from azureml.core._lazy import resolve

__all__ = [  # noqa: F822 - resolved lazily by __getattr__
    "AbstractAuthentication",
    "AuthenticationException",
    "AzureCliAuthentication",
    "InteractiveLoginAuthentication",
    "MsiAuthentication",
    "ServicePrincipalAuthentication",
    "TokenAuthentication",
]
SOURCE = "jupyter_aml.sdk.authentication"  # the jupyter-aml module that holds these names


def __getattr__(name: str) -> Any:
    value = resolve(__name__, name, tuple(__all__), SOURCE)
    globals()[name] = value
    return value
