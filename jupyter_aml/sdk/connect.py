"""Finding the workspace service: zero configuration on one machine.

Order: explicit URL/token; inside a run, the run's variables; ``JUPYTER_AML_URL``/``JUPYTER_AML_TOKEN``;
the ``service.json`` that a running service (Jupyter extension or ``aml serve``) writes in its root; and
finally a background ``aml serve`` started for that root, so that a plain Python session just works.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from jupyter_aml.core.roots import default_root
from jupyter_aml.errors import AMLError, ServiceUnavailable
from jupyter_aml.runtime.env import RunContextInfo
from jupyter_aml.runtime.http import ServiceClient

START_TIMEOUT = 60.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _from_runtime_file(root: Path) -> ServiceClient | None:
    try:
        info = json.loads((root / "service.json").read_text())
    except (FileNotFoundError, ValueError):
        return None
    if not _alive(int(info.get("pid", 0))):
        return None
    client = ServiceClient(info["url"], info["token"])
    try:
        client.get("health")
    except AMLError:
        return None
    return client


def _token_for(url: str, root: Path) -> str | None:
    """A config file names the service but never holds its secret: take it from the environment or
    from the runtime file of that same service on this machine."""
    if os.environ.get("JUPYTER_AML_TOKEN"):
        return os.environ["JUPYTER_AML_TOKEN"]
    try:
        info = json.loads((root / "service.json").read_text())
    except (FileNotFoundError, ValueError):
        return None
    return str(info["token"]) if info.get("url", "").rstrip("/") == url.rstrip("/") else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_background_service(root: Path) -> ServiceClient:
    """Start ``aml serve`` for ``root`` detached from this process and wait until it answers."""
    root.mkdir(parents=True, exist_ok=True)
    log = open(root / "service.log", "ab")  # noqa: SIM115 - handed to the child
    cmd = [sys.executable, "-m", "jupyter_aml.cli", "serve", "--root", str(root), "--port", str(_free_port())]
    proc = subprocess.Popen(
        cmd,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "JUPYTER_AML_ROOT": str(root)},
    )
    log.close()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        client = _from_runtime_file(root)
        if client is not None:
            return client
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    tail = (root / "service.log").read_text(errors="replace")[-2000:]
    raise ServiceUnavailable(
        f"could not start the workspace service for {root}",
        hint=f"run `aml serve --root {root}` to see why; log tail:\n{tail}",
    )


def connect(
    *, service_url: str | None = None, token: str | None = None, root: Path | None = None, autostart: bool = True
) -> ServiceClient:
    if service_url:
        return ServiceClient(service_url, token or _token_for(service_url, root or default_root()))
    ctx = RunContextInfo.from_environ()
    if ctx is not None:
        return ServiceClient(ctx.service_url, ctx.token)
    if os.environ.get("JUPYTER_AML_URL"):
        return ServiceClient(os.environ["JUPYTER_AML_URL"], os.environ.get("JUPYTER_AML_TOKEN"))
    root = root or default_root()
    client = _from_runtime_file(root)
    if client is not None:
        return client
    if not autostart:
        raise ServiceUnavailable(
            f"no workspace service is running for {root}",
            hint="start JupyterLab or `aml serve`, or set JUPYTER_AML_URL",
        )
    return start_background_service(root)
