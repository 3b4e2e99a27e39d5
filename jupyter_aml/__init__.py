"""jupyter-aml: a self-hosted machine-learning workspace inside JupyterLab, with Azure ML v1 names.

Kept import-light: ``Run.get_context()`` inside a training script must not pull in the server stack.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing costs ~10 ms, and jupyter_aml_azureml.pth imports us
if TYPE_CHECKING:
    from typing import Any

try:
    from jupyter_aml._version import __version__ as __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.1.0.dev0"

_SDK_NAMES = {"Workspace", "Experiment", "Run", "ScriptRunConfig", "Environment", "Model",
              "InferenceConfig", "Webservice", "LocalWebservice"}


def __getattr__(name: str) -> Any:
    if name in _SDK_NAMES:
        from jupyter_aml import sdk

        return getattr(sdk, name)
    raise AttributeError(name)


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from jupyter_aml.server.extension import AMLExtension

    return [{"module": "jupyter_aml", "app": AMLExtension}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "../labextension", "dest": "jupyter-aml"}]  # built at the repository top


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_aml`` registers the %aml_* magics."""
    from jupyter_aml.magics import register

    register(ipython)
