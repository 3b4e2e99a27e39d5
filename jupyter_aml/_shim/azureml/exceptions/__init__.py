"""``azureml.exceptions`` provided by jupyter-aml: v1 scripts catch these names; they are the project's errors.

Each name is the class the SDK raises (an alias or a base of it), so ``except WebserviceException`` catches
what a web service call raises here. ``UserErrorException`` catches every 4xx answer (bad input, unknown ids,
refused access, conflicts); ``AzureMLException`` catches everything the project raises on purpose. The table
in docs/v1-compatibility.md ("Workspace and authentication") says which class each name is.
"""

from __future__ import annotations

import importlib
from typing import Any

# v1 name -> (module, class) in jupyter-aml; resolved on first use so that importing this module stays light
_WHERE = {
    "AzureMLException": ("jupyter_aml.errors", "AMLError"),
    "UserErrorException": ("jupyter_aml.errors", "UserError"),
    "ServiceException": ("jupyter_aml.errors", "ServiceUnavailable"),
    "AuthenticationException": ("jupyter_aml.sdk.authentication", "AuthenticationException"),
    "SnapshotException": ("jupyter_aml.errors", "SnapshotTooLarge"),
    # v1 raised it for any failed submission; here submissions fail with the typed errors, all AMLErrors
    "ExperimentExecutionException": ("jupyter_aml.errors", "AMLError"),
    "ActivityFailedException": ("jupyter_aml.sdk.run", "ActivityFailedException"),
    "RunEnvironmentException": ("jupyter_aml.sdk.run", "RunEnvironmentException"),
    "ComputeTargetException": ("jupyter_aml.sdk.compute", "ComputeTargetException"),
    "ModelNotFoundException": ("jupyter_aml.sdk.model", "ModelNotFound"),
    "ModelPathNotFoundException": ("jupyter_aml.sdk.model", "ModelNotFound"),
    "WebserviceException": ("jupyter_aml.sdk.model", "WebserviceException"),
    "WorkspaceException": ("jupyter_aml.sdk.workspace", "WorkspaceException"),
    "ProjectSystemException": ("jupyter_aml.sdk.workspace", "ProjectSystemException"),
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}: the jupyter-aml azureml shim does "
                             "not provide it (see docs/v1-compatibility.md)")
    module, attr = _WHERE[name]
    try:
        value = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        raise ImportError(f"{module}.{attr} is missing: jupyter-aml cannot provide azureml.exceptions.{name}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
