"""The studio's Environments section in a real JupyterLab: environments registered with the SDK appear grouped
by name with their definition; the sidebar's refresh shows a new version; Build makes the cached venv (then
finds it already built) and shows the interpreter and the build log; a build that cannot succeed shows the
installer's reason.

``pytest -m browser tests/browser/test_environments.py``; ``AML_BROWSER_SCREENSHOTS=1`` also writes
docs/images/environments.png.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from jupyter_aml import Environment, Workspace
from tests.browser import seed
from tests.browser.conftest import Studio
from tests.browser.test_models_endpoints import open_section, widen_sidebar

pytestmark = pytest.mark.browser

WS = "environments-ui"  # not "default": test_studio checks the default workspace's empty states
MISSING = "jupyter-aml-no-such-package-xyz==0.0.1"
BUILD_TIMEOUT = 240_000  # ms: a cold pip install on a slow machine


def sdk_workspace(studio: Studio) -> Workspace:
    info = json.loads((studio.lab.aml_root / "service.json").read_text())
    return Workspace(WS, service_url=info["url"], token=info["token"])


def test_environments_section(studio: Studio) -> None:
    lab, page = studio.lab, studio.page
    seed.ensure_workspace(lab)  # see test_models_endpoints: later tests expect the default workspace
    seed.ensure_workspace(lab, WS)
    ws = sdk_workspace(studio)

    v1 = Environment("six-env").add_pip_packages(["six==1.17.0"]).register(ws)
    broken = Environment("broken-env").add_pip_packages([MISSING]).register(ws)
    assert (v1.version, broken.version) == ("1", "1")

    sidebar = studio.sidebar()
    sidebar.get_by_role("combobox", name="Workspace").select_option(WS)
    section = open_section(sidebar, "Environments")
    toggle = section.get_by_role("button", name="Environment six-env", exact=True)
    expect(toggle).to_contain_text("v1 · 1 version")

    # A second version (same requirements plus a variable): no push events for environments, so it shows
    # after the sidebar's refresh.
    env = Environment("six-env").add_pip_packages(["six==1.17.0"])
    env.environment_variables["SIX_MODE"] = "ui"
    env.python.python_version = "3.11"
    v2 = env.register(ws)
    assert v2.version == "2"
    sidebar.get_by_role("button", name="Refresh AML workspace").click()
    expect(toggle).to_contain_text("v2 · 2 versions")

    toggle.click()
    versions = section.get_by_role("list", name="Versions of environment six-env")
    latest = versions.get_by_role("listitem", name="six-env version 2")
    first = versions.get_by_role("listitem", name="six-env version 1")
    expect(latest.get_by_role("list", name="Pip requirements of six-env:2")).to_have_text("six==1.17.0")
    expect(latest.get_by_role("list", name="Environment variables of six-env:2")).to_contain_text("SIX_MODE")
    expect(latest).to_contain_text("3.11")
    spec_hash = lab.get(f"workspaces/{WS}/environments/six-env/versions/2")["spec_hash"]
    expect(latest).to_contain_text(spec_hash[:12])
    expect(first.get_by_text("none", exact=True)).to_be_visible()  # no variables

    # Filter by name.
    section.get_by_label("Filter environments by name").fill("broken")
    expect(toggle).to_have_count(0)
    expect(section.get_by_role("button", name="Environment broken-env", exact=True)).to_be_visible()
    section.get_by_label("Filter environments by name").fill("nothing-like-this")
    expect(section.get_by_text("No environment matches")).to_be_visible()
    section.get_by_label("Filter environments by name").fill("")
    expect(toggle).to_be_visible()

    # The snippet that gets this version back in Python.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    latest.get_by_role("button", name="Copy SDK snippet for six-env:2").click()
    expect(latest.get_by_role("button", name="Copy SDK snippet for six-env:2")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == 'Environment.get(ws, "six-env", version="2")'

    # Build version 2: busy while pip runs, then built, with the interpreter and the log.
    build = latest.get_by_role("button", name="Build six-env:2")
    build.click()
    outcome = latest.get_by_role("group", name="Build of six-env:2")
    expect(outcome.get_by_role("status")).to_have_text(re.compile(r"^Built in \d+\.\d s\.$"), timeout=BUILD_TIMEOUT)
    expect(build).to_be_enabled()
    python = outcome.locator("code").inner_text()
    assert re.search(r"/envs/[0-9a-f]{64}/bin/python$", python), python
    assert Path(python).exists()
    outcome.get_by_text("Build log").click()
    expect(outcome.get_by_label("Build log of six-env:2")).to_contain_text("six==1.17.0")

    # Version 1 has the same requirements: its venv is the one just built.
    first.get_by_role("button", name="Build six-env:1").click()
    done = first.get_by_role("group", name="Build of six-env:1")
    expect(done.get_by_role("status")).to_contain_text("Already built", timeout=BUILD_TIMEOUT)
    expect(done.locator("code")).to_have_text(python)

    # Collapsing the row keeps the outcome.
    toggle.click()
    toggle.click()
    expect(latest.get_by_role("group", name="Build of six-env:2")).to_be_visible()

    # A requirement that does not exist: the installer's reason, readably, and its output.
    section.get_by_role("button", name="Environment broken-env", exact=True).click()
    item = section.get_by_role("listitem", name="broken-env version 1")
    item.get_by_role("button", name="Build broken-env:1").click()
    alert = item.get_by_role("alert")
    expect(alert).to_contain_text("environment broken-env:1 could not be built", timeout=BUILD_TIMEOUT)
    expect(item.get_by_label("Why broken-env:1 failed")).to_contain_text("jupyter-aml-no-such-package-xyz")
    expect(alert).to_contain_text("fix its packages, Python version or Docker settings")

    widen_sidebar(studio, 480)
    for toast in page.get_by_title("Hide notification").all():  # the failed build's toast
        toast.click()
    expect(page.get_by_title("Hide notification")).to_have_count(0)
    heading = sidebar.get_by_role("button", name=re.compile("^Environments"))
    heading.evaluate("node => node.scrollIntoView({block: 'start'})")
    studio.shot("environments.png", readme=True)

    item.get_by_text("Installer output").click()
    expect(item.get_by_label("Build log of broken-env:1")).to_contain_text("jupyter-aml-no-such-package-xyz")
    item.get_by_role("button", name="Dismiss").click()
    expect(alert).to_have_count(0)
    assert page.get_by_role("alert").filter(has_text="internal error").count() == 0
