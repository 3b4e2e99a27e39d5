"""Service discovery through ``<root>/service.json`` against real services: two roots side by side, a file
left by a killed service, a file copied from another root, another version's service, one that hangs.

The SDK must use the file only for a live service of its own root and version series, say what it found
otherwise, and never send another root's service anything but (at most) the health check."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_aml.errors import ServiceUnavailable
from jupyter_aml.sdk.connect import compatible, connect, discover
from jupyter_aml.sdk.workspace import Workspace
from tests.e2e.conftest import REPO, ServiceProcess
from tests.procs import kill_processes_using


@pytest.fixture
def two_services(tmp_path: Path) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    services = [ServiceProcess(tmp_path / name, extra=[]) for name in ("root-a", "root-b")]
    for svc in services:
        svc.root.mkdir()
        svc.start()
    yield services[0], services[1]
    for svc in services:
        svc.stop()
        kill_processes_using(svc.root)


def workspaces(svc: ServiceProcess) -> set[str]:
    return {w["name"] for w in svc.client().get("workspaces")["items"]}


def test_two_roots_each_find_their_own_service(two_services: tuple[ServiceProcess, ServiceProcess]) -> None:
    a, b = two_services
    info = a.info()
    assert Path(info["root"]) == a.root.resolve() and info["version"] and info["pid"] == a.proc.pid  # type: ignore[union-attr]
    Workspace("only-a", client=connect(root=a.root, autostart=False), create=True)
    Workspace("only-b", client=connect(root=b.root, autostart=False), create=True)
    assert "only-a" in workspaces(a) and "only-a" not in workspaces(b)
    assert "only-b" in workspaces(b) and "only-b" not in workspaces(a)


def test_another_roots_file_is_refused_and_nothing_is_sent(
    two_services: tuple[ServiceProcess, ServiceProcess], tmp_path: Path
) -> None:
    a, _b = two_services
    copy = tmp_path / "root-c"
    copy.mkdir()
    (copy / "service.json").write_text((a.root / "service.json").read_text())
    before = workspaces(a)
    with pytest.raises(ServiceUnavailable) as err:
        connect(root=copy)  # autostart too: a second service must not start over someone else's file
    text = f"{err.value} {err.value.hint}"
    assert "serves another root" in text and str(a.root.resolve()) in text and str(a.proc.pid) in text  # type: ignore[union-attr]
    assert "nothing was sent" in text and "JUPYTER_AML_ROOT=" in text
    assert not (copy / "service.log").exists()  # no background service was started
    # A file from an older version, without its root: the health check's answer gives it away.
    info = json.loads((a.root / "service.json").read_text())
    del info["root"], info["version"]
    (copy / "service.json").write_text(json.dumps(info))
    with pytest.raises(ServiceUnavailable, match="serves root") as err:
        connect(root=copy, autostart=False)
    assert str(a.root.resolve()) in str(err.value)
    assert workspaces(a) == before


def test_stale_file_of_a_killed_service(two_services: tuple[ServiceProcess, ServiceProcess]) -> None:
    a, b = two_services
    pid = a.proc.pid  # type: ignore[union-attr]
    a.kill9()
    assert (a.root / "service.json").exists()  # a killed service cannot remove it
    found = discover(a.root)
    assert found is not None and found.stale and found.client is None
    assert f"pid {pid}" in found.problem and "no longer running" in found.problem
    with pytest.raises(ServiceUnavailable, match="no longer running") as err:
        connect(root=a.root, autostart=False)
    assert f"aml serve --root {a.root}" in (err.value.hint or "")
    # With autostart, the SDK says what it found and starts a fresh service for the root, and uses only it.
    proc = subprocess.run(
        [sys.executable, "-c", "import os; from pathlib import Path; from jupyter_aml.sdk.connect import connect; "
         "c = connect(root=Path(os.environ['ROOT'])); print(c.get('health')['root'])"],
        env={**os.environ, "ROOT": str(a.root), "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
        timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(a.root.resolve())
    assert "no longer running" in proc.stderr and f"starting a new service for {a.root}" in proc.stderr
    new = json.loads((a.root / "service.json").read_text())
    assert new["pid"] != pid
    os.kill(new["pid"], signal.SIGTERM)
    assert "only-b" not in workspaces(b)


def test_another_versions_service_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root-v"
    root.mkdir()
    port = free_port()
    code = ("import sys; from pathlib import Path; import jupyter_aml, jupyter_aml._version as v; "
            "jupyter_aml.__version__ = v.__version__ = '9.0.0'; "
            "from jupyter_aml.server.standalone import serve; "
            f"serve(Path({str(root)!r}), port={port})")
    with open(root / "service.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True)
    try:
        wait_for_file(root, proc)
        assert json.loads((root / "service.json").read_text())["version"] == "9.0.0"
        with pytest.raises(ServiceUnavailable) as err:
            connect(root=root)
        text = f"{err.value} {err.value.hint}"
        assert "jupyter-aml 9.0.0" in text and "not compatible" in text and f"pid {proc.pid}" in text
        assert "JUPYTER_AML_ROOT=" in text
        # The file may lie about its version (an older writer): the health answer is checked too.
        info = json.loads((root / "service.json").read_text())
        del info["version"]
        (root / "service.json").write_text(json.dumps(info))
        with pytest.raises(ServiceUnavailable, match=r"runs jupyter-aml 9\.0\.0"):
            connect(root=root, autostart=False)
    finally:
        proc.terminate()
        proc.wait(15)
        kill_processes_using(root)


def test_a_service_that_does_not_answer(tmp_path: Path) -> None:
    """A live process that accepts connections and never answers (a hung service): refused with a timeout
    that says so, and no second service is started over it."""
    root = tmp_path / "root-h"
    root.mkdir()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        (root / "service.json").write_text(json.dumps({
            "url": f"http://127.0.0.1:{port}", "token": "t", "pid": os.getpid(), "root": str(root.resolve()),
            "version": compatible_version()}))
        import jupyter_aml.sdk.connect as connect_module

        old, connect_module.HEALTH_TIMEOUT = connect_module.HEALTH_TIMEOUT, 1.0
        try:
            started = time.monotonic()
            with pytest.raises(ServiceUnavailable, match="does not answer its health check") as err:
                connect(root=root)
            assert time.monotonic() - started < 30
        finally:
            connect_module.HEALTH_TIMEOUT = old
    assert f"pid {os.getpid()}" in (err.value.hint or "")
    assert not (root / "service.log").exists()


def test_version_series() -> None:
    assert compatible("0.1.0", "0.1.3.dev2") and compatible("1.4", "1.4.0+local")
    assert not compatible("0.2.0", "0.1.0") and not compatible("1.0.0", "0.1.0") and not compatible("x", "0.1")


def compatible_version() -> str:
    from jupyter_aml import __version__

    return __version__


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_file(root: Path, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (root / "service.json").exists():
            return
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError("service did not start:\n" + (root / "service.log").read_text()[-3000:])
