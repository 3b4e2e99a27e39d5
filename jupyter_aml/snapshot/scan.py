"""Scan a project folder into the list of files a snapshot is made of.

The rules follow Azure ML v1 so existing projects behave the same: ``.amlignore`` at the root wins, otherwise
``.gitignore``; the two are never merged; ignore files of the chosen name in subfolders apply to their
subtree with git semantics. The scan first walks and stats (cheap), checks the limits, and only then
hashes, so an oversized folder is refused before anything is read. Hashes are cached by (path, size, mtime,
inode, ctime) so re-submitting an unchanged folder reads no file contents.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import json
import os
import stat
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from pathspec import GitIgnoreSpec

from jupyter_aml.errors import InvalidInput, SnapshotTooLarge
from jupyter_aml.sizes import human_size
from jupyter_aml.snapshot.paths import path_problem, validate_relpath

AMLIGNORE = ".amlignore"
GITIGNORE = ".gitignore"
ALWAYS_SKIPPED = frozenset({".git", ".ipynb_checkpoints", "__pycache__"})
"""Directory names never snapshotted, at any depth (VCS data and Jupyter/Python caches)."""

DEFAULT_MAX_FILES = 2000
DEFAULT_MAX_BYTES = 300 * 1024 * 1024
MAX_FILES_ENV = "JUPYTER_AML_SNAPSHOT_MAX_FILES"
MAX_BYTES_ENV = "JUPYTER_AML_SNAPSHOT_MAX_BYTES"

_RACY_SECONDS = 2
"""Files modified this recently are hashed but not cached: a later write within the same filesystem timestamp
tick would keep size and mtime unchanged and the cache would return a stale hash (git's "racy clean" case)."""
_CACHE_VERSION = 1
_CACHE_MAX_ENTRIES = 200_000
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FileEntry:
    """One file of a snapshot; ``abspath`` is where its content is read from (a symlink's real target)."""

    path: str
    sha256: str
    size: int
    mode: int
    abspath: Path


@dataclass
class SnapshotScan:
    """Result of :func:`scan_folder`; ``bytes_hashed`` counts file bytes read (0 on a cached rescan)."""

    root: Path
    files: list[FileEntry]
    total_size: int
    ignore_file: str | None
    bytes_hashed: int = 0


@dataclass
class _Candidate:
    path: str
    abspath: Path
    size: int
    mode: int
    key: list[int] = field(default_factory=list)  # [size, mtime_ns, ino, ctime_ns]
    mtime_ns: int = 0


@dataclass
class _IgnoreRules:
    """Ignore specs found so far, keyed by the relative directory that holds each ignore file ('' = root)."""

    name: str
    specs: dict[str, GitIgnoreSpec] = field(default_factory=dict)

    def load(self, rel_dir: str, abs_dir: Path) -> None:
        path = abs_dir / self.name
        if not path.is_file():
            return
        try:
            text = path.read_text(encoding="utf-8-sig", errors="replace")
        except OSError as exc:
            raise InvalidInput(
                f"Cannot read ignore file {str(path)!r}: {exc.strerror}",
                hint="Fix the file's permissions so the snapshot rules can be read.",
            ) from exc
        self.specs[rel_dir] = GitIgnoreSpec.from_lines(text.splitlines())

    def ignored(self, rel: str, is_dir: bool) -> bool:
        """Git semantics: the deepest ignore file with a matching pattern decides; in it, last match wins."""
        parts = rel.split("/")
        for depth in range(len(parts) - 1, -1, -1):
            base = "/".join(parts[:depth])
            spec = self.specs.get(base)
            if spec is None:
                continue
            sub = "/".join(parts[depth:]) + ("/" if is_dir else "")
            result = spec.check_file(sub)
            if result.include is not None:
                return bool(result.include)
        return False


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidInput(f"{name}={raw!r} is not an integer", hint=f"Set {name} to a number.") from exc
    if value <= 0:
        raise InvalidInput(f"{name}={raw!r} must be positive", hint=f"Set {name} to a number above 0.")
    return value


def _normal_mode(st_mode: int) -> int:
    return 0o755 if st_mode & 0o111 else 0o644


def _ignore_advice(rules: _IgnoreRules) -> str:
    """Name the file a user should edit: .gitignore only if it is the one in force at the root."""
    if rules.name == GITIGNORE and "" in rules.specs:
        return f"{GITIGNORE} (or create {AMLIGNORE}, which then replaces {GITIGNORE})"
    return AMLIGNORE


def _bad_file(rel: str, why: str, rules: _IgnoreRules) -> InvalidInput:
    return InvalidInput(
        f"Cannot snapshot {rel!r}: {why}",
        hint=f"Remove it, or add '{rel}' to {_ignore_advice(rules)} in the snapshot folder to leave it out.",
    )


def _walk(root: Path, rules: _IgnoreRules, skip: set[Path]) -> list[_Candidate]:
    """Collect the files to snapshot with their stat data, applying ignore rules and symlink policy."""
    out: list[_Candidate] = []
    stack: list[tuple[str, Path]] = [("", root)]
    while stack:
        rel_dir, abs_dir = stack.pop()
        if rel_dir:
            rules.load(rel_dir, abs_dir)
        try:
            with os.scandir(abs_dir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            why = f"the folder cannot be listed ({exc.strerror})"
            raise _bad_file(rel_dir or ".", why, rules) from exc
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            abspath = Path(entry.path)
            if entry.name in ALWAYS_SKIPPED or abspath in skip:
                continue
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise _bad_file(rel, "its name is not valid UTF-8", rules) from exc
            if entry.is_symlink():
                _take_symlink(root, rel, abspath, rules, out)
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                raise _bad_file(rel, f"it cannot be read ({exc.strerror})", rules) from exc
            if stat.S_ISDIR(st.st_mode):
                if not rules.ignored(rel, is_dir=True):
                    stack.append((rel, abspath))
            elif stat.S_ISREG(st.st_mode) and not rules.ignored(rel, is_dir=False):
                out.append(_candidate(rel, abspath, st, rules))
            # sockets, FIFOs and devices have no content to snapshot and are skipped
    return out


def _take_symlink(root: Path, rel: str, link: Path, rules: _IgnoreRules, out: list[_Candidate]) -> None:
    """Include a file symlink as its target's content when the target is inside the root; refuse otherwise."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        if rules.ignored(rel, is_dir=False):
            return
        raise _bad_file(rel, "it is a broken or looping symlink", rules) from exc
    if target.is_dir():
        return  # directory symlinks are never followed (avoids cycles and surprise copies)
    if rules.ignored(rel, is_dir=False):
        return
    if not target.is_relative_to(root):
        raise _bad_file(rel, f"it is a symlink to {str(target)!r}, outside the snapshot folder", rules)
    st = target.stat()
    if stat.S_ISREG(st.st_mode):
        out.append(_candidate(rel, target, st, rules))


def _candidate(rel: str, abspath: Path, st: os.stat_result, rules: _IgnoreRules) -> _Candidate:
    problem = path_problem(rel)
    if problem:
        raise _bad_file(rel, f"its path {problem}", rules)
    clean = validate_relpath(rel)
    return _Candidate(
        path=clean,
        abspath=abspath,
        size=st.st_size,
        mode=_normal_mode(st.st_mode),
        key=[st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns],
        mtime_ns=st.st_mtime_ns,
    )


def _check_limits(root: Path, cands: list[_Candidate], max_files: int, max_bytes: int, rules: _IgnoreRules) -> None:
    """Refuse an oversized folder with what the user needs to fix it: the largest files and folders."""
    total = sum(c.size for c in cands)
    if len(cands) <= max_files and total <= max_bytes:
        return
    problems = []
    if len(cands) > max_files:
        problems.append(f"{len(cands)} files (limit {max_files})")
    if total > max_bytes:
        problems.append(f"{human_size(total)} (limit {human_size(max_bytes)})")
    largest = heapq.nlargest(10, cands, key=lambda c: (c.size, c.path))
    listing = ", ".join(f"{c.path} ({human_size(c.size)})" for c in largest)
    folders: dict[str, list[int]] = {}
    for c in cands:
        if "/" in c.path:
            agg = folders.setdefault(c.path.split("/")[0] + "/", [0, 0])
            agg[0] += 1
            agg[1] += c.size
    by_files = len(cands) > max_files
    top = sorted(folders.items(), key=lambda kv: (kv[1][0] if by_files else kv[1][1], kv[0]), reverse=True)[:5]
    folder_text = ", ".join(f"{name} ({n} file{'' if n == 1 else 's'}, {human_size(size)})" for name, (n, size) in top)
    example = top[0][0] if top else (largest[0].path if largest else "data/")
    replaces = (
        f" Note: creating {AMLIGNORE} replaces {GITIGNORE} entirely, so copy the {GITIGNORE} rules you need."
        if rules.name == GITIGNORE and "" in rules.specs
        else ""
    )
    message = f"The snapshot of {str(root)!r} is too large: {' and '.join(problems)}. Largest files: {listing}"
    if folder_text:
        message += f". Largest folders: {folder_text}"
    raise SnapshotTooLarge(
        message,
        hint=(
            f"Add the files or folders you do not need in the run (for example '{example}') to {AMLIGNORE} in "
            f"{str(root)!r}; it uses .gitignore syntax, one pattern per line.{replaces} Keep data in a "
            f"datastore instead of the source folder, or raise the limit with {MAX_FILES_ENV} / "
            f"{MAX_BYTES_ENV} (or max_files= / max_bytes=)."
        ),
        details={
            "file_count": len(cands),
            "total_size": total,
            "max_files": max_files,
            "max_bytes": max_bytes,
            "largest": [{"path": c.path, "size": c.size} for c in largest],
            "largest_folders": [{"path": name, "files": n, "size": size} for name, (n, size) in top],
        },
    )


def _open_nofollow(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    return os.fdopen(fd, "rb")


def _sha256_file(path: Path) -> tuple[str, int]:
    """Return (hex digest, bytes read); uses ``hashlib.file_digest`` when the runtime has it."""
    with _open_nofollow(path) as fh:
        file_digest: Callable[..., Any] | None = getattr(hashlib, "file_digest", None)
        if file_digest is not None:
            digest = file_digest(fh, "sha256")
        else:
            digest = hashlib.sha256()
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest(), fh.tell()


def _load_cache(path: Path | None) -> dict[str, list[Any]]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a missing or corrupt cache only costs a re-hash
    if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def _save_cache(path: Path, entries: dict[str, list[Any]]) -> None:
    if len(entries) > _CACHE_MAX_ENTRIES:
        entries = dict(list(entries.items())[-_CACHE_MAX_ENTRIES:])
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"version": _CACHE_VERSION, "entries": entries}), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def scan_folder(
    root: str | os.PathLike[str],
    *,
    max_files: int | None = None,
    max_bytes: int | None = None,
    hash_cache: Path | None = None,
) -> SnapshotScan:
    """Scan ``root`` into a :class:`SnapshotScan` (files sorted by path) with Azure ML v1 ignore rules.

    Limits default to 2000 files / 300 MiB, overridable by ``JUPYTER_AML_SNAPSHOT_MAX_FILES`` /
    ``JUPYTER_AML_SNAPSHOT_MAX_BYTES`` or the arguments; going over raises :class:`SnapshotTooLarge` listing the
    10 largest files. Unsafe entries (symlinks leaving the folder, names that are not valid snapshot paths,
    unreadable files) raise :class:`InvalidInput` naming the file. ``hash_cache`` is a JSON file reused
    across scans (the racy window: files modified in the last 2 seconds are hashed but not cached).
    """
    root_path = Path(root).resolve()
    if not root_path.is_dir():
        raise InvalidInput(
            f"Snapshot folder {str(root_path)!r} does not exist or is not a folder",
            hint="Pass the folder that holds your training script as source_directory.",
        )
    limit_files = max_files if max_files is not None else _env_int(MAX_FILES_ENV, DEFAULT_MAX_FILES)
    limit_bytes = max_bytes if max_bytes is not None else _env_int(MAX_BYTES_ENV, DEFAULT_MAX_BYTES)

    name = AMLIGNORE if (root_path / AMLIGNORE).is_file() else GITIGNORE
    rules = _IgnoreRules(name)
    rules.load("", root_path)
    skip: set[Path] = set()
    if hash_cache is not None:
        cache_path = Path(hash_cache).resolve()
        skip = {cache_path, cache_path.with_name(f"{cache_path.name}.{os.getpid()}.tmp")}

    cands = _walk(root_path, rules, skip)
    cands.sort(key=lambda c: c.path)
    _check_limits(root_path, cands, limit_files, limit_bytes, rules)

    cache = _load_cache(hash_cache)
    before = dict(cache)
    racy_after = time.time_ns() - _RACY_SECONDS * 1_000_000_000
    hashes: dict[str, tuple[str, int]] = {}
    todo: list[_Candidate] = []
    for c in cands:
        hit = cache.get(str(c.abspath))
        if isinstance(hit, list) and len(hit) == 5 and hit[:4] == c.key and isinstance(hit[4], str):
            hashes[c.path] = (hit[4], c.size)
        else:
            todo.append(c)

    def work(c: _Candidate) -> tuple[str, int]:
        try:
            return _sha256_file(c.abspath)
        except OSError as exc:
            raise _bad_file(c.path, f"it cannot be read ({exc.strerror or exc})", rules) from exc

    workers = min(8, os.cpu_count() or 1, len(todo))
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(work, todo))
    else:
        results = [work(c) for c in todo]

    bytes_hashed = 0
    for c, (digest, nread) in zip(todo, results, strict=True):
        hashes[c.path] = (digest, nread)
        bytes_hashed += nread
        if nread == c.size and c.mtime_ns < racy_after:
            cache[str(c.abspath)] = [*c.key, digest]
        else:
            cache.pop(str(c.abspath), None)

    files = [FileEntry(c.path, hashes[c.path][0], hashes[c.path][1], c.mode, c.abspath) for c in cands]
    if hash_cache is not None:
        seen = {str(c.abspath) for c in cands}
        prefix = str(root_path) + os.sep
        kept = {k: v for k, v in cache.items() if k in seen or not k.startswith(prefix)}
        if kept != before:
            _save_cache(Path(hash_cache), kept)

    used = name if rules.specs else None
    return SnapshotScan(
        root=root_path,
        files=files,
        total_size=sum(f.size for f in files),
        ignore_file=used,
        bytes_hashed=bytes_hashed,
    )
