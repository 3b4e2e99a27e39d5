"""How the SDK moves a datastore's files: straight through the fsspec storage layer when the client reaches the
store itself (S3-compatible, Azure Blob), or through the service's file routes when the store is a folder on
the service's machine (workspaceblobstore, local folders) or the caller may not read its credentials.

Either way paths are checked the same way (no '..', nothing absolute, nothing written outside the local
target folder) and progress is shown with tqdm when asked.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import secrets
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from jupyter_aml.errors import Forbidden, InvalidInput, NotFound

if TYPE_CHECKING:  # fsspec is imported when files move, never at import: the SDK imports in any run
    from jupyter_aml.data.storage import FileInfo, StoreLocation
    from jupyter_aml.runtime.api import Api
    from jupyter_aml.sdk.datastore import AbstractDatastore

Progress = Callable[[int, int], None]


@contextlib.contextmanager
def progress_bar(show: bool, what: str) -> Iterator[Progress | None]:
    """A ``progress(done, total)`` callback drawing a tqdm bar (bytes), or None when not shown."""
    if not show:
        yield None
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional: a line per update instead
        def line(done: int, total: int) -> None:
            print(f"\r{what}: {done}/{total} bytes", end="", file=sys.stderr)

        yield line
        print(file=sys.stderr)
        return
    bar = tqdm(total=0, unit="B", unit_scale=True, unit_divisor=1024, desc=what)

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
            bar.refresh()
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


class Transfer:
    """The file operations of one datastore, direct or through the service."""

    def __init__(self, ds: AbstractDatastore) -> None:
        self.ds = ds
        self._loc: StoreLocation | None = None
        self._direct: bool | None = None

    @property
    def _api(self) -> Api:
        return self.ds.workspace._api

    @property
    def _ws(self) -> str:
        return self.ds.workspace.name

    def location(self) -> StoreLocation | None:
        """The store's fsspec location when this client reads it itself, else None (through the service)."""
        if self._direct is None:
            self._direct = False
            if self.ds.kind in ("s3", "azure_blob"):
                from jupyter_aml.data.storage import StoreLocation

                try:
                    answer = self._api.datastore_location(self._ws, self.ds.name)
                except Forbidden:  # no datastores/listsecrets: the service moves the bytes
                    return None
                self._loc = StoreLocation(answer["protocol"], answer["root"], dict(answer["options"]))
                self._direct = True
        return self._loc if self._direct else None

    # -- listing ------------------------------------------------------------------------------------------
    def list_files(self, pattern: str) -> list[FileInfo]:
        from jupyter_aml.data import storage

        loc = self.location()
        if loc is not None:
            return storage.list_files(loc, pattern)
        answer = self._api.datastore_files(self._ws, self.ds.name, pattern)
        return [storage.FileInfo(f["path"], f["size"], f["fingerprint"]) for f in answer["items"]]

    def list_prefix(self, prefix: str | None) -> list[FileInfo]:
        """v1's ``prefix``: a folder, a file, a glob, or (failing those) the start of a name, as a blob prefix."""
        pattern = prefix or ""
        try:
            return self.list_files(pattern)
        except NotFound:
            if not pattern or any(ch in pattern for ch in "*?["):
                raise
            return self.list_files(pattern.rstrip("/") + "*")

    # -- upload -------------------------------------------------------------------------------------------
    def upload(self, pairs: Sequence[tuple[Path, str]], *, overwrite: bool, show_progress: bool) -> list[str]:
        from jupyter_aml.data import storage
        from jupyter_aml.data.storage import StoreLocation

        for _src, target in pairs:
            storage.resolve(StoreLocation("s3", "check", {}), target)  # '..' or absolute: refused before any byte
        loc = self.location()
        with progress_bar(show_progress, f"Uploading to {self.ds.name}") as progress:
            if loc is not None:
                return storage.upload_pairs(loc, pairs, overwrite=overwrite, progress=progress)
            total = sum(src.stat().st_size for src, _ in pairs)
            done, written = 0, []
            for src, target in pairs:
                answer = self._api.upload_datastore_file(self._ws, self.ds.name, target, src, overwrite=overwrite)
                if answer["written"]:
                    written.append(answer["path"])
                done += src.stat().st_size
                if progress is not None:
                    progress(done, total)
            return written

    # -- download -----------------------------------------------------------------------------------------
    def download(self, prefix: str | None, dest: Path, *, overwrite: bool, show_progress: bool) -> list[Path]:
        from jupyter_aml.data import storage

        try:
            files = self.list_prefix(prefix)
        except NotFound:
            if prefix:
                raise
            return []  # an empty datastore: nothing to download (as v1)
        loc = self.location()
        dest.mkdir(parents=True, exist_ok=True)
        real = dest.resolve()
        planned = []
        for info in files:
            local = dest.joinpath(*PurePosixPath(info.path).parts)
            if not local.resolve().is_relative_to(real):
                raise InvalidInput(f"{info.path!r} in datastore {self.ds.name!r} would be written outside {dest}")
            planned.append((info, local))
        total = sum(info.size for info in files)
        done, written = 0, []
        with progress_bar(show_progress, f"Downloading from {self.ds.name}") as progress:
            for info, local in planned:
                if local.exists() and not overwrite:
                    done += info.size
                    continue
                local.parent.mkdir(parents=True, exist_ok=True)
                if loc is not None:
                    tmp = local.with_name(f".{local.name}.part-{secrets.token_hex(4)}")
                    try:
                        storage.filesystem(loc).get_file(storage.resolve(loc, info.path), str(tmp))
                        os.replace(tmp, local)
                    finally:
                        tmp.unlink(missing_ok=True)
                else:
                    self._api.download_datastore_file(self._ws, self.ds.name, info.path, local)
                done += info.size
                written.append(local)
                if progress is not None:
                    progress(done, total)
        return written


def pairs_of_folder(src_dir: Path, target: str) -> list[tuple[Path, str]]:
    if not src_dir.is_dir():
        raise NotFound(f"{src_dir} is not a folder", hint="upload() takes a folder; upload_files() takes files")
    base = "/".join(p for p in target.replace("\\", "/").split("/") if p not in ("", "."))
    return [(f, posixpath.join(base, f.relative_to(src_dir).as_posix()) if base else f.relative_to(src_dir).as_posix())
            for f in sorted(src_dir.rglob("*")) if f.is_file()]


def pairs_of_files(files: Sequence[str | os.PathLike[str]], relative_root: str | os.PathLike[str] | None,
                   target: str) -> list[tuple[Path, str]]:
    if isinstance(files, (str, os.PathLike)):
        raise InvalidInput("upload_files takes a list of file paths, not one path",
                           hint="e.g. ds.upload_files(['./data/a.csv'], target_path='data')")
    paths = [Path(f).absolute() for f in files]
    for p in paths:
        if not p.is_file():
            raise NotFound(f"{p} is not a file", hint="give existing files; upload() takes a whole folder")
    if not paths:
        return []
    root = Path(relative_root).absolute() if relative_root is not None else Path(os.path.commonpath(
        [str(p.parent) for p in paths]))
    base = "/".join(p for p in target.replace("\\", "/").split("/") if p not in ("", "."))
    out = []
    for p in paths:
        if not p.is_relative_to(root):
            raise InvalidInput(f"{p} is not under relative_root {root}",
                               hint="give a relative_root that holds every file, or leave it out")
        rel = p.relative_to(root).as_posix()
        out.append((p, posixpath.join(base, rel) if base else rel))
    return out
