"""The studio shows a model version's profile (Model.profile, kept on the version): the recommended cpu and
memory_in_gb and the load they were measured under, in a real JupyterLab, after a real profile run.

``pytest -m browser tests/browser/test_model_profile_ui.py``
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from jupyter_aml import InferenceConfig, Model, Workspace
from tests.browser import seed
from tests.browser.conftest import Studio

pytestmark = pytest.mark.browser

SCORING = Path(__file__).resolve().parents[1] / "serving" / "scoring"
WS = "profile-ui"


def test_a_profile_shows_on_the_model_version(studio: Studio, tmp_path: Path) -> None:
    seed.ensure_workspace(studio.lab)
    seed.ensure_workspace(studio.lab, WS)
    info = json.loads((studio.lab.aml_root / "service.json").read_text())
    ws = Workspace(WS, service_url=info["url"], token=info["token"])
    (tmp_path / "echo.txt").write_text("profiled\n")
    model = Model.register(ws, tmp_path / "echo.txt", "profiled-ui")
    profile = Model.profile(ws, "echo-load", [model], InferenceConfig("echo.py", source_directory=SCORING),
                            sample_requests=['{"n": 1}'], requests=30)
    profile.wait_for_completion()
    details = profile.get_details()
    assert details["state"] == "Succeeded", details
    kept = studio.lab.get(f"workspaces/{WS}/models/profiled-ui/versions/1")["properties"]
    assert json.loads(kept["profile.echo-load"])["recommendedCpu"] == details["recommendedCpu"]

    sidebar = studio.sidebar()
    sidebar.get_by_role("combobox", name="Workspace").select_option(WS)
    toggle = sidebar.get_by_role("button", name=re.compile("^Models"))
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    models = sidebar.get_by_role("region", name="Models")
    models.get_by_role("button", name="Model profiled-ui", exact=True).click()
    version = models.get_by_role("list", name="Versions of model profiled-ui").get_by_role(
        "listitem", name="profiled-ui version 1")
    line = version.get_by_role("list", name="Profiles").get_by_role("listitem")
    expect(line).to_contain_text("echo-load")
    expect(line).to_contain_text(f"recommended cpu {details['recommendedCpu']}, memory_in_gb "
                                 f"{details['recommendedMemoryInGB']}")
    expect(line).to_contain_text("at concurrency 2")
    expect(line).to_contain_text("30 requests")
