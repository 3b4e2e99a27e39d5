"""A real Docker engine for the tests: install docker.io and start dockerd when missing (as root, with apt),
and a small Python base image made locally from this machine's interpreter (no registry is reachable)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

BASE_TAG = "jupyter-aml-test/python:host-3.11"
SKIP_DIRS = {"site-packages", "test", "tests", "idlelib", "tkinter", "turtledemo", "__pycache__", "lib2to3"}


def _ping() -> Any | None:
    import docker

    try:
        client = docker.from_env(timeout=120)
        client.ping()
        return client
    except Exception:
        return None


def _unavailable(reason: str) -> None:
    """Skip on a developer's machine without Docker; in CI a missing engine is a failure, not a skip."""
    if os.environ.get("CI"):
        pytest.fail(f"Docker engine required in CI: {reason}")
    pytest.skip(reason)


def ensure_engine() -> Any:
    """A client of a running engine; install and start one if this machine allows, else skip the test."""
    client = _ping()
    if client is not None:
        return client
    if os.geteuid() != 0:
        _unavailable("no Docker engine, and not root to start one")
    if shutil.which("dockerd") is None:
        if shutil.which("apt-get") is None:
            _unavailable("no Docker engine and no apt-get to install docker.io")
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "docker.io"],
                       check=True, capture_output=True, timeout=600)
    log = open("/tmp/jupyter-aml-dockerd.log", "ab")  # noqa: SIM115 - the daemon keeps it
    subprocess.Popen(["dockerd"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                     start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        client = _ping()
        if client is not None:
            return client
        time.sleep(0.3)
    _unavailable("dockerd did not start: see /tmp/jupyter-aml-dockerd.log")


def _ldd(paths: list[Path]) -> set[Path]:
    found: set[Path] = set()
    for path in paths:
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            for token in parts:
                if token.startswith("/") and Path(token).exists():
                    found.add(Path(token))
    return found


def python_base_image(client: Any) -> str:
    """An image holding this machine's Python (interpreter, stdlib, the shared libraries it needs)."""
    try:
        client.images.get(BASE_TAG)
        return BASE_TAG
    except Exception:
        pass
    exe = Path(os.path.realpath(sys.executable))
    stdlib = Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    files: list[Path] = [exe]
    for root, dirs, names in os.walk(stdlib):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        files += [Path(root) / n for n in names if not n.endswith(".pyc")]
    files += sorted(_ldd([exe, *stdlib.glob("lib-dynload/*.so")]))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        dockerfile = b"FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8\n"
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
        for path in files:
            tar.add(os.path.realpath(path), arcname=f"rootfs{path}", recursive=False)
        for link in ("usr/local/bin/python3", "usr/local/bin/python"):
            info = tarfile.TarInfo(f"rootfs/{link}")
            info.type, info.linkname = tarfile.SYMTYPE, str(exe)
            tar.addfile(info)
        info = tarfile.TarInfo("rootfs/tmp")
        info.type, info.mode = tarfile.DIRTYPE, 0o1777
        tar.addfile(info)
    buffer.seek(0)
    client.images.build(fileobj=buffer, custom_context=True, tag=BASE_TAG, rm=True, pull=False)
    return BASE_TAG
