"""Where jupyter-aml's ``azureml`` shim joins the ``azureml`` namespace, in every interpreter of the environment.

Two ways in, so the shim survives whatever another ``azureml-*`` distribution does to the shared
``azureml/__init__.py`` (docs/v1-compatibility.md, "Importing azureml"):

- our ``azureml/__init__.py`` calls :func:`extend_with_shim` when ``azureml`` is imported;
- ``jupyter_aml_azureml.pth`` (in site-packages) calls :func:`install_fallback` at interpreter start: a
  finder consulted *last*, so it only acts when ``azureml`` or one of its subpackages was not found. That is
  the case when Azure's own one-line ``azureml/__init__.py`` overwrote ours (say ``pip install azureml-mlflow``
  after jupyter-aml), or when uninstalling such a package removed the shared file.

Both apply one rule: the shim folder goes *last* in ``azureml.__path__``, and never when a real ``azureml/core``
is on ``sys.path`` (the real SDK is used whole, never mixed). Stdlib only and cheap: the ``.pth`` runs this
at every interpreter start.
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import ModuleSpec, PathFinder

TYPE_CHECKING = False  # typing and collections stay unimported: the .pth runs this module at every start
if TYPE_CHECKING:
    from collections.abc import MutableSequence, Sequence
    from types import ModuleType

SHIM_PORTION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_shim", "azureml")


def _real_core_present(portions: Sequence[str]) -> bool:
    return any(os.path.isdir(os.path.join(p, "core")) for p in portions)


def extend_with_shim(path: MutableSequence[str]) -> bool:
    """Append the shim folder to an ``azureml.__path__`` (True when it was appended now)."""
    real_shim = os.path.realpath(SHIM_PORTION)
    portions = [p for p in path if os.path.realpath(p) != real_shim]
    if len(portions) != len(path):  # already a portion (PYTHONPATH in a run, or appended before): keep the order
        return False
    if _real_core_present(portions):
        return False  # a real azureml.core: the real SDK, whole
    path.append(SHIM_PORTION)
    return True


class ShimFallbackFinder:
    """The last ``sys.meta_path`` entry: finds ``azureml`` names only after every other finder has missed them."""

    @classmethod
    def find_spec(cls, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname == "azureml":  # no azureml folder anywhere on sys.path: the shim's own package
            return PathFinder.find_spec(fullname, [os.path.dirname(SHIM_PORTION)])
        if not fullname.startswith("azureml.") or fullname.count(".") != 1:
            return None  # deeper names follow their parent's __path__, which already leads into the shim
        package = sys.modules.get("azureml")
        package_path = getattr(package, "__path__", None)
        if package_path is None or not extend_with_shim(package_path):
            return None
        return PathFinder.find_spec(fullname, [SHIM_PORTION])

    @classmethod
    def invalidate_caches(cls) -> None:
        """Nothing cached here (importlib asks every meta-path finder)."""


def install_fallback() -> None:
    """Called by ``jupyter_aml_azureml.pth``; appending twice is harmless but avoided."""
    if ShimFallbackFinder not in sys.meta_path:
        sys.meta_path.append(ShimFallbackFinder)
