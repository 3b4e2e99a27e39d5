"""Scoring images follow the one pip rule of envbuild (no Docker engine needed for this part)."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_aml.envbuild import definition_user_managed
from jupyter_aml.serving.docker import _dockerfile, image_requirements


@pytest.mark.parametrize(("python", "expected"), [
    ({"user_managed": True, "pip": ["scikit-learn", " ", "joblib "]}, ["scikit-learn", "joblib"]),
    ({"pip": ["six"]}, ["six"]),  # the flag left out reads as its default, True: "not set"
    ({"user_managed": True, "pip": []}, []),
    ({"user_managed": False}, []),  # a venv with nothing to install is the image's own Python
    ({}, []),
])
def test_image_installs_what_the_pip_rule_says(python: dict[str, Any], expected: list[str]) -> None:
    assert image_requirements({"python": python, "env_vars": {"A": "1"}}) == expected


def test_definition_flag_true_means_not_set() -> None:
    assert definition_user_managed(True, []) is True
    assert definition_user_managed(True, ["six"]) is False
    assert definition_user_managed(False, []) is False


def test_dockerfile_builds_a_venv_only_for_requirements() -> None:
    with_pip = _dockerfile("base:1", image_requirements({"python": {"pip": ["six"]}}), trust_ca=False)
    assert "/opt/venv/bin/pip install" in with_pip and '"/opt/venv/bin/python"' in with_pip
    plain = _dockerfile("base:1", image_requirements({"python": {"user_managed": True}}), trust_ca=False)
    assert "venv" not in plain and '"python3"' in plain
