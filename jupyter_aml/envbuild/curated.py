"""Curated environments: v1's ``AzureML-*`` names, each a small pip specification built like any other.

Azure's curated environments were Docker images with conda environments baked in. Here each is a definition
that every workspace sees without registering it (``Environment.get(ws, "AzureML-Minimal")``), built into a
cached venv on first use. The Python version in a v1 name (``py38``) is not enforced: a curated environment uses
the target's default Python, so that it builds on every machine (docs/environments.md). Stdlib only.
"""

from __future__ import annotations

import re
from typing import Any

PREFIX = "AzureML-"
VERSION = 1

# name -> (description, pip requirements)
CURATED: dict[str, tuple[str, tuple[str, ...]]] = {
    "AzureML-Minimal": ("A clean Python with nothing but pip (the shim provides azureml.core)", ()),
    "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu": (
        "scikit-learn 1.x with pandas and joblib", ("scikit-learn>=1.0,<2", "pandas", "joblib")),
    "AzureML-pytorch-2.13-ubuntu22.04-py311-cpu": ("PyTorch 2.13 for the CPU", ("torch==2.13.0",)),
    "AzureML-tensorflow-2.16-ubuntu22.04-py311-cpu": (
        "TensorFlow 2.16 or later for the CPU", ("tensorflow-cpu>=2.16",)),
    "AzureML-lightgbm-4.0-ubuntu22.04-py311-cpu": (
        "LightGBM 4 with scikit-learn and pandas", ("lightgbm>=4.0,<5", "scikit-learn", "pandas")),
    "AzureML-Tutorial": (
        "What v1's tutorials use: scikit-learn, pandas, matplotlib, joblib",
        ("scikit-learn>=1.0,<2", "pandas", "matplotlib", "joblib")),
}

# The other versions of a family that v1 samples name (``AzureML-sklearn-0.24-ubuntu18.04-py37-cpu``,
# ``AzureML-PyTorch-1.6-CPU``): each is that family's environment here, under the name asked for. The package
# versions are this family's (a 0.24 scikit-learn has no wheel for today's Pythons): docs/environments.md.
FAMILIES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^AzureML-(sklearn|scikit-learn)-[0-9]", re.IGNORECASE), "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu"),
    (re.compile(r"^AzureML-pytorch-[0-9].*cpu$", re.IGNORECASE), "AzureML-pytorch-2.13-ubuntu22.04-py311-cpu"),
    (re.compile(r"^AzureML-tensorflow-[0-9].*cpu$", re.IGNORECASE), "AzureML-tensorflow-2.16-ubuntu22.04-py311-cpu"),
    (re.compile(r"^AzureML-lightgbm-[0-9]", re.IGNORECASE), "AzureML-lightgbm-4.0-ubuntu22.04-py311-cpu"),
)


def family_of(name: str) -> str | None:
    """The curated environment a v1 name stands for: itself, its family's, or None (a GPU or unknown name)."""
    if name in CURATED:
        return name
    return next((target for pattern, target in FAMILIES if pattern.match(name)), None)


def is_curated(name: str) -> bool:
    return name.startswith(PREFIX)


def curated_definition(name: str) -> dict[str, Any] | None:
    """The environment definition (as registered definitions are stored) of a curated name; None if unknown."""
    family = family_of(name)
    if family is None:
        return None
    found = CURATED[family]
    _description, pip = found
    return {"name": name, "python": {"user_managed": False, "interpreter_path": None, "pip": list(pip)},
            "env_vars": {}, "docker_base_image": None}


def curated_names() -> list[str]:
    return sorted(CURATED)
