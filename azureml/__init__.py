"""The ``azureml`` namespace as jupyter-aml installs it: Azure ML v1 code (``import azureml.core``) works in
every interpreter of the environment, and a real ``azureml-*`` package always wins.

Why this file exists (docs/v1-compatibility.md, "Importing azureml"): the v1 names live in
``jupyter_aml/_shim/azureml/``. This package only makes that folder the *last* portion of the ``azureml``
namespace:

1. ``pkgutil.extend_path`` adds every ``azureml`` folder on ``sys.path``, the same way Azure's own
   ``azureml/__init__.py`` does (the two files are content-compatible: whichever one a package manager leaves
   in site-packages, the other's packages stay importable);
2. if one of those folders has a ``core`` package (a real ``azureml-core`` is installed, or on PYTHONPATH),
   nothing is added: the real SDK is used whole, never mixed with jupyter-aml's names;
3. otherwise jupyter-aml's shim folder is appended last, so only the subpackages no real distribution
   provides (``azureml.core``, ``azureml.train.hyperdrive``, ...) come from the shim.

No ``.pth`` file and no import hook: nothing runs until some code imports ``azureml``. Stdlib only, and it
does not import ``jupyter_aml`` (finding its folder is enough).
"""

from __future__ import annotations

import os
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)


def _shim_portion() -> str | None:
    """jupyter-aml's ``_shim/azureml`` folder, found without importing ``jupyter_aml``."""
    from importlib.util import find_spec  # a top-level name: found, not imported

    spec = find_spec("jupyter_aml")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = os.path.join(location, "_shim", "azureml")
        if os.path.isfile(os.path.join(candidate, "core", "__init__.py")):
            return candidate
    return None


def _extend_with_shim(path: list[str]) -> None:
    shim = _shim_portion()
    if shim is None:
        return
    real_shim = os.path.realpath(shim)
    portions = [p for p in path if os.path.realpath(p) != real_shim]
    if len(portions) != len(path):  # the shim folder is already a portion (PYTHONPATH in a run): keep the order
        return
    if any(os.path.isdir(os.path.join(p, "core")) for p in portions):
        return  # a real azureml.core: the real SDK, whole
    path.append(shim)


_extend_with_shim(__path__)
