"""The studio's Experiments section hides archived experiments (v1's Experiment.archive()) behind a "Show
archived" toggle, which shows them marked as archived; reactivating one brings it back.

``pytest -m browser tests/browser/test_experiments_archive.py``
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from jupyter_aml import Experiment, Workspace
from tests.browser import seed
from tests.browser.conftest import Studio
from tests.browser.test_models_endpoints import open_section

pytestmark = pytest.mark.browser

WS = "archive-ui"  # not "default": test_studio checks the default workspace's empty states


def test_archived_experiments_hide_behind_a_toggle(studio: Studio) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)
    seed.ensure_workspace(lab, WS)
    info = json.loads((lab.aml_root / "service.json").read_text())
    ws = Workspace(WS, service_url=info["url"], token=info["token"])
    for name in ("kept", "old"):
        Experiment(ws, name).start_logging().complete()
    Experiment(ws, "old").archive()

    sidebar = studio.sidebar()
    sidebar.get_by_role("combobox", name="Workspace").select_option(WS)
    section = open_section(sidebar, "Experiments")
    kept = section.get_by_role("button", name="Experiment kept", exact=True)
    old = section.get_by_role("button", name="Experiment old", exact=True)
    expect(kept).to_be_visible()
    expect(old).to_have_count(0)  # archived: hidden by default, as Experiment.list(ws)

    toggle = section.get_by_role("checkbox", name="Show archived")
    expect(toggle).not_to_be_checked()
    toggle.check()
    expect(old).to_be_visible()
    expect(old).to_contain_text("archived")
    expect(kept).not_to_contain_text("archived")
    assert page.locator('[data-experiment="old"]').get_attribute("data-archived") == "true"
    studio.shot("experiments-archived.png")

    toggle.uncheck()
    expect(old).to_have_count(0)
    Experiment(ws, "old").reactivate()
    sidebar.get_by_role("button", name="Refresh AML workspace").click()
    expect(old).to_be_visible()
    expect(old).not_to_contain_text("archived")
