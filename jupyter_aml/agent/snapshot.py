"""Download a run's snapshot and extract it safely (stdlib zipfile, strict containment checks)."""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime.http import ServiceClient

MAX_SNAPSHOT_BYTES = 4 << 30  # uncompressed; the service enforces its own (smaller) limit on upload


class UnsafeArchive(InvalidInput):
    """The snapshot archive holds a path that would land outside the working folder."""


def _check_name(name: str) -> PurePosixPath:
    if not name or "\\" in name or "\0" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchive(f"unsafe path in snapshot archive: {name!r}")
    if any(part in ("", ".", "..") for part in name.split("/")):
        raise UnsafeArchive(f"unsafe path in snapshot archive: {name!r}")
    return PurePosixPath(name)


def safe_extract(zip_path: str | os.PathLike[str], dest: str | os.PathLike[str],
                 max_bytes: int = MAX_SNAPSHOT_BYTES) -> int:
    """Extract ``zip_path`` into the existing folder ``dest``; return the number of files.

    Rejects absolute names, ``..``, backslashes, drive letters, symlink entries and anything whose
    resolved target is not inside ``dest``. Keeps the owner's executable bit.
    """
    root = Path(dest).resolve(strict=True)
    count = 0
    with zipfile.ZipFile(zip_path) as zf:
        infos = zf.infolist()
        if sum(i.file_size for i in infos) > max_bytes:
            raise UnsafeArchive(f"snapshot expands beyond {max_bytes} bytes")
        for info in infos:
            rel = _check_name(info.filename.rstrip("/") if info.is_dir() else info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeArchive(f"symlink in snapshot archive: {info.filename!r}")
            target = (root / rel).resolve()
            if target == root or not target.is_relative_to(root):
                raise UnsafeArchive(f"path escapes the working folder: {info.filename!r}")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.parent.resolve().is_relative_to(root):
                raise UnsafeArchive(f"path escapes the working folder: {info.filename!r}")
            if target.is_symlink() or target.exists():
                raise UnsafeArchive(f"duplicate path in snapshot archive: {info.filename!r}")
            with zf.open(info) as src, open(target, "xb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            if mode & 0o100:
                target.chmod(0o755)
            count += 1
    return count


def fetch_snapshot(client: ServiceClient, workspace: str, snapshot_id: str, run_dir: Path, wd: Path,
                   retry: int = 8) -> int:
    """Download the snapshot zip into ``run_dir`` and extract it into the (fresh) folder ``wd``."""
    zip_path = run_dir / "snapshot.zip"
    client.stream_download(f"/workspaces/{workspace}/snapshots/{snapshot_id}/zip", zip_path, retry=retry)
    try:
        return safe_extract(zip_path, wd)
    finally:
        zip_path.unlink(missing_ok=True)


def fresh_dir(path: Path) -> Path:
    """Create ``path`` empty (removing what a previous attempt left)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path
