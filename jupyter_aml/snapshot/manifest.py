"""Snapshot manifests and their content-derived ids.

The snapshot id is a hash of the manifest, so the SDK can compute it before uploading anything and the
service computes the same value from the REST payload: the same folder content always yields the same id,
and re-submitting an unchanged folder is a no-op on the server.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from jupyter_aml.errors import InvalidInput
from jupyter_aml.snapshot.paths import path_below_file, validate_relpath
from jupyter_aml.snapshot.scan import FileEntry, SnapshotScan

ALLOWED_MODES = (0o644, 0o755)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_HINT = "Each manifest file needs {path, sha256 (64 hex chars), size (bytes >= 0), mode (420 or 493)}."


def _field(item: FileEntry | Mapping[str, Any], name: str) -> Any:
    if isinstance(item, FileEntry):
        return getattr(item, name)
    if name not in item:
        raise InvalidInput(f"Manifest entry {dict(item)!r} has no {name!r}", hint=_HINT)
    return item[name]


def normalize_manifest(files: Iterable[FileEntry | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate manifest entries and return them as ``{path, sha256, size, mode}`` dicts sorted by path.

    Used by the service on untrusted REST payloads: paths must pass :func:`validate_relpath`, hashes are
    lowercase sha256 hex, sizes are non-negative ints, modes are 0o644 or 0o755, and paths are unique.
    """
    out: dict[str, dict[str, Any]] = {}
    for item in files:
        raw_path = _field(item, "path")
        path = validate_relpath(raw_path)
        sha = _field(item, "sha256")
        if not isinstance(sha, str) or not _SHA256.match(sha.lower()):
            raise InvalidInput(f"Manifest entry {path!r} has an invalid sha256 {sha!r}", hint=_HINT)
        size = _field(item, "size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidInput(f"Manifest entry {path!r} has an invalid size {size!r}", hint=_HINT)
        mode = _field(item, "mode")
        if isinstance(mode, bool) or mode not in ALLOWED_MODES:
            raise InvalidInput(f"Manifest entry {path!r} has an invalid mode {mode!r}", hint=_HINT)
        if path in out:
            raise InvalidInput(f"Manifest lists {path!r} twice", hint="List each file path once.")
        out[path] = {"path": path, "sha256": sha.lower(), "size": size, "mode": mode}
    _check_prefix_conflicts(out)
    return [out[p] for p in sorted(out)]


def _check_prefix_conflicts(entries: Mapping[str, Any]) -> None:
    """A path cannot be both a file and a folder ('a' and 'a/b'): such a snapshot cannot be written out."""
    nested = path_below_file(entries, entries)
    if nested:
        raise InvalidInput(
            f"Manifest lists {nested[0]!r} as a file and also {nested[1]!r} inside it",
            hint="A path cannot be both a file and a folder; rename one of them.",
        )


def manifest_id(files: Iterable[FileEntry | Mapping[str, Any]]) -> str:
    """Return the snapshot id: sha256 hex of the canonical JSON of sorted ``[path, sha256, size, mode]`` rows.

    Canonical means: rows sorted by path (code point order, the same as UTF-8 byte order), compact separators,
    ASCII-escaped strings, so every implementation that follows this rule gets the same bytes.
    """
    rows = [[e["path"], e["sha256"], e["size"], e["mode"]] for e in normalize_manifest(files)]
    blob = json.dumps(rows, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode("ascii")).hexdigest()


def manifest_entries(scan: SnapshotScan) -> list[dict[str, Any]]:
    """Return the REST payload rows ``{path, sha256, size, mode}`` for a scan, sorted by path."""
    return [{"path": f.path, "sha256": f.sha256, "size": f.size, "mode": f.mode} for f in scan.files]
