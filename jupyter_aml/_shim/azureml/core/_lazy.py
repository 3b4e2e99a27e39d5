"""Resolve shim names from jupyter-aml's SDK on first use (importing the SDK is deferred to that moment).

Every shim module follows one pattern, so that filling one in is adding a name to its ``__all__``::

    __all__ = ["HyperDriveConfig"]  # noqa: F822 - resolved lazily by __getattr__
    SOURCE = "jupyter_aml.sdk.hyperdrive"

    def __getattr__(name: str) -> Any:
        value = resolve(__name__, name, tuple(__all__), SOURCE)
        globals()[name] = value
        return value

A name outside ``__all__`` raises ``AttributeError`` naming the shim (``from M import X`` turns it into
Python's ``ImportError: cannot import name``, whose path shows ``jupyter_aml/_shim``); a listed name whose
SDK module or class does not exist yet raises ``ImportError`` saying what is missing.
"""

from __future__ import annotations

import importlib
from typing import Any

# The azureml-core release whose public API the shim follows (the last v1 release): VERSION starts with it.
V1_API_VERSION = "1.61.0"
DOCS = "docs/v1-compatibility.md"


def shim_version() -> str:
    """``azureml.core.VERSION``: a v1-like version that says what it is, e.g. ``1.61.0+jupyter.aml.0.1.0``.

    A PEP 440 version (``packaging.version.Version`` parses it, and compares it as 1.61.0 with a local label),
    and a str, as v1 code that compares ``VERSION`` with strings expects."""
    try:
        from jupyter_aml import __version__ as ours
    except ImportError:  # pragma: no cover - the shim folder without its package
        ours = "0"
    label = ".".join(part for part in ours.replace("-", ".").replace("_", ".").split(".") if part.isalnum())
    return f"{V1_API_VERSION}+jupyter.aml.{label or '0'}"


def resolve(module: str, name: str, names: tuple[str, ...], source: str = "jupyter_aml.sdk") -> Any:
    if name not in names:
        raise AttributeError(
            f"module {module!r} has no attribute {name!r}: the jupyter-aml azureml shim does not provide it "
            f"(the v1 names it provides are listed in {DOCS})"
        )
    try:
        sdk = importlib.import_module(source)
    except ModuleNotFoundError as exc:
        if exc.name is None or not source.startswith(exc.name):
            raise
        raise ImportError(
            f"{module}.{name} is not provided by this jupyter-aml yet ({source} is missing), needed by the "
            f"azureml shim; see {DOCS}"
        ) from None
    try:
        return getattr(sdk, name)
    except AttributeError:
        raise ImportError(
            f"{source} does not provide {name!r}, needed by the azureml shim for {module}.{name}; see {DOCS}"
        ) from None
