"""Validation of relative paths that come from snapshots, manifests and zip members.

Every path that crosses a trust boundary (a folder scan, a REST manifest, a zip member, a file the run agent
downloads) goes through :func:`validate_relpath` so that there is exactly one definition of "safe path".
Containment on disk is checked separately by :func:`resolve_inside` on resolved real paths, because a string
check cannot see symlinks.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from pathlib import Path
from urllib.parse import unquote

from jupyter_aml.errors import InvalidInput

MAX_PATH_LENGTH = 1024
"""Longest relative path accepted, in characters (long enough for deep projects, short enough for any OS)."""

_MAX_DECODE_ROUNDS = 8
_DRIVE = re.compile(r"^[A-Za-z]:")
_HINT = "Use a relative POSIX path such as 'src/train.py' (forward slashes, no '..', no drive or leading /)."


def _structural_problem(path: str) -> str | None:
    """Return why ``path`` is unsafe as a relative path, ignoring '.' segments (they are normalised)."""
    if "\x00" in path:
        return "contains a NUL character"
    if "\\" in path:
        return "contains a backslash (Windows separators are not allowed)"
    if path.startswith("/"):
        return "is absolute"
    if _DRIVE.match(path):
        return "starts with a drive letter"
    if ".." in path.split("/"):
        return "contains a '..' segment"
    return None


def path_problem(path: str) -> str | None:
    """Return why ``path`` is not a safe relative path, or None when it is (see :func:`validate_relpath`)."""
    if not isinstance(path, str):
        return f"must be a string, not {type(path).__name__}"
    if not path:
        return "is empty"
    if len(path) > MAX_PATH_LENGTH:
        return f"is {len(path)} characters long (limit {MAX_PATH_LENGTH})"
    problem = _structural_problem(path)
    if problem:
        return problem
    decoded = path
    for _ in range(_MAX_DECODE_ROUNDS):
        if "%" not in decoded:
            break
        nxt = unquote(decoded)
        if nxt == decoded:
            break
        problem = _structural_problem(nxt)
        if problem is None and nxt.count("/") != decoded.count("/"):
            problem = "contains a percent-encoded '/'"
        if problem is None and _dot_segments(nxt) > _dot_segments(decoded):
            problem = "contains a percent-encoded '.' or '..' segment"
        if problem:
            return f"{problem} once percent-decoded"
        decoded = nxt
    else:
        return "is percent-encoded too many times"
    if not [seg for seg in path.split("/") if seg not in ("", ".")]:
        return "names no file (only '.' and '/')"
    return None


def _dot_segments(path: str) -> int:
    return sum(seg in (".", "..") for seg in path.split("/"))


def validate_relpath(path: str) -> str:
    """Return ``path`` as a normalised POSIX relative path, or raise :class:`InvalidInput` saying why.

    '.' segments and repeated slashes are normalised away; everything that could escape a destination folder
    (absolute paths, drive letters, UNC/backslashes, '..', NUL) is refused, also when it is hidden behind one
    or more layers of percent-encoding, because some layer (a proxy, a URL router) might decode it later.
    """
    problem = path_problem(path)
    if problem:
        shown = repr(path) if isinstance(path, str) else type(path).__name__
        if len(shown) > 120:
            shown = shown[:117] + "..."
        raise InvalidInput(f"Unsafe path {shown}: {problem}", hint=_HINT)
    return "/".join(seg for seg in path.split("/") if seg not in ("", "."))


def resolve_inside(root: Path, rel: str) -> Path:
    """Return the resolved real path of ``rel`` under ``root``, refusing anything that lands outside it.

    The check runs on ``Path.resolve()`` results (symlinks followed) rather than on strings, so a symlinked
    directory inside ``root`` that points elsewhere is caught.
    """
    clean = validate_relpath(rel)
    real_root = Path(root).resolve()
    target = (real_root / clean).resolve()
    if not target.is_relative_to(real_root):
        raise InvalidInput(
            f"Path {clean!r} resolves to {str(target)!r}, outside {str(real_root)!r}",
            hint="A symlink along this path points outside the folder; remove the symlink or the file.",
        )
    return target


def path_below_file(paths: Iterable[str], files: Container[str]) -> tuple[str, str] | None:
    """Return the first ``(parent, path)`` where ``path`` lies below ``parent``, one of ``files`` (such a pair
    cannot be written out, and a symlink ``parent`` would be written through); None when there is none."""
    for path in paths:
        parts = path.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent in files:
                return parent, path
    return None
