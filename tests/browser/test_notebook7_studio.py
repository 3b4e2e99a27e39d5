"""The studio in Notebook 7 (``jupyter notebook``), light and dark, in headless Chromium.

Notebook 7's shell holds one main widget per page (the notebook, or the file browser on /tree), so a detail
page cannot open beside it: the sidebar opens in the notebook page's left area as in JupyterLab, and a run
page opens in JupyterLab (``/lab``) in a new browser tab, as Notebook 7 opens documents, from the notebook
page and from /tree alike. Checked as a user sees it: the sidebar's empty-state hints fit, the experiment's
count says what it counts, run pages show "#N" and "#N.1", a failed run's headline names the exception, a
model names its run "#N", and every page follows the theme.

``pytest -m browser tests/browser/test_notebook7_studio.py``; ``AML_BROWSER_SCREENSHOTS=1`` also writes
docs/images/studio-notebook7-{light,dark}.png.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from jupyter_aml import Experiment, ScriptRunConfig, Workspace
from tests.browser import seed
from tests.browser.conftest import SCREENSHOTS, VIEWPORT
from tests.browser.lab import REPO
from tests.browser.test_empty_state_hints import snippets_fit
from tests.browser.test_notebook7 import NotebookServer, notebook7  # noqa: F401  (the server fixture)
from tests.browser.widget_checks import luminance, notebook_json

pytestmark = pytest.mark.browser

WS = "nb7-studio"
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
COLOURS = """el => { const s = getComputedStyle(el), b = getComputedStyle(document.body);
                     return {text: s.color, background: b.backgroundColor,
                             themeText: b.getPropertyValue('--jp-ui-font-color1').trim()}; }"""


@pytest.fixture(scope="module")
def seeded(notebook7: NotebookServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # noqa: F811
    """A workspace with a parent run and two children, a second run, a failed script run and a model."""
    seed.ensure_workspace(notebook7)
    seed.ensure_workspace(notebook7, WS)
    info = json.loads((notebook7.aml_root / "service.json").read_text())
    ws = Workspace(WS, service_url=info["url"], token=info["token"])
    src = tmp_path_factory.mktemp("nb7-src")
    (src / "fail").mkdir()
    (src / "fail" / "train.py").write_text("def main():\n    return 1 / 0\n\n\nmain()\n")
    failed = Experiment(ws, "nb7-fails").submit(ScriptRunConfig(source_directory=src / "fail", script="train.py"))
    exp = Experiment(ws, "nb7")
    parent = exp.start_logging()
    kids = [parent.child_run(name=f"trial {i}") for i in range(2)]
    for kid in kids:
        kid.complete()
    (src / "m.txt").write_text("model\n")
    parent.upload_file("outputs/m.txt", src / "m.txt")
    parent.complete()
    parent.register_model("nb7-model", "outputs/m.txt")
    exp.start_logging().complete()
    assert failed.wait_for_completion(show_output=False, raise_on_error=False)["status"] == "Failed"
    (notebook7.root_dir / "studio7.ipynb").write_text(notebook_json(["print('hello')"]))
    return {"parent": parent.id, "child": kids[0].id, "failed": failed.id}


def open_page(context: Any, url: str) -> Any:
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_function("() => window.jupyterapp?.commands.hasCommand('aml:open-run')")
    return page


def set_theme(page: Any, theme: str) -> None:
    page.evaluate("t => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme)
    expect(page.locator(f"body[data-jp-theme-name='{theme}']")).to_have_count(1)


def expand(sidebar: Any, title: str) -> Any:
    """Open a sidebar section, once its saved open/closed state is restored (it is kept across visits)."""
    toggle = sidebar.get_by_role("button", name=re.compile(f"^{title}"))
    for _ in range(20):
        if toggle.get_attribute("aria-expanded") == "true":
            break
        toggle.click()
        sidebar.page.wait_for_timeout(300)
    expect(toggle).to_have_attribute("aria-expanded", "true")
    return sidebar.get_by_role("region", name=title)


def lab_theme(server: NotebookServer, theme: str) -> None:
    """The theme of the server's JupyterLab (``/lab`` keeps its own settings, apart from Notebook 7's)."""
    folder = server.base / "jupyter-config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "themes.jupyterlab-settings").write_text(json.dumps({"theme": theme}))


def follows_theme(locator: Any, light: bool) -> None:
    colours = locator.evaluate(COLOURS)
    assert (luminance(colours["text"]) < 128) == light, colours
    assert (luminance(colours["background"]) > 128) == light, colours


def run_tab(context: Any, start: Any) -> Any:
    """What ``start`` opens: a new browser tab on JupyterLab; returns it once its run page is up."""
    with context.expect_page() as opened:
        start()
    lab = opened.value
    lab.set_default_timeout(60_000)
    lab.wait_for_load_state()
    assert re.search(r"/lab(\?|$)", lab.url), lab.url
    return lab


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_studio_in_notebook7(notebook7: NotebookServer, seeded: dict[str, Any], browser: Any,  # noqa: F811
                             mode: str, tmp_path: Path) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    errors: list[str] = []
    context.on("page", lambda p: p.on("pageerror", lambda exc: errors.append(str(exc))))
    light = mode == "light"
    lab_theme(notebook7, THEMES[mode])
    try:
        page = open_page(context, f"{notebook7.url}/notebooks/studio7.ipynb?token={notebook7.token}")
        set_theme(page, THEMES[mode])
        page.evaluate("() => window.jupyterapp.commands.execute('aml:open-sidebar')")
        sidebar = page.get_by_role("region", name="AML workspace")
        expect(sidebar).to_be_visible()
        notebook = page.locator(".jp-NotebookPanel")
        expect(notebook).to_be_visible()
        sidebar.get_by_role("combobox", name="Workspace").select_option(WS)
        datasets = expand(sidebar, "Datasets")
        expect(datasets).to_contain_text("No datasets yet")
        assert snippets_fit(datasets) == [], datasets.inner_text()
        follows_theme(datasets.locator(".jp-aml-Empty").first, light)

        experiments = expand(sidebar, "Experiments")
        toggle = experiments.get_by_role("button", name="Experiment nb7", exact=True)
        expect(toggle.get_by_label("2 runs (+2 child runs)")).to_have_text("2 +2")
        toggle.click()
        table = sidebar.get_by_role("table", name="Runs of experiment nb7")
        expect(table.get_by_role("button", name=re.compile(r"^Open run #\d"))).to_have_count(2)

        models = expand(sidebar, "Models")
        models.get_by_role("button", name="Model nb7-model", exact=True).click()
        version = models.get_by_role("listitem", name="nb7-model version 1")
        expect(version.get_by_role("button", name=f"Open run {seeded['parent']}")).to_have_text("nb7 #1")
        shot = (REPO / "docs" / "images" if SCREENSHOTS else tmp_path) / f"studio-notebook7-{mode}.png"
        page.screenshot(path=str(shot))

        # A run page from the sidebar: the notebook stays, the run opens in JupyterLab in a new tab.
        lab = run_tab(context, lambda: table.get_by_role("button", name="Open run #1").first.click())
        expect(notebook).to_be_visible()
        assert page.url.split("?")[0].endswith("/notebooks/studio7.ipynb")
        summary = lab.get_by_role("group", name=re.compile(r"^Run #1 .*summary$"))
        expect(summary).to_be_visible(timeout=60_000)
        assert "aml-command" not in lab.url  # a reload does not open it again
        expect(lab.locator(f"body[data-jp-theme-name='{THEMES[mode]}']")).to_have_count(1)
        follows_theme(summary, light)
        lab.close()  # one JupyterLab tab at a time: a second one on the same workspace is sent to another

        # A child's page and the failed run's, from the notebook page's commands and from /tree.
        child = run_tab(context, lambda: page.evaluate(
            "a => { window.jupyterapp.commands.execute('aml:open-run', a); }", {"runId": seeded["child"],
                                                                                "workspace": WS}))
        expect(child.get_by_role("group", name="Run #1.1 trial 0 summary")).to_be_visible(timeout=60_000)
        child.close()
        tree = open_page(context, f"{notebook7.url}/tree?token={notebook7.token}")
        failed = run_tab(context, lambda: tree.evaluate(
            "a => { window.jupyterapp.commands.execute('aml:open-run', a); }", {"runId": seeded["failed"],
                                                                                "workspace": WS}))
        headline = failed.locator(".jp-aml-RunHeadline")
        expect(headline).to_have_text("ZeroDivisionError: division by zero at train.py:2 in main",
                                      timeout=60_000)
        expect(tree.locator(".jp-DirListing")).to_be_visible()  # the file browser stays where it was
    finally:
        context.close()
    assert not [e for e in errors if "aml" in e.lower()], errors
