"""The live widget in Notebook 7 (``jupyter notebook``), light and dark, in headless Chromium.

A real Notebook 7 server with the jupyter-aml server extension, a real kernel, a real run: the submit status
line appears before the run ends, the view is titled "Run #N name", its charts are in the studio's order and
drawn in the theme's colours, and switching the theme recolours them at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, VIEWPORT
from tests.browser.lab import CHROMIUM, REPO, LabServer
from tests.browser.widget_checks import (
    STATUS_LINE,
    WATCH_RESULT,
    WATCH_STATUS_LINE,
    WIDGET_COLOURS,
    assert_follows_theme,
    luminance,
    notebook_json,
    submit_cell,
)

pytestmark = pytest.mark.browser


class NotebookServer(LabServer):
    """``jupyter notebook`` (Notebook 7) with its own Jupyter, AML and settings folders."""

    @property
    def notebook_url(self) -> str:
        return f"{self.url}/notebooks/widget7.ipynb?token={self.token}"

    def start(self, timeout: float = 90) -> None:
        for sub in (self.root_dir, self.aml_root):
            sub.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "JUPYTER_AML_ROOT": str(self.aml_root), "PYTHONUNBUFFERED": "1",
               "JUPYTER_CONFIG_DIR": str(self.base / "jupyter-config"),
               "JUPYTER_RUNTIME_DIR": str(self.base / "runtime")}
        jupyter = Path(sys.executable).with_name("jupyter")
        cmd = [str(jupyter), "notebook", "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
               "--ServerApp.port_retries=0", f"--ServerApp.token={self.token}",
               f"--ServerApp.root_dir={self.root_dir}",
               f"--JupyterNotebookApp.user_settings_dir={self.base / 'user-settings'}",
               f"--JupyterNotebookApp.workspaces_dir={self.base / 'nb-workspaces'}",
               "--JupyterNotebookApp.expose_app_in_browser=True",
               "--AMLExtension.heartbeat_interval=2"]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter notebook exited with {self.proc.returncode}; see {self.log_path}")
            with contextlib.suppress(OSError):
                self.get("health")
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"jupyter notebook did not start in {timeout}s; see {self.log_path}")


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotebookServer]:
    unavailable = pytest.fail if os.environ.get("CI") else pytest.skip
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    server = NotebookServer(tmp_path_factory.mktemp("notebook7"))
    server.start()
    yield server
    server.stop()
    with contextlib.suppress(ProcessLookupError, TypeError):
        os.killpg(server.proc.pid, signal.SIGKILL)  # type: ignore[union-attr]


@pytest.fixture
def page(notebook7: NotebookServer, browser: Any) -> Iterator[Any]:
    """A page of the browser tests' Chromium (one Playwright per session: conftest's ``browser``)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not [e for e in errors if "aml" in e.lower()], errors


def wait(predicate: Any, timeout: float = 60, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


def shot(page: Any, name: str, tmp_path: Path) -> Path:
    path = (REPO / "docs" / "images" / name) if SCREENSHOTS else tmp_path / name
    page.locator(".jp-Notebook").screenshot(path=str(path))
    return path


def test_live_widget_in_notebook7_light_and_dark(notebook7: NotebookServer, page: Any, tmp_path: Path) -> None:
    (notebook7.root_dir / "widget7.ipynb").write_text(
        notebook_json(["%load_ext jupyter_aml", submit_cell("notebook7", "nb7-live")]))
    page.goto(notebook7.notebook_url)
    kernel_idle = ("() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status"
                   " === 'idle'")
    wait(lambda: page.evaluate(kernel_idle), timeout=90)
    page.get_by_text("%load_ext jupyter_aml").first.click()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-cell-and-select-next')")
    wait(lambda: page.evaluate(kernel_idle) and page.locator(".jp-InputArea-prompt", has_text="[1]").count())

    # Shift+Enter on the %%aml_submit cell: the status line appears at once, long before the run ends.
    page.evaluate(WATCH_STATUS_LINE)
    page.keyboard.press("Shift+Enter")
    seen = wait(lambda: page.evaluate(WATCH_RESULT), timeout=30, interval=0.05)
    assert seen["runStatus"] in (None, "Queued", "Preparing", "Starting", "Running"), seen
    assert seen["text"].startswith(("⏳ snapshotting", "⏳ snapshot", "⏳ uploading")), seen
    assert seen["ms"] < 1500, f"the status line took {seen['ms']:.0f} ms in the browser"
    print(f"status line {seen['ms']:.0f} ms after Shift+Enter in Notebook 7: {seen['text']!r}")
    line = wait(lambda: (page.evaluate(STATUS_LINE) or {}).get("stage") == "submitted" and page.evaluate(STATUS_LINE))
    assert line["text"].startswith("✔ Submitted run #1 (") and "experiment 'notebook7'" in line["text"], line

    # The live view: titled as the studio titles the run, charts in the studio's order, the theme's colours.
    colours = wait(lambda: (c := page.evaluate(WIDGET_COLOURS)) and len(c["chartTitles"]) == 2 and c["chartText"]
                   and c)
    assert colours["header"] == "Run #1 nb7-live", colours
    assert colours["chartTitles"] == ["alpha_acc", "zeta_loss"], colours
    assert_follows_theme(colours, light=True)
    assert luminance(colours["chartText"]) < 128  # dark text on the light theme
    light_text = colours["chartText"]
    shot(page, "widget-notebook7-light.png", tmp_path)

    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    wait(lambda: page.evaluate("() => document.body.dataset.jpThemeLight") == "false")
    dark = wait(lambda: (c := page.evaluate(WIDGET_COLOURS)) and c["chartText"] != light_text and c)
    assert_follows_theme(dark, light=False)
    assert luminance(dark["chartText"]) > 128 and luminance(dark["themeBackground"]) < 128  # light on dark
    page.get_by_text("Completed").first.wait_for(timeout=90_000)
    final = page.evaluate(WIDGET_COLOURS)
    assert final["status"] == "Completed" and final["badgeDot"] == final["statusVar"], final
    shot(page, "widget-notebook7-dark.png", tmp_path)
    runs = notebook7.get("workspaces/default/runs", experiment="notebook7")["items"]
    assert [(r["status"], r["display_name"]) for r in runs] == [("Completed", "nb7-live")]
    assert json.loads(json.dumps(final))  # the page answered plain data throughout
