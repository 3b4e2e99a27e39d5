"""Submitting a folder: scan with ignore rules, upload only the blobs the service lacks, post the manifest."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.api import Api


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file (its blob name), read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jupyter-aml" / "hash-cache.sqlite"


@dataclass
class UploadResult:
    snapshot_id: str
    file_count: int
    total_size: int
    uploaded_files: int
    uploaded_bytes: int


@dataclass(frozen=True)
class SnapshotProgress:
    """One step of a snapshot on its way to the service, for a caller that shows it (``%aml_submit``'s line).

    ``stage``: ``"checking"`` (the folder is scanned: ``files``), ``"uploading"`` (``to_upload`` of them are
    new to the service), ``"uploaded"`` (after each upload: ``uploaded``), ``"created"`` (the snapshot exists:
    ``files`` and ``total_size`` as the service counted them).
    """

    stage: str
    files: int
    to_upload: int = 0
    uploaded: int = 0
    total_size: int = 0


ProgressCallback = Callable[[SnapshotProgress], None]


def upload_snapshot(
    api: Api,
    workspace: str,
    source_directory: str | os.PathLike[str],
    *,
    script: str | None = None,
    progress: bool | ProgressCallback = True,
    script_kind: str = "training script",
    script_arg: str = "script",
) -> UploadResult:
    """Snapshot ``source_directory`` and upload what the service lacks. ``progress``: a bar for a big upload
    (True), nothing (False), or a callable told each step (``SnapshotProgress``). ``script_kind``/``script_arg``
    name what the folder holds in errors (a deployment's folder holds a scoring script, its ``entry_script``)."""
    from jupyter_aml.snapshot.manifest import manifest_entries
    from jupyter_aml.snapshot.paths import validate_relpath
    from jupyter_aml.snapshot.scan import scan_folder

    root = Path(source_directory)
    if not root.is_dir():
        relative = "" if root.is_absolute() else f" (relative to the current folder {os.getcwd()})"
        raise InvalidInput(
            f"source_directory {str(root)!r} is not a folder{relative}",
            hint=f"pass the folder that holds your {script_kind}",
        )
    scan = scan_folder(root, hash_cache=_cache_file())  # limits: JUPYTER_AML_SNAPSHOT_MAX_FILES / _BYTES
    if script is not None:
        rel = validate_relpath(script)
        if rel not in {f.path for f in scan.files}:
            where = root / rel
            why = (
                ("is excluded by " + (scan.ignore_file or "the ignore rules")) if where.is_file() else "does not exist"
            )
            raise InvalidInput(
                f"{script_arg} {script!r} {why} in source_directory {str(root)!r}",
                hint=f"the {script_arg} path is relative to source_directory",
            )
    entries = manifest_entries(scan)
    tell: ProgressCallback = progress if callable(progress) else (lambda step: None)
    tell(SnapshotProgress("checking", len(scan.files)))
    known = _known_key(api, workspace, entries)
    if known in _KNOWN_SNAPSHOTS:  # made by this process, unchanged since: nothing to ask or send
        size = sum(int(e["size"]) for e in entries)
        tell(SnapshotProgress("created", len(entries), 0, 0, size))
        return UploadResult(snapshot_id=known[2], file_count=len(entries), total_size=size, uploaded_files=0,
                            uploaded_bytes=0)
    missing = set(api.missing_blobs(workspace, sorted({e["sha256"] for e in entries})))
    todo = {f.sha256: f for f in scan.files if f.sha256 in missing}
    if todo:
        tell(SnapshotProgress("uploading", len(scan.files), len(todo)))

    def uploaded(count: int) -> None:
        tell(SnapshotProgress("uploaded", len(scan.files), len(todo), count))

    sent = _upload(api, workspace, list(todo.values()), progress is True, uploaded)
    snap = api.create_snapshot(workspace, {"files": cast(list[T.SnapshotFile], entries)})
    if snap["id"] == known[2]:
        _KNOWN_SNAPSHOTS.add(known)
    tell(SnapshotProgress("created", snap["file_count"], len(todo), len(todo), snap["total_size"]))
    return UploadResult(
        snapshot_id=snap["id"],
        file_count=snap["file_count"],
        total_size=snap["total_size"],
        uploaded_files=len(todo),
        uploaded_bytes=sent,
    )


# Snapshots this process created, by (service, workspace, id): a re-submit of an unchanged folder needs neither
# the missing-blob check nor the snapshot request (two round trips per Experiment.submit). The id is the
# manifest's hash, so an unchanged folder has the same one; if the service lost it since, the run's creation
# says so and Experiment.submit forgets it and uploads again (forget_snapshot).
_KNOWN_SNAPSHOTS: set[tuple[str, str, str]] = set()


def _known_key(api: Api, workspace: str, entries: list[dict[str, Any]]) -> tuple[str, str, str]:
    from jupyter_aml.snapshot.manifest import manifest_id

    return (str(getattr(api.http, "base_url", id(api))), workspace, manifest_id(entries))


def forget_snapshot(api: Api, workspace: str, snapshot_id: str) -> bool:
    """Drop a remembered snapshot (the service no longer has it); True when it was remembered."""
    key = (str(getattr(api.http, "base_url", id(api))), workspace, snapshot_id)
    if key in _KNOWN_SNAPSHOTS:
        _KNOWN_SNAPSHOTS.discard(key)
        return True
    return False


def _upload(api: Api, workspace: str, files: list[Any], progress: bool, uploaded: Callable[[int], None]) -> int:
    total = sum(f.size for f in files)
    bar: Any = None
    if progress and total > 1024 * 1024:
        try:
            from rich.progress import Progress

            bar = Progress(transient=True)
        except ImportError:
            bar = None
    sent = 0
    if bar is not None:
        with bar:
            task = bar.add_task("uploading snapshot", total=total)
            for count, f in enumerate(files, 1):
                api.put_blob(workspace, f.sha256, file=str(f.abspath))
                sent += f.size
                bar.update(task, advance=f.size)
                uploaded(count)
        return sent
    for count, f in enumerate(files, 1):
        api.put_blob(workspace, f.sha256, file=str(f.abspath))
        sent += f.size
        uploaded(count)
    return sent


def git_info(source_directory: str | os.PathLike[str]) -> dict[str, Any] | None:
    try:
        from jupyter_aml.snapshot.gitinfo import git_info as read
    except ImportError:  # GitPython missing in a minimal environment
        return None
    return read(Path(source_directory))
