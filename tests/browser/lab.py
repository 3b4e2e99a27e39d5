"""A real ``jupyter lab`` subprocess for browser tests and benchmarks, plus a small REST client.

Usable on its own while developing::

    python -m tests.browser.lab /tmp/studio   # starts a lab, prints its URL, Ctrl-C stops it
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

# Hide the news / update toast (and keep screenshots stable): page-config overrides.
OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"checkForUpdates": False, "fetchNews": "false"},
    "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Light"},
    # No polling: run status, logs and metrics must arrive through the push channel.
    "jupyter-aml:plugin": {"refreshIntervalSeconds": 0},
}

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LabServer:
    """``jupyter lab`` on a free port, with its own Jupyter root, AML root and settings folders."""

    def __init__(self, base: Path, *, aml_root: Path | None = None, extra_env: dict[str, str] | None = None) -> None:
        self.base = base
        self.root_dir = base / "notebooks"  # the Jupyter root (file browser)
        self.aml_root = aml_root or base / "aml"  # JUPYTER_AML_ROOT
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = base / "lab.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def lab_url(self) -> str:
        return f"{self.url}/lab?token={self.token}"

    def start(self, timeout: float = 90) -> None:
        for sub in (self.root_dir, self.aml_root):
            sub.mkdir(parents=True, exist_ok=True)
        settings = self.base / "app-settings"
        settings.mkdir(exist_ok=True)
        (settings / "overrides.json").write_text(json.dumps(OVERRIDES))
        env = {
            **os.environ,
            "JUPYTER_AML_ROOT": str(self.aml_root),
            "JUPYTER_CONFIG_DIR": str(self.base / "jupyter-config"),
            "JUPYTER_RUNTIME_DIR": str(self.base / "runtime"),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        jupyter = Path(sys.executable).with_name("jupyter")
        cmd = [
            str(jupyter) if jupyter.exists() else "jupyter",
            "lab",
            "--no-browser",
            f"--port={self.port}",
            "--ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            f"--ServerApp.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--ServerApp.allow_unauthenticated_access=False",
            f"--LabApp.app_settings_dir={settings}",
            f"--LabApp.user_settings_dir={self.base / 'user-settings'}",
            f"--LabApp.workspaces_dir={self.base / 'lab-workspaces'}",
            "--AMLExtension.heartbeat_interval=2",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: tests run commands (deep links)
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}; see {self.log_path}")
            try:
                self.get("health")
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"jupyter lab did not start in {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    # -- REST ------------------------------------------------------------------------------------------
    def call(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        url = f"{self.url}/aml/api/v1/{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=120) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def get(self, path: str, **query: Any) -> Any:
        return self.call("GET", path, **query)

    def post(self, path: str, body: Any, **query: Any) -> Any:
        return self.call("POST", path, body, **query)

    def copy_example(self, name: str = "train-digits") -> Path:
        dest = self.root_dir / name
        if not dest.exists():
            shutil.copytree(REPO / "examples" / name, dest)
        return dest


def main() -> None:
    base = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/studio-dev").resolve()
    base.mkdir(parents=True, exist_ok=True)
    lab = LabServer(base)
    lab.start()
    lab.copy_example()
    (base / "lab.json").write_text(json.dumps({"url": lab.url, "token": lab.token, "pid": lab.proc.pid}))  # type: ignore[union-attr]
    print(lab.lab_url, flush=True)
    try:
        while lab.proc is not None and lab.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        lab.stop()


if __name__ == "__main__":
    main()
