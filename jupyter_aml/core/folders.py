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
from jupyter_aml.errors import InvalidInput
from jupyter_aml.snapshot.gitinfo import git_info
from jupyter_aml.snapshot.manifest import manifest_entries
from jupyter_aml.snapshot.paths import resolve_inside
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


class FolderRuns:
    """Turns a folder request of the studio into the run it submits: the folder, resolved inside the
    server's root, is snapshotted here; the caller queues the returned spec."""

    def __init__(self, files: FileService, settings: ServiceSettings) -> None:
        self.files = files
        self.settings = settings

    def run_spec(self, spec: models.FolderRunCreate, server_root: Path) -> models.RunCreate:
        folder = resolve_inside(server_root, spec.folder) if spec.folder.strip("/") else server_root.resolve()
        if not folder.is_dir():
            raise InvalidInput(
                f"folder {spec.folder!r} does not exist on the server", hint="pick a folder in the file browser"
            )
        snapshot_id, git = snapshot_folder(self.files, self.settings, folder)
        return models.RunCreate(
            experiment=spec.experiment,
            kind="script",
            snapshot_id=snapshot_id,
            run_config=spec.run_config,
            tags=spec.tags,
            git=models.GitInfo(**git) if git else None,
            display_name=spec.display_name,
            description=spec.description,
        )
