"""Fixtures of the JupyterHub tests: one real hub per package, alice's server shared with bob, and headless
Chromium logged in as each user through the hub's login form.

Needs configurable-http-proxy (``npm install -g configurable-http-proxy``), Chromium and the built lab
extension; without them these tests are skipped on a developer's machine and fail in CI.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS, REPO
from tests.hub.hub import USERS, HubServer, find_proxy

VIEWPORT = {"width": 1400, "height": 860}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="package")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    unavailable = pytest.fail if os.environ.get("CI") else pytest.skip
    proxy = find_proxy()
    if proxy is None:
        unavailable("configurable-http-proxy is missing: npm install -g configurable-http-proxy")
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    if not (REPO / "labextension" / "package.json").exists():
        unavailable("the lab extension is not built: jlpm build")
    server = HubServer(tmp_path_factory.mktemp("hub"), str(proxy))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def shared_hub(hub: HubServer) -> HubServer:
    """The hub with alice's server running and shared with bob (bob has no server of his own)."""
    hub.start_server("alice")
    hub.share("alice", "bob")
    return hub


@pytest.fixture(scope="package")
def chromium(hub: HubServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class HubUser:
    """A person in their own browser context: logs in through the hub's form, opens alice's JupyterLab,
    and calls the AML REST API from the page the way the studio does (the page's own token)."""

    def __init__(self, context: Any, hub: HubServer, name: str, shots: Path) -> None:
        self.context = context
        self.hub = hub
        self.name = name
        self.shots = shots
        self.page = context.new_page()
        self.page.set_default_timeout(60_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def login(self) -> None:
        self.page.goto(f"{self.hub.url}/hub/login")
        self.page.get_by_label("Username").fill(self.name)
        self.page.get_by_label("Password").fill(self.hub.password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(lambda url: "/hub/login" not in url)

    def open_lab(self, owner: str, workspace: str) -> None:
        """Open ``owner``'s JupyterLab (authorizing the shared server when the hub asks) with a fresh layout."""
        self.page.goto(f"{self.hub.url}/user/{owner}/lab/workspaces/{workspace}?reset")
        if "/oauth2/authorize" in self.page.url:  # the first visit of a server shared with this user
            self.page.get_by_role("button", name="Authorize").click()
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
            timeout=120_000,
        )

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A REST call from the open lab page, with the page's token (the hub's OAuth token of this user)."""
        result = self.page.evaluate(
            """async ([method, path, body]) => {
                const config = JSON.parse(document.getElementById('jupyter-config-data').textContent);
                const init = { method, headers: { Authorization: `token ${config.token}` } };
                if (body !== null) {
                    init.body = JSON.stringify(body);
                    init.headers['Content-Type'] = 'application/json';
                }
                const response = await fetch(`${config.baseUrl}aml/api/v1/${path}`, init);
                const text = await response.text();
                return [response.status, text];
            }""",
            [method, path, body],
        )
        status, text = result
        return int(status), (json.loads(text) if text else None)

    def shot(self, name: str) -> Path:
        path = self.shots / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def people(chromium: Any, shared_hub: HubServer, tmp_path: Path) -> Iterator[dict[str, HubUser]]:
    """alice and bob, each logged in through the hub in a browser context of their own."""
    users = {name: HubUser(chromium.new_context(viewport=VIEWPORT), shared_hub, name, tmp_path) for name in USERS}
    for user in users.values():
        user.login()
    yield users
    for user in users.values():
        user.context.close()
    for user in users.values():
        assert not [e for e in user.errors if "aml" in e.lower()], user.errors


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[None]:
    """Replaces pytest-jupyter's autouse loop fixture: Playwright's sync API runs its own loop."""
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> Iterator[None]:
    """No in-process Jupyter server here (the hub and its servers are subprocesses)."""
    yield None
