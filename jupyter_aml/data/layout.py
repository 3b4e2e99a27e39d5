"""Where a file dataset's files go under a local folder (download, mount, a run's input folder).

As v1 lays them out: each file's path relative to where its dataset path's glob starts (``data/**/*.csv`` puts
``data/2024/a.csv`` at ``2024/a.csv``), a path that names one file puts it at its base name, and a URL's file at
the last segment of its path. The client (``FileDataset.download``) and the service (a run's inputs) use this
one function, so a script finds its files where a notebook found them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import Any

from jupyter_aml.data.sources import ResolvedFile

_GLOB = frozenset("*?[")


def glob_base(pattern: str) -> str:
    """Where a path's files are listed from: the folders before the first glob segment."""
    parts = [p for p in pattern.split("/") if p not in ("", ".")]
    fixed: list[str] = []
    for part in parts:
        if _GLOB & set(part):
            return "/".join(fixed)
        fixed.append(part)
    return "/".join(fixed)


def relative_paths(paths: Sequence[Mapping[str, Any]], files: Sequence[ResolvedFile]) -> list[tuple[ResolvedFile, str]]:
    """Each file with its path under a local folder, for a definition's ``paths``."""
    bases: dict[str, list[str]] = {}
    for p in paths:
        if p.get("datastore") is not None:
            bases.setdefault(str(p["datastore"]), []).append(glob_base(str(p.get("path") or "")))
    out = []
    for f in files:
        if f.url is not None:
            rel = posixpath.basename(f.url.split("?", 1)[0]) or "index"
        else:
            rel = f.info.path
            for base in sorted(bases.get(f.datastore or "", []), key=len, reverse=True):
                if base == rel:  # the path named this very file
                    rel = posixpath.basename(rel)
                    break
                if not base or rel.startswith(base + "/"):
                    rel = rel[len(base) + 1:] if base else rel
                    break
        out.append((f, rel))
    return out
