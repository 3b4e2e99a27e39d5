"""The sidebar's empty states in a real JupyterLab at its default width, light and dark: the Datasets and
Pipelines hints name calls that exist (tests/docs/test_empty_state_snippets.py checks the names; the
Pipelines one says how to submit a pipeline while there is none), and every code snippet wraps inside the sidebar
instead of being cut off at its edge."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import seed
from tests.browser.conftest import Studio
from tests.browser.test_data_panels import set_theme
from tests.browser.test_models_endpoints import open_section

pytestmark = pytest.mark.browser

WS = "empty-hints"


def snippets_fit(region: Any) -> list[str]:
    """The snippets of ``region`` whose box pokes out of the section (empty when they all fit)."""
    return list(region.evaluate(
        """el => { const edge = el.getBoundingClientRect().right;
                   return [...el.querySelectorAll('.jp-aml-Empty code')]
                     .filter(c => c.getBoundingClientRect().right > edge + 0.5 || c.scrollWidth > c.clientWidth + 1)
                     .map(c => c.textContent); }"""))


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"], ids=["light", "dark"])
def test_empty_hints_name_real_calls_and_wrap(studio: Studio, theme: str) -> None:
    seed.ensure_workspace(studio.lab, WS)
    set_theme(studio, theme)
    sidebar = studio.sidebar()
    sidebar.get_by_role("combobox", name="Workspace").select_option(WS)
    datasets = open_section(sidebar, "Datasets")
    expect(datasets).to_contain_text("No datasets yet")
    assert "Dataset.Tabular.from_delimited_files(" in datasets.inner_text()
    pipelines = open_section(sidebar, "Pipelines")
    expect(pipelines).to_contain_text("No pipeline runs yet")
    assert "exp.submit(Pipeline(ws, steps=[...]))" in pipelines.inner_text()
    width = sidebar.evaluate("el => el.getBoundingClientRect().width")
    assert width < 400, f"the sidebar is not at its default width ({width}px)"
    for region in (datasets, pipelines):
        assert region.locator(".jp-aml-Empty code").count() >= 1
        assert snippets_fit(region) == [], region.inner_text()
    tall = datasets.locator(".jp-aml-Empty code").first.evaluate(
        "c => c.getClientRects().length")  # the long Tabular snippet takes more than one line
    assert tall > 1
    slug = re.sub(r"\W+", "-", theme.lower())
    studio.shot(f"empty-hints-{slug}.png")
