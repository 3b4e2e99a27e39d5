"""Snapshotting a folder that lives on the service's own machine (the studio's "Submit folder as run").

The browser cannot read the server's files, so the service scans and stores them itself, with the
same ignore rules, limits and content addressing as a client-side submit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_aml.core import models
from jupyter_aml.core.files import FileService
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.snapshot.gitinfo import git_info
from jupyter_aml.snapshot.manifest import manifest_entries
from jupyter_aml.snapshot.scan import scan_folder


def snapshot_folder(files: FileService, settings: ServiceSettings, folder: Path) -> tuple[str, dict[str, Any] | None]:
    """Store the folder's blobs and manifest; return the snapshot id and the folder's git info."""
    scan = scan_folder(
        folder,
        max_files=settings.snapshot_max_files,
        max_bytes=settings.snapshot_max_bytes,
        hash_cache=settings.root / "hash-cache.json",
    )
    for entry in scan.files:
        if not files.blobs.touch(entry.sha256):
            with open(entry.abspath, "rb") as handle:  # a file changed since hashing is refused by its hash
                files.blobs.put_stream(entry.sha256, handle, max_bytes=settings.max_upload_bytes)
    entries = [models.SnapshotFile(**e) for e in manifest_entries(scan)]
    snapshot = files.create_snapshot(
        models.SnapshotCreate(files=entries),
        max_files=settings.snapshot_max_files,
        max_bytes=settings.snapshot_max_bytes,
    )
    return snapshot.id, git_info(folder)
