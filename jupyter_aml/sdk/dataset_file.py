"""``FileDataset`` (v1's ``azureml.data.FileDataset``): a set of files on datastores or at URLs, read in place.

``to_path()`` lists them as v1 does ('/'-led paths relative to where each dataset path's glob starts), and
``download()`` and ``mount()`` lay them out the same way under a local folder.

``mount()`` needs no FUSE: it is a context manager whose ``mount_point`` is a local folder holding the dataset's
files. A file that is already on this machine (a local-folder datastore or the workspace's own blob store when
the service runs here) is a symbolic link to the file itself: nothing is copied and later changes show through.
Any other file (S3, http) is downloaded into the folder when the mount starts. ``stop()`` (or leaving the
``with`` block) removes what the mount made, never the data itself.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_aml.errors import Conflict, InvalidInput
from jupyter_aml.sdk.dataset_base import AbstractDataset, check_known

if TYPE_CHECKING:
    from jupyter_aml.data.sources import ResolvedFile

class FileDataset(AbstractDataset):
    """Files referenced where they are: download them, mount them, or list them."""

    _kind = "file"

    def _files(self) -> list[tuple[ResolvedFile, str]]:
        """Each file (transformations applied) with its relative path under a download or mount folder."""
        from jupyter_aml.data.layout import relative_paths
        from jupyter_aml.data.transforms import apply_list

        return relative_paths(self._definition["paths"],
                              apply_list(self._resolve(), self._definition["transformations"]))

    def _local_preview(self, rows: int) -> dict[str, Any]:
        files = self._files()[:rows]
        return {"columns": [{"name": "Path", "type": "string"}, {"name": "Size", "type": "long"}],
                "rows": [[f.display, f.info.size] for f, _ in files]}

    def as_mount(self, path_on_compute: str | None = None) -> Any:
        """A run input whose files are in a folder when the script starts; the argument is its path."""
        return self.as_named_input(self._input_name()).as_mount(path_on_compute)

    def as_download(self, path_on_compute: str | None = None, overwrite: bool = False) -> Any:
        return self.as_named_input(self._input_name()).as_download(path_on_compute, overwrite)

    def _input_name(self) -> str:
        """v1's name for an input given without as_named_input: from the dataset's name, else its definition."""
        import hashlib
        import json
        import re

        if self.name:
            return re.sub(r"\W", "_", self.name)[:40].lstrip("0123456789") or "input"
        digest = hashlib.sha256(json.dumps(self._definition, sort_keys=True).encode()).hexdigest()[:8]
        return f"input_{digest}"

    def to_path(self) -> list[str]:
        """v1: the files' paths as a download or mount lays them out, each starting with '/'."""
        return ["/" + rel for _, rel in self._files()]

    def download(self, target_path: str | os.PathLike[str] | None = None, overwrite: bool = False,
                 ignore_not_found: bool = False) -> list[str]:
        """Copy the files under ``target_path`` (a new temporary folder when None); returns their local paths.
        A file already there is an error unless ``overwrite`` (as in v1); ``ignore_not_found`` skips files that
        went away since they were listed."""
        target = Path(target_path) if target_path is not None else Path(tempfile.mkdtemp(prefix="aml-dataset-"))
        plan = [(f, target.joinpath(*rel.split("/"))) for f, rel in self._files()]
        real = target.resolve()
        for _, local in plan:
            if not local.resolve().is_relative_to(real):
                raise InvalidInput(f"{local} would be written outside {target}")
            if local.exists() and not overwrite:
                raise Conflict(f"{local} exists already", hint="pass overwrite=True, or download somewhere else")
        written = []
        for f, local in plan:
            local.parent.mkdir(parents=True, exist_ok=True)
            tmp = local.with_name(f".{local.name}.part")
            try:
                f.source.fs.get_file(f.source.path, str(tmp))
            except FileNotFoundError:
                if ignore_not_found:
                    continue
                raise InvalidInput(f"{f.display} is not there any more", hint="pass ignore_not_found=True") from None
            os.replace(tmp, local)
            written.append(str(local))
        return written

    def mount(self, mount_point: str | os.PathLike[str] | None = None, **kwargs: Any) -> MountContext:
        """A context manager whose ``mount_point`` folder holds the files (see the module's note: links to
        files on this machine, downloads of the others; no FUSE)."""
        check_known(kwargs, "FileDataset.mount")
        return MountContext(self, mount_point)

    def take(self, count: int) -> FileDataset:
        return self._with_step({"op": "take", "count": count})

    def skip(self, count: int) -> FileDataset:
        return self._with_step({"op": "skip", "count": count})

    def take_sample(self, probability: float, seed: int | None = None) -> FileDataset:
        from jupyter_aml.sdk.dataset_tabular import _seed

        return self._with_step({"op": "take_sample", "probability": probability, "seed": _seed(seed)})

    def random_split(self, percentage: float, seed: int | None = None) -> tuple[FileDataset, FileDataset]:
        from jupyter_aml.sdk.dataset_tabular import _seed

        chosen = _seed(seed)
        return (self._with_step({"op": "random_split", "percentage": percentage, "seed": chosen, "part": 0}),
                self._with_step({"op": "random_split", "percentage": percentage, "seed": chosen, "part": 1}))


class MountContext:
    """v1's ``MountContext``: ``start()``/``stop()`` or a ``with`` block; ``mount_point`` is the folder."""

    def __init__(self, dataset: FileDataset, mount_point: str | os.PathLike[str] | None) -> None:
        self._dataset = dataset
        # as v1, the folder is known before start(): a new one under the temporary folder when none is given
        self._root = Path(mount_point) if mount_point is not None else Path(tempfile.gettempdir()) / (
            f"aml-mount-{secrets.token_hex(6)}")
        self._made: list[Path] = []
        self._created_root = False
        self.mount_point = str(self._root)

    def start(self) -> None:
        from fsspec.implementations.local import LocalFileSystem

        root = self._root
        if root.exists() and any(root.iterdir()):
            raise Conflict(f"mount point {root} is not empty", hint="give an empty or new folder")
        self._created_root = not root.exists()
        root.mkdir(parents=True, exist_ok=True)
        try:
            for f, rel in self._dataset._files():
                local = root.joinpath(*rel.split("/"))
                local.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(f.source.fs, LocalFileSystem):
                    os.symlink(f.source.path, local)
                else:
                    f.source.fs.get_file(f.source.path, str(local))
                self._made.append(local)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        root = Path(self.mount_point)
        if self._created_root:
            shutil.rmtree(root, ignore_errors=True)
        else:
            for path in self._made:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            for folder in sorted({p.parent for p in self._made}, key=lambda p: len(p.parts), reverse=True):
                while folder != root and folder.is_relative_to(root):
                    with contextlib.suppress(OSError):
                        folder.rmdir()
                    folder = folder.parent
        self._made = []

    def __enter__(self) -> MountContext:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
