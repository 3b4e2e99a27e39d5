"""Upload ``./outputs`` and ``./logs`` at the end of a run: only the blobs the service lacks."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.api import Api
from jupyter_aml.runtime.names import run_path_problem

from .reporting import retry_until

OUTPUT_DIRS = ("outputs", "logs")
BATCH = 500  # hashes a missing-blobs query, files a registration: well within the service's 10,000 cap


def collect_files(wd: Path, dirs: Iterable[str] = OUTPUT_DIRS,
                  skipped: list[tuple[str, str]] | None = None) -> list[tuple[str, Path]]:
    """``(relative posix path, file)`` for every regular file under ``wd/<dir>``.

    Symlinks are followed only when they resolve to a file inside ``wd``. A file whose path is not a valid
    run-file path (``runtime/names.py``: a space at either end of a name, a control character, a backslash)
    is left out, and ``(path, reason)`` is added to ``skipped``: the service would refuse the whole batch.
    """
    root = wd.resolve()
    found: list[tuple[str, Path]] = []
    for top in dirs:
        base = root / top
        if base.is_symlink() or not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath) / name
                real = path.resolve()
                if not real.is_file() or not real.is_relative_to(root):
                    continue
                rel = path.relative_to(root).as_posix()
                problem = run_path_problem(rel)
                if problem:
                    if skipped is not None:
                        skipped.append((rel, problem))
                    continue
                found.append((rel, path))
    return found


def sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def upload_blobs(api: Api, workspace: str, files: Iterable[tuple[str, Path]], deadline: float
                 ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Hash ``(relative path, file)`` pairs and upload the blobs the service lacks; the files' entries
    (path, sha256, size) and counts."""
    entries: list[dict[str, Any]] = []
    by_hash: dict[str, Path] = {}
    for rel, path in files:
        sha, size = sha256_file(path)
        entries.append({"path": rel, "sha256": sha, "size": size})
        by_hash.setdefault(sha, path)
    stats = {"files": len(entries), "uploaded": 0, "uploaded_bytes": 0, "skipped": 0}
    if not entries:
        return entries, stats
    hashes = list(by_hash)
    missing: list[str] = []
    for i in range(0, len(hashes), BATCH):
        part = hashes[i:i + BATCH]
        missing.extend(retry_until(lambda part=part: api.missing_blobs(workspace, part), deadline))  # type: ignore[misc]
    for sha in missing:
        blob = by_hash.get(sha)
        if blob is None:
            continue
        retry_until(lambda sha=sha, blob=blob: api.put_blob(workspace, sha, file=blob), deadline)  # type: ignore[misc]
        stats["uploaded"] += 1
        stats["uploaded_bytes"] += blob.stat().st_size
    return entries, stats


def upload_outputs(api: Api, workspace: str, run_id: str, wd: Path, deadline: float,
                   log: Callable[[str], None] | None = None, *, dirs: Iterable[str] = OUTPUT_DIRS,
                   extra: Iterable[tuple[str, Path]] = ()) -> dict[str, Any]:
    """Hash, upload missing blobs, register the files on the run (``wd/<dirs>`` and the ``extra`` files the
    agent wrote itself, e.g. a distributed run's per-process logs). Returns counts."""
    skipped: list[tuple[str, str]] = []
    files = collect_files(wd, dirs, skipped=skipped) + list(extra)
    if log is not None:
        for rel, problem in skipped:
            log(f"not uploaded: {rel!r} {problem}; rename it to keep it with the run")
    entries, stats = upload_blobs(api, workspace, files, deadline)
    stats["skipped"] = len(skipped)
    if not entries:
        return stats
    for i in range(0, len(entries), BATCH):
        body: T.RunFiles = {"files": cast(list[T.RunFile], entries[i:i + BATCH])}
        retry_until(lambda body=body: api.add_run_files(workspace, run_id, body), deadline)  # type: ignore[misc]
    if log is not None:
        log(f"registered {stats['files']} output file(s); uploaded {stats['uploaded']} new blob(s), "
            f"{stats['uploaded_bytes']} bytes")
    return stats
