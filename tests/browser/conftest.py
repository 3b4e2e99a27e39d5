"""Fixtures of the browser tests: one real ``jupyter lab`` per session and headless Chromium.

Run with ``pytest -m browser tests/browser``. Needs /usr/bin/chromium (``apt-get install -y chromium``)
and the built extension (``jlpm build``); tests are skipped, not failed, without Chromium.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS, REPO, LabServer

SCREENSHOTS = os.environ.get("AML_BROWSER_SCREENSHOTS") == "1"  # write docs/images/*.png
VIEWPORT = {"width": 1400, "height": 860}
BROWSER_MODULES = ("test_studio", "test_notebook_widget", "bench_studio")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here and item.module.__name__.endswith(BROWSER_MODULES):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")  # torn down before the next test package runs
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    # On a developer's machine a missing browser skips these tests; in CI it is a failure.
    unavailable = pytest.fail if os.environ.get("CI") else pytest.skip
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    if not (REPO / "labextension" / "package.json").exists():
        unavailable("the lab extension is not built: jlpm build")
    # AML_BENCH_ROOT keeps the benchmark's seeded runs between invocations (seeding 20M points takes minutes).
    cache = os.environ.get("AML_BENCH_ROOT") if os.environ.get("AML_BROWSER_BENCH") == "1" else None
    server = LabServer(tmp_path_factory.mktemp("studio"), aml_root=Path(cache) if cache else None)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")  # torn down before the next test package runs
def browser(lab: LabServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Studio:
    """A JupyterLab page plus helpers that find things the way a person does (roles and labels)."""

    def __init__(self, page: Any, lab: LabServer, shots: Path) -> None:
        self.page = page
        self.lab = lab
        self.shots = shots

    def open(self, workspace: str) -> None:
        # A fresh JupyterLab workspace per test: no tabs restored from the previous one.
        self.page.goto(f"{self.lab.url}/lab/workspaces/{workspace}?reset&token={self.lab.token}")
        # Ready = our commands exist and the saved layout is restored (widgets added before that are dropped).
        # The predicate re-attaches itself if the page reloads while it waits.
        self.page.wait_for_function(
            """() => {
                const app = window.jupyterapp;
                if (!app || !app.commands.hasCommand('aml:open-run')) { return false; }
                if (!window.__amlWatch) {
                    window.__amlWatch = true;
                    app.restored.then(() => { window.__amlRestored = true; });
                }
                return window.__amlRestored === true;
            }""",
            timeout=90_000,
        )

    def show_tab(self, name: str) -> Any:
        """Show a side panel by its tab (clicking a tab whose panel is open would close it)."""
        tab = self.page.get_by_role("tab", name=name)
        tab.wait_for()
        panel = self.page.locator("#" + tab.get_attribute("data-id"))
        if not panel.is_visible():
            tab.click()
        panel.wait_for()
        return panel

    def sidebar(self) -> Any:
        self.show_tab("AML workspace")
        return self.page.get_by_role("region", name="AML workspace")

    def expand_experiment(self, name: str) -> Any:
        sidebar = self.sidebar()
        toggle = sidebar.get_by_role("button", name=f"Experiment {name}", exact=True)
        toggle.wait_for()
        if toggle.get_attribute("aria-expanded") != "true":
            toggle.click()
        table = sidebar.get_by_role("table", name=f"Runs of experiment {name}")
        table.wait_for()
        return table

    def run_command(self, command: str, args: dict[str, Any], wait: bool = True) -> None:
        """Execute a command (as a deep link would); ``wait=False`` for ones that open a dialog."""
        if wait:
            script = "([c, a]) => window.jupyterapp.commands.execute(c, a).then(() => true)"
            self.page.evaluate(script, [command, args])
        else:
            script = "([c, a]) => { window.jupyterapp.commands.execute(c, a); return true; }"
            self.page.evaluate(script, [command, args])

    def shot(self, name: str, readme: bool = False) -> Path:
        path = (REPO / "docs" / "images" / name) if (readme and SCREENSHOTS) else self.shots / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))
        return path

    def wait(self, predicate: Any, timeout: float = 60, interval: float = 0.25) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(interval)


@pytest.fixture
def studio(browser: Any, lab: LabServer, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Studio]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    studio = Studio(page, lab, tmp_path)
    studio.open(request.node.name.replace("[", "-").replace("]", "").replace("_", "-"))
    yield studio
    context.close()
    assert not [e for e in errors if "aml" in e.lower()], errors


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[None]:
    """Replaces pytest-jupyter's autouse loop fixture (tests/conftest.py loads that plugin): Playwright's
    sync API runs its own loop, which pytest-jupyter would try to close at teardown."""
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> Iterator[None]:
    """No in-process Jupyter server here (the lab runs in a subprocess): nothing to clean up."""
    yield None
