"""Source snapshots: scan a folder (.amlignore/.gitignore rules), hash it, id it, zip and unzip it safely.

Shared by the SDK (scan, manifest, git info at submit time), the service (manifest validation, zips) and the
run agent (extraction). Only ``gitinfo`` needs GitPython, and it imports it lazily.
"""

from jupyter_aml.snapshot.archive import extract_files, safe_extract_zip, write_zip
from jupyter_aml.snapshot.gitinfo import git_info, strip_credentials
from jupyter_aml.snapshot.manifest import manifest_entries, manifest_id, normalize_manifest
from jupyter_aml.snapshot.paths import resolve_inside, validate_relpath
from jupyter_aml.snapshot.scan import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_FILES,
    FileEntry,
    SnapshotScan,
    scan_folder,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_FILES",
    "FileEntry",
    "SnapshotScan",
    "extract_files",
    "git_info",
    "manifest_entries",
    "manifest_id",
    "normalize_manifest",
    "resolve_inside",
    "safe_extract_zip",
    "scan_folder",
    "strip_credentials",
    "validate_relpath",
    "write_zip",
]
