"""Finding the workspace service: zero configuration on one machine.

Order: explicit URL/token; inside a run, the run's variables; ``JUPYTER_AML_URL``/``JUPYTER_AML_TOKEN``;
the ``service.json`` that a running service (Jupyter extension or ``aml serve``) writes in its root; and
finally a background ``aml serve`` started for that root, so that a plain Python session just works.

The default root is per user, not per virtual environment, so ``service.json`` may have been written by
another venv's service, by a service that was killed, or copied in with a root from elsewhere. It is used
only when it names a live process that answers as a service of *this* root and a compatible version;
anything else is said as found (which file, which pid, url, root and version) with what to do, and no
request but the health check ever goes to the service it names.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from jupyter_aml.core.roots import default_root
from jupyter_aml.errors import AMLError, ServiceUnavailable
from jupyter_aml.runtime.env import RunContextInfo
from jupyter_aml.runtime.http import ServiceClient

START_TIMEOUT = 60.0
HEALTH_TIMEOUT = 10.0
RUNTIME_FILE = "service.json"


def compatible(theirs: str, ours: str) -> bool:
    """Same release series (major.minor): the REST contract and the database schema change only between
    series, so a 0.1.3 client may use a 0.1.0 service, and a 0.2 one may not."""

    def series(version: str) -> tuple[str, ...]:
        match = re.match(r"\s*v?(\d+)\.(\d+)", version)
        return match.groups() if match else (version.strip(),)

    return series(theirs) == series(ours)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _nobody_listens(url: str) -> bool:
    """True when nothing accepts connections at ``url``: its service is gone even if its pid was reused since.
    (A service writes its file after binding its port, so one that is starting up is never refused.)"""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=HEALTH_TIMEOUT):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False  # a timeout or an unreachable host: the health check says what it is


def _same_path(a: str | Path, b: str | Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return str(a) == str(b)


@dataclass(frozen=True)
class Discovery:
    """What ``<root>/service.json`` turned out to be: a ``client`` to use, or ``problem`` + ``hint`` saying what
    was found and what to do. ``stale`` is a file its service left behind (a new service may replace it)."""

    client: ServiceClient | None = None
    problem: str = ""
    hint: str = ""
    stale: bool = False
    pid: int = 0

    def error(self) -> ServiceUnavailable:
        return ServiceUnavailable(self.problem, hint=self.hint)


def discover(root: Path) -> Discovery | None:
    """Check ``<root>/service.json``; None when there is none. Sends nothing anywhere unless the file names
    this root, this version series and a live process; then only ``GET health``, whose answer must agree."""
    ours = _sdk_version()
    path = root / RUNTIME_FILE
    try:
        info = json.loads(path.read_text())
        if not isinstance(info, dict):
            raise ValueError("not an object")
        pid, url, token = int(info.get("pid") or 0), str(info["url"]), str(info["token"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Discovery(problem=f"{path} is not a service file this version can read ({exc})",
                         hint=f"delete {path} if no service runs for {root}, then retry", stale=True)
    what = f"{path} names the service at {url} (pid {pid}"
    file_root, file_version = info.get("root"), info.get("version")
    what += f", root {file_root}" if file_root else ""
    what += f", jupyter-aml {file_version})" if file_version else ")"
    if not _alive(pid) or _nobody_listens(url):
        return Discovery(problem=f"{what}, which is no longer running: the file was left by a service that "
                         "was stopped or killed",
                         hint=f"start JupyterLab or `aml serve --root {root}` (either replaces the file), or "
                         f"delete {path}", stale=True, pid=pid)
    if file_root and not _same_path(file_root, root):
        return Discovery(problem=f"{what}, which serves another root: nothing was sent to it",
                         hint=f"this file was copied, or its root moved. Use that root "
                         f"(JUPYTER_AML_ROOT={file_root}), or stop pid {pid} and delete {path} so that a "
                         f"service for {root} can start", pid=pid)
    if file_version and not compatible(str(file_version), ours):
        return Discovery(problem=f"{what}, which is not compatible with this SDK (jupyter-aml {ours}): "
                         "nothing was sent to it",
                         hint=_version_hint(root, pid, str(file_version)), pid=pid)
    client = ServiceClient(url, token)
    try:
        health = client.get("health", timeout=HEALTH_TIMEOUT)
        if not isinstance(health, dict):
            raise ServiceUnavailable(f"its health check answered {type(health).__name__}, not a JSON object")
    except AMLError as exc:
        return Discovery(problem=f"{what}, which is running but does not answer its health check: {exc}",
                         hint=f"wait for it to finish starting, or stop pid {pid} (its log says why it "
                         f"hangs) and start JupyterLab or `aml serve --root {root}` again", pid=pid)
    their_root, their_version = str(health.get("root", "")), str(health.get("version", ""))
    if their_root and not _same_path(their_root, root):
        return Discovery(problem=f"{what}, but the service answering there serves root {their_root}: "
                         "nothing else was sent to it",
                         hint=f"another service took that port after this file was written; stop pid {pid} "
                         f"if it is not a service, delete {path}, and start `aml serve --root {root}`", pid=pid)
    if their_version and not compatible(their_version, ours):
        return Discovery(problem=f"{what}, whose service runs jupyter-aml {their_version}, not compatible with "
                         f"this SDK (jupyter-aml {ours}): nothing else was sent to it",
                         hint=_version_hint(root, pid, their_version), pid=pid)
    return Discovery(client=client, pid=pid)


def _sdk_version() -> str:
    """This SDK's version (``jupyter_aml._version``, not the package: the SDK layer does not import it)."""
    try:
        from jupyter_aml._version import __version__
    except ImportError:  # a source tree that was never built
        return "0.1.0.dev0"
    return str(__version__)


def _version_hint(root: Path, pid: int, theirs: str) -> str:
    return (f"another environment's jupyter-aml {theirs} serves {root}. Use this SDK with a root of its own "
            f"(JUPYTER_AML_ROOT=/some/other/folder), or stop pid {pid} and use one version for this root")


def _token_for(url: str, root: Path) -> str | None:
    """A config file names the service but never holds its secret: take it from the environment or
    from the runtime file of that same service on this machine."""
    if os.environ.get("JUPYTER_AML_TOKEN"):
        return os.environ["JUPYTER_AML_TOKEN"]
    try:
        info = json.loads((root / RUNTIME_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return str(info["token"]) if info.get("url", "").rstrip("/") == url.rstrip("/") else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_background_service(root: Path) -> ServiceClient:
    """Start ``aml serve`` for ``root`` detached from this process and wait until it answers. Only the file
    the new process writes is taken: an older one in the root is never mistaken for it."""
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
        found = discover(root)
        if found is not None and found.pid == proc.pid and found.client is not None:
            return found.client
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
    found = discover(root)
    if found is not None and found.client is not None:
        return found.client
    if found is not None and not found.stale:
        raise found.error()  # a live service holds this root, or the file is another's: never start a second
    if not autostart:
        if found is not None:
            raise found.error()
        raise ServiceUnavailable(
            f"no workspace service is running for {root}",
            hint="start JupyterLab or `aml serve`, or set JUPYTER_AML_URL",
        )
    if found is not None:
        print(f"jupyter-aml: {found.problem}; starting a new service for {root}", file=sys.stderr)
    return start_background_service(root)
