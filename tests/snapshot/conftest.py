"""Helpers shared by the snapshot tests: real files on disk, no mocks.

Helpers are handed out as fixtures (not imported) so the tests work under any pytest import mode.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest


def _write(root: Path, rel: str, content: bytes | str = b"x", *, mode: int | None = None) -> Path:
    """Create ``root/rel`` (and its folders) with ``content``; optionally chmod it."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    path.write_bytes(data)
    if mode is not None:
        os.chmod(path, mode)
    return path


def _backdate(root: Path, seconds: int = 3600) -> None:
    """Age every file's mtime so the hash cache treats it as settled (outside the racy window)."""
    past = time.time() - seconds
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            os.utime(Path(dirpath) / name, (past, past))


def _listing(path: Path) -> list[str]:
    """Every entry below ``path`` (files, folders, symlinks), relative, sorted."""
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest.fixture
def write() -> Callable[..., Path]:
    return _write


@pytest.fixture
def backdate() -> Callable[..., None]:
    return _backdate


@pytest.fixture
def listing() -> Callable[[Path], list[str]]:
    return _listing
