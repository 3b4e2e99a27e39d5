"""Where a workspace service keeps its data, and who may read it. Stdlib only: the SDK imports it too.

The root holds the service's secrets (database, blobs, signing key, service token, service.json), so it is
the service user's alone: the folder is 0700 and every file the service writes in it is 0600. Run folders
and the environment cache are *not* in the root (see :func:`default_runs_home`): a run never needs it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def default_root() -> Path:
    """``$JUPYTER_AML_ROOT``, else ``$XDG_DATA_HOME/jupyter-aml`` (``~/.local/share/jupyter-aml``)."""
    env = os.environ.get("JUPYTER_AML_ROOT")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "jupyter-aml"


def default_runs_home(root: Path) -> Path:
    """Run folders and the env cache of ``root`` live beside it, in ``<root>-runs`` (never inside it).

    Beside the root rather than in a shared cache: each root (each user, each test) keeps its own runs, a
    run's folder path never leads into the root, and removing a root's folder and its ``-runs`` sibling
    removes everything that service wrote.
    """
    root = Path(root)
    return root.parent / f"{root.name}-runs"


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make it 0700, whatever the umask or an older version left."""
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):
        if stat.S_IMODE(path.stat().st_mode) != PRIVATE_DIR:
            path.chmod(PRIVATE_DIR)
    return path


def create_private_file(path: Path) -> bool:
    """Create an empty 0600 file if none exists (before SQLite opens it, so -wal/-shm inherit 0600)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        return True
    except FileExistsError:
        return False


def secure_root(root: Path) -> Path:
    """Make the root the service user's alone: the folder 0700, its files 0600, its folders 0700.

    Roots written by older versions (0755 folders, 0644 database and logs) are tightened here, at every
    open. Only the top level is walked (blobs below are then unreachable to others anyway), so opening a
    root with a million blobs stays cheap.
    """
    make_private_dir(root)
    with os.scandir(root) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.is_symlink():
                    continue
                mode = stat.S_IMODE(entry.stat().st_mode)
                if entry.is_dir():
                    if mode != PRIVATE_DIR:
                        os.chmod(entry.path, PRIVATE_DIR)
                elif mode & 0o077:
                    os.chmod(entry.path, mode & ~0o077 & 0o700 or PRIVATE_FILE)
    return root
