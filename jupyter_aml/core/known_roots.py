"""Every service root (and run-folder root) this OS user has opened, so a sandbox can hide all of them.

A sandboxed run must not read the secrets of its own service, and just as little those of another service
the same user runs elsewhere on disk (a second workspace, a benchmark, a test root). Only the service that
opens a root knows where it is, so each one notes its folders in a per-user list,
``$XDG_STATE_HOME/jupyter-aml/known-roots`` (``~/.local/state/...``; ``$JUPYTER_AML_KNOWN_ROOTS`` names
another file), and the bubblewrap runner hides every folder on it. Folders that no longer exist are dropped
when the list is written. Stdlib only: the runners import it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from jupyter_aml.core.roots import PRIVATE_FILE, make_private_dir


def registry_file() -> Path:
    override = os.environ.get("JUPYTER_AML_KNOWN_ROOTS")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "jupyter-aml" / "known-roots"


def _read(path: Path) -> list[Path]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, PermissionError, UnicodeDecodeError):
        return []
    return [Path(line) for line in lines if line.startswith("/")]


def known_folders() -> list[Path]:
    """The folders on the list that still exist (resolved, without repeats)."""
    out: list[Path] = []
    for folder in _read(registry_file()):
        with contextlib.suppress(OSError):
            resolved = folder.resolve()
            if resolved.is_dir() and resolved not in out:
                out.append(resolved)
    return out


def remember(*folders: Path) -> None:
    """Add ``folders`` to the list, dropping folders gone since; best effort (a read-only home only loses the
    protection of other services' folders, never this service's own, which its runner hides anyway)."""
    path = registry_file()
    with contextlib.suppress(OSError):
        make_private_dir(path.parent)
        with open(path.with_name(path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two services starting at once must not lose each other's line
            kept = [f for f in _read(path) if f.is_dir()]
            for folder in folders:
                resolved = Path(folder).resolve()
                if resolved not in kept:
                    kept.append(resolved)
            fresh = path.with_name(path.name + f".{os.getpid()}.tmp")
            fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("".join(f"{f}\n" for f in dict.fromkeys(kept)))
            os.replace(fresh, path)
