"""A real JupyterHub on 127.0.0.1 for the shared-workspace tests: configurable-http-proxy in front,
DummyAuthenticator with one password, SimpleLocalProcessSpawner starting ``jupyterhub-singleuser``
(JupyterLab with this extension, each user's own temporary ``JUPYTER_AML_ROOT``).

Server sharing (JupyterHub 5+) lets users reach each other's server with their own identity: the hub's
``user`` role carries ``shares!user`` so a user may share their own server, and a test-only admin
service (``HubServer.admin``) starts servers and mints users' API tokens.

Usable on its own while developing::

    python -m tests.hub.hub /tmp/hub-dev   # starts a hub, prints its URL, Ctrl-C stops it
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.browser.lab import OVERRIDES, REPO, free_port

VENV_BIN = Path(sys.executable).parent
USERS = ("alice", "bob")


def find_proxy() -> str | None:
    """configurable-http-proxy (an npm package): on PATH (npm install -g) or in the repo's node_modules."""
    found = shutil.which("configurable-http-proxy")
    local = REPO / "node_modules" / ".bin" / "configurable-http-proxy"
    return found or (str(local) if local.exists() else None)


CONFIG = """\
# Written by tests/hub/hub.py: a throw-away JupyterHub for the shared-workspace tests.
import os
base = {base!r}
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.auth_token = {proxy_token!r}
c.JupyterHub.db_url = "sqlite:///" + os.path.join(base, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(base, "cookie_secret")
c.JupyterHub.pid_file = os.path.join(base, "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allowed_users = set({users!r})
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(base, "home", "{{username}}")
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.args = {args!r}
c.Spawner.env_keep = ["PATH", "LANG", "LC_ALL", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT", "VIRTUAL_ENV"]
c.Spawner.environment = {{
    # each user's server has its own AML root and Jupyter folders
    "JUPYTER_AML_ROOT": lambda spawner: os.path.join(base, "aml", spawner.user.name),
    "JUPYTER_CONFIG_DIR": lambda spawner: os.path.join(base, "jupyter-config", spawner.user.name),
    "JUPYTER_RUNTIME_DIR": lambda spawner: os.path.join(base, "runtime", spawner.user.name),
    "PYTHONUNBUFFERED": "1",
}}
c.JupyterHub.services = [{{"name": "test-admin", "api_token": {admin_token!r}}}]
c.JupyterHub.load_roles = [
    # users may share their own servers with users they name (JupyterHub 5 server sharing)
    {{"name": "user", "scopes": ["self", "shares!user", "read:users:name"]}},
    {{"name": "admin", "services": ["test-admin"]}},
]
"""


class HubError(Exception):
    """A hub REST call answered an error status; ``status`` and ``body`` say which."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def http(method: str, url: str, token: str, body: Any = None) -> tuple[int, Any]:
    """One request with ``Authorization: token``; answers (status, parsed JSON or None). Never raises on 4xx."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"token {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, (json.loads(raw) if raw else None)
    except ValueError:
        return status, raw.decode(errors="replace")


class HubServer:
    """``jupyterhub`` with its proxy on free loopback ports, all state under ``base``."""

    def __init__(self, base: Path, proxy: str) -> None:
        self.base = base
        self.proxy = proxy
        self.port = free_port()
        self.password = secrets.token_hex(8)
        self.admin_token = secrets.token_hex(24)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = base / "jupyterhub.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        settings = self.base / "app-settings"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "overrides.json").write_text(json.dumps(OVERRIDES))
        args = [f"--LabApp.app_settings_dir={settings}", "--ServerApp.port_retries=0",
                "--AMLExtension.heartbeat_interval=2", "--LabApp.expose_app_in_browser=True"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")
        config = CONFIG.format(
            base=str(self.base), port=self.port, hub_port=free_port(), proxy_api_port=free_port(),
            proxy=self.proxy, proxy_token=secrets.token_hex(24), password=self.password, users=sorted(USERS),
            singleuser=str(VENV_BIN / "jupyterhub-singleuser"), args=args, admin_token=self.admin_token,
        )
        (self.base / "jupyterhub_config.py").write_text(config)
        env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "jupyterhub"), "-f", str(self.base / "jupyterhub_config.py")],
            cwd=self.base, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited with {self.proc.returncode}; see {self.log_path}")
            with contextlib.suppress(OSError):
                if http("GET", f"{self.url}/hub/api/", self.admin_token)[0] == 200:
                    return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"jupyterhub did not start in {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        """Stop the hub; its proxy and the users' servers are in its session and stop with it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    # -- the hub's REST API, as the test-only admin service -------------------------------------------
    def admin(self, method: str, path: str, body: Any = None, expect: int | tuple[int, ...] = (200, 201)) -> Any:
        status, payload = http(method, f"{self.url}/hub/api/{path}", self.admin_token, body)
        if status not in ((expect,) if isinstance(expect, int) else expect):
            raise HubError(status, str(payload))
        return payload

    def user_token(self, user: str, scopes: list[str] | None = None) -> str:
        """A hub API token of ``user`` (by default with all of the user's permissions, shares included)."""
        body: dict[str, Any] = {"note": "jupyter-aml hub test", "expires_in": 3600}
        if scopes is not None:
            body["scopes"] = scopes
        return str(self.admin("POST", f"users/{user}/tokens", body)["token"])

    def start_server(self, user: str, timeout: float = 120) -> None:
        """Spawn the user's server (if it is not running) and wait until the hub says it is ready."""
        self.admin("POST", f"users/{user}/server", expect=(201, 202, 400))  # 400: already running
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.admin("GET", f"users/{user}")
            server = (model.get("servers") or {}).get("", {})
            if server.get("ready"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"the server of {user} did not start in {timeout}s; see {self.log_path}")

    def share(self, owner: str, with_user: str) -> Any:
        """The owner shares their default server with another user, through the hub's share API as the owner."""
        token = self.user_token(owner, scopes=[f"shares!user={owner}", "read:users:name"])
        status, payload = http("POST", f"{self.url}/hub/api/shares/{owner}/", token, {"user": with_user})
        if status != 200:
            raise HubError(status, str(payload))
        return payload

    def aml(self, token: str, server_user: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A request to the AML REST API of ``server_user``'s server, through the proxy, with a hub token."""
        return http(method, f"{self.url}/user/{server_user}/aml/api/v1/{path}", token, body)


def main() -> None:
    base = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/hub-dev").resolve()
    base.mkdir(parents=True, exist_ok=True)
    proxy = find_proxy()
    if proxy is None:
        raise SystemExit("configurable-http-proxy is missing: npm install -g configurable-http-proxy")
    hub = HubServer(base, proxy)
    hub.start()
    print(f"{hub.url}  users {', '.join(USERS)}  password {hub.password}", flush=True)
    try:
        while hub.proc is not None and hub.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()


if __name__ == "__main__":
    main()
