"""Download a run's snapshot zip and unpack it with the one snapshot extractor (``snapshot/archive.py``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from jupyter_aml.runtime.http import ServiceClient
from jupyter_aml.snapshot.archive import safe_extract_zip

MAX_SNAPSHOT_BYTES = 4 << 30  # uncompressed; the service enforces its own (smaller) limit on upload


def fetch_snapshot(client: ServiceClient, workspace: str, snapshot_id: str, run_dir: Path, wd: Path,
                   retry: int = 8) -> int:
    """Download the snapshot zip into ``run_dir`` and extract it into the empty folder ``wd``; return the
    number of files. A refused archive (unsafe names, escaping links, over the limit) raises ``InvalidInput``
    or ``SnapshotTooLarge`` and leaves ``wd`` as it was."""
    zip_path = run_dir / "snapshot.zip"
    from jupyter_aml.runtime.api import Api  # the one place REST paths are built

    Api(client).download_snapshot_zip(workspace, snapshot_id, zip_path, retry=retry)
    try:
        return len(safe_extract_zip(zip_path, wd, max_total_bytes=MAX_SNAPSHOT_BYTES, max_files=None))
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
