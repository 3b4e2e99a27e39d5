"""Writing snapshot zips (the service) and extracting them safely (the run agent): the one snapshot extractor.

Extraction treats its input as hostile: every member name is validated before a single byte is written,
declared and actual sizes are both capped (zip bombs), symlinks must stay inside (checked on the names, then
on resolved real paths), and work happens in a staging folder next to the destination that is renamed into
place only when everything succeeded, so a refusal never leaves partial files behind.

Standard library only (plus the project's stdlib leaves): the run agent imports it inside user environments.
"""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import secrets
import shutil
import stat
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from jupyter_aml.errors import InvalidInput, SnapshotTooLarge
from jupyter_aml.sizes import human_size
from jupyter_aml.snapshot.paths import path_below_file, validate_relpath

_CHUNK = 1024 * 1024
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # fixed timestamps make the same snapshot produce the same zip bytes
_MAX_LINK_TARGET = 4096


def _zip_mode(mode: int) -> int:
    return 0o755 if mode & 0o111 else 0o644


def _known_size(fh: IO[bytes]) -> int | None:
    """Size of the remaining stream when cheap to learn (lets zipfile skip ZIP64 headers on small files)."""
    with contextlib.suppress(AttributeError, OSError, io.UnsupportedOperation):
        st = os.fstat(fh.fileno())
        if stat.S_ISREG(st.st_mode):
            return max(0, st.st_size - fh.tell())
    with contextlib.suppress(AttributeError, OSError, io.UnsupportedOperation):
        if fh.seekable():
            pos = fh.tell()
            end = fh.seek(0, io.SEEK_END)
            fh.seek(pos)
            return end - pos
    return None


def write_zip(entries: Iterable[tuple[str, int, Callable[[], IO[bytes]]]], out: BinaryIO) -> int:
    """Stream ``(relpath, mode, open_fn)`` entries into a deflated zip on ``out``; return the file count.

    ``open_fn()`` is called lazily per entry so only one source file is open at a time (the service feeds it
    from its blob store). ``out`` need not be seekable. Unix modes are recorded so the exec bit survives.
    """
    seen: set[str] = set()
    count = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for rel, mode, open_fn in entries:
            name = validate_relpath(rel)
            if name in seen:
                raise InvalidInput(f"Zip entry {name!r} is listed twice", hint="List each file path once.")
            seen.add(name)
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so extractors honour external_attr permissions
            info.external_attr = (stat.S_IFREG | _zip_mode(mode)) << 16
            with open_fn() as src:
                size = _known_size(src)
                if size is not None:
                    info.file_size = size
                with zf.open(info, "w", force_zip64=size is None) as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
            count += 1
    return count


# -------------------------------------------------------------------------------------------------- staging


def _prepare_staging(dest: Path) -> Path:
    """Create an empty staging folder beside ``dest`` (same filesystem, so the final rename is atomic)."""
    dest = Path(dest)
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise InvalidInput(
            f"Extraction destination {str(dest)!r} exists and is not a folder",
            hint="Extract into a new or empty folder.",
        )
    if dest.is_dir() and any(dest.iterdir()):
        raise InvalidInput(
            f"Extraction destination {str(dest)!r} is not empty",
            hint="Extract into a new or empty folder so snapshot files never mix with existing ones.",
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".{dest.name}.partial-{secrets.token_hex(6)}"
    staging.mkdir()
    return staging


def _commit(staging: Path, dest: Path) -> None:
    if dest.is_dir():
        dest.rmdir()  # known empty; rename onto a directory is not portable
    os.rename(staging, dest)


def _discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def _add_exec(path: Path) -> None:
    """Set x wherever r is set, like git does for 0o755 files, respecting the umask-derived read bits."""
    current = path.stat().st_mode
    os.chmod(path, stat.S_IMODE(current) | ((current & 0o444) >> 2))


def _check_conflicts(names: Iterable[str], dirs: set[str]) -> None:
    """Refuse a member that sits below another non-folder member ('a' file and 'a/b'): it cannot be written,
    and a symlink member would otherwise be written through."""
    leaves = set(names)
    nested = path_below_file(sorted(leaves | dirs), leaves)
    if nested:
        raise InvalidInput(
            f"Archive member {nested[1]!r} lies under {nested[0]!r}, which is a file or symlink",
            hint="The archive is malformed; rebuild it from the source folder.",
        )
    clash = leaves & dirs
    if clash:
        raise InvalidInput(
            f"Archive member {sorted(clash)[0]!r} is both a folder and a file",
            hint="The archive is malformed; rebuild it from the source folder.",
        )


def _check_limits(count: int, total: int, max_files: int | None, max_total_bytes: int | None) -> None:
    if max_files is not None and count > max_files:
        raise SnapshotTooLarge(
            f"Archive has {count} entries (limit {max_files})",
            hint="Snapshot fewer files (add them to .amlignore) or raise the limit.",
        )
    if max_total_bytes is not None and total > max_total_bytes:
        raise SnapshotTooLarge(
            f"Archive expands to {human_size(total)} (limit {human_size(max_total_bytes)})",
            hint="The archive is larger than allowed once unpacked; snapshot fewer or smaller files.",
        )


class _Budget:
    """Counts bytes actually written so a lying header cannot exceed the limit."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0

    def take(self, n: int) -> None:
        self.used += n
        if self.limit is not None and self.used > self.limit:
            raise SnapshotTooLarge(
                f"Archive expands beyond {human_size(self.limit)} while extracting",
                hint="The archive is larger than its headers claim; rebuild it from the source folder.",
            )


# ----------------------------------------------------------------------------------------------------- zips


@dataclass
class _Member:
    name: str
    info: zipfile.ZipInfo
    mode: int
    kind: str  # "file" | "dir" | "link"
    link_target: str = ""


def _link_target(zf: zipfile.ZipFile, name: str, info: zipfile.ZipInfo) -> str:
    """Read and validate a symlink member's target: it must stay inside the extraction folder."""
    if info.file_size > _MAX_LINK_TARGET:
        raise InvalidInput(f"Symlink member {name!r} has an oversized target", hint="Remove the symlink.")
    raw = zf.read(info)
    try:
        target = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"Symlink member {name!r} has a non-UTF-8 target", hint="Remove the symlink.") from exc
    if not target or "\x00" in target or "\\" in target or target.startswith("/") or target[1:2] == ":":
        raise InvalidInput(
            f"Symlink member {name!r} points to {target!r}, which is absolute or malformed",
            hint="Only relative symlinks that stay inside the archive are allowed; remove the symlink.",
        )
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
    if joined == ".." or joined.startswith("../"):
        raise InvalidInput(
            f"Symlink member {name!r} points to {target!r}, outside the extraction folder",
            hint="Only relative symlinks that stay inside the archive are allowed; remove the symlink.",
        )
    return target


def _plan_zip(zf: zipfile.ZipFile, max_total_bytes: int | None, max_files: int | None) -> list[_Member]:
    members: list[_Member] = []
    seen: set[str] = set()
    total = 0
    for info in zf.infolist():
        # orig_filename keeps anything after a NUL byte that ZipInfo.filename silently drops
        raw = info.orig_filename
        is_dir = raw.endswith("/")
        given = raw[:-1] if is_dir else raw
        name = validate_relpath(given)
        if name != given:  # 'a//b', './a': write_zip never makes these, so the archive was not ours
            raise InvalidInput(
                f"Archive member {given!r} is not a canonical path (expected {name!r})",
                hint="The archive is malformed; rebuild it from the source folder.",
            )
        if name in seen:
            raise InvalidInput(f"Archive lists {name!r} more than once", hint="Rebuild the archive.")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise InvalidInput(f"Archive member {name!r} is encrypted", hint="Use an unencrypted archive.")
        unix = info.external_attr >> 16
        if is_dir or (unix and stat.S_ISDIR(unix)):
            members.append(_Member(name, info, 0o755, "dir"))
            continue
        if info.create_system == 3 and stat.S_ISLNK(unix):
            members.append(_Member(name, info, 0o777, "link", _link_target(zf, name, info)))
        else:
            members.append(_Member(name, info, _zip_mode(unix), "file"))
        total += info.file_size
    _check_limits(len(members), total, max_files, max_total_bytes)
    _check_conflicts((m.name for m in members if m.kind != "dir"), {m.name for m in members if m.kind == "dir"})
    return members


def _verify_links(staging: Path, links: list[str]) -> None:
    """Final check on real paths: chains of in-bounds-looking symlinks must still resolve inside."""
    real = staging.resolve()
    for name in links:
        target = (staging / name).resolve()
        if not target.is_relative_to(real):
            raise InvalidInput(
                f"Symlink member {name!r} resolves outside the extraction folder",
                hint="Only relative symlinks that stay inside the archive are allowed; remove the symlink.",
            )


def safe_extract_zip(
    zip_file: str | os.PathLike[str] | IO[bytes],
    dest: Path,
    *,
    max_total_bytes: int | None,
    max_files: int | None,
) -> list[str]:
    """Extract a zip into ``dest`` (new or empty folder) and return the extracted file paths, sorted.

    All member names are validated first; duplicates, traversal, escaping symlinks, encrypted members and
    archives over ``max_files`` entries or ``max_total_bytes`` (declared, then counted while writing) are
    refused with :class:`InvalidInput` / :class:`SnapshotTooLarge`, and ``dest`` is left untouched.
    """
    dest = Path(dest)
    try:
        zf = zipfile.ZipFile(zip_file)
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise InvalidInput(f"Not a valid zip archive: {exc}", hint="Upload a .zip file.") from exc
    with zf:
        try:
            members = _plan_zip(zf, max_total_bytes, max_files)
        except (zipfile.BadZipFile, NotImplementedError, EOFError) as exc:
            raise InvalidInput(f"Corrupt or unsupported zip archive: {exc}", hint="Rebuild the archive.") from exc
        staging = _prepare_staging(dest)
        try:
            budget = _Budget(max_total_bytes)
            for m in sorted(members, key=lambda m: m.kind != "dir"):
                target = staging / m.name
                if m.kind == "dir":
                    target.mkdir(parents=True, exist_ok=True)
                elif m.kind == "file":
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(m.info) as src, open(target, "xb") as out:
                        _copy(src, out, budget)
                    if m.mode & 0o111:
                        _add_exec(target)
            links = [m for m in members if m.kind == "link"]
            for m in links:  # last, so no file is ever written through a symlink
                (staging / m.name).parent.mkdir(parents=True, exist_ok=True)
                budget.take(len(m.link_target))
                os.symlink(m.link_target, staging / m.name)
            _verify_links(staging, [m.name for m in links])
            _commit(staging, dest)
        except (zipfile.BadZipFile, NotImplementedError, EOFError) as exc:
            _discard(staging)
            raise InvalidInput(f"Corrupt or unsupported zip archive: {exc}", hint="Rebuild the archive.") from exc
        except BaseException:
            _discard(staging)
            raise
    return sorted(m.name for m in members if m.kind != "dir")


def _copy(src: IO[bytes], out: IO[bytes], budget: _Budget) -> int:
    written = 0
    while True:
        chunk = src.read(_CHUNK)
        if not chunk:
            return written
        budget.take(len(chunk))
        out.write(chunk)
        written += len(chunk)
