"""A run's files: uploads (content-addressed blobs, sent only when the workspace lacks them), downloads,
its snapshot, and registering one of its files as a model."""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Any, BinaryIO

from jupyter_aml.errors import InvalidInput, NotFound
from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.names import run_path_problem
from jupyter_aml.sdk.run_base import RunBase
from jupyter_aml.sdk.submit import sha256_file

# Files one registration request lists when uploading many (upload_files, upload_folder); the service takes at
# most 10,000 a request (core/files.py MAX_RUN_FILES_PER_REQUEST) and writes them in short transactions.
FILES_PER_REQUEST = 500


class RunFiles(RunBase):
    def _upload_bytes(self, name: str, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        self._put_blob(sha, data=data)
        self._api.add_run_files(self._ws, self.id, {"files": [{"path": name, "sha256": sha, "size": len(data)}]})
        return sha

    def _put_blob(self, sha: str, *, data: bytes | None = None, file: Path | None = None) -> None:
        if self._api.missing_blobs(self._ws, [sha]):
            self._api.put_blob(self._ws, sha, data=data, file=str(file) if file else None)

    def upload_file(self, name: str, path_or_stream: str | os.PathLike[str] | BinaryIO) -> dict[str, Any]:
        if not isinstance(path_or_stream, (str, os.PathLike)):
            return {"path": name, "sha256": self._upload_bytes(name, path_or_stream.read())}
        source = Path(path_or_stream)
        if not source.is_file():
            raise InvalidInput(f"file {str(source)!r} does not exist")
        sha = sha256_file(source)
        self._put_blob(sha, file=source)
        self._api.add_run_files(self._ws, self.id,
                                {"files": [{"path": name, "sha256": sha, "size": source.stat().st_size}]})
        return {"path": name, "sha256": sha}

    def upload_files(self, names: list[str], paths: list[str]) -> None:
        self._upload_many([(name, Path(path)) for name, path in zip(names, paths, strict=True)])

    def upload_folder(self, name: str, path: str | os.PathLike[str]) -> list[str]:
        root = Path(path)
        if not root.is_dir():
            raise InvalidInput(f"folder {str(root)!r} does not exist")
        entries = [
            (f"{name.rstrip('/')}/{file.relative_to(root).as_posix()}", file)
            for file in sorted(p for p in root.rglob("*") if p.is_file())
        ]
        self._upload_many(entries)
        return [rel for rel, _ in entries]

    def _upload_many(self, entries: list[tuple[str, Path]]) -> None:
        """Upload the blobs the workspace lacks and register the files, ``FILES_PER_REQUEST`` per request: a
        folder of 100k files is 200 registrations instead of 100k, none over the service's per-request cap."""
        for _, source in entries:
            if not source.is_file():
                raise InvalidInput(f"file {str(source)!r} does not exist")
        for start in range(0, len(entries), FILES_PER_REQUEST):
            part = [(name, source, sha256_file(source), source.stat().st_size)
                    for name, source in entries[start:start + FILES_PER_REQUEST]]
            missing = set(self._api.missing_blobs(self._ws, list(dict.fromkeys(sha for _, _, sha, _ in part))))
            for _, source, sha, _ in part:
                if sha in missing:
                    self._api.put_blob(self._ws, sha, file=str(source))
                    missing.discard(sha)
            self._api.add_run_files(self._ws, self.id, {"files": [
                {"path": name, "sha256": sha, "size": size} for name, _, sha, size in part
            ]})

    def get_files(self, prefix: str | None = None) -> list[T.RunFile]:
        """The run's files with their size and hash (``get_file_names`` has the paths only)."""
        return list(self._api.list_run_files(self._ws, self.id, prefix=prefix)["items"])

    def get_file_names(self) -> list[str]:
        return [f["path"] for f in self.get_files()]

    def download_file(self, name: str, output_file_path: str | os.PathLike[str] | None = None) -> Path:
        target = Path(output_file_path or Path(name).name)
        if target.is_dir():
            target = target / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        self._api.download_run_file(self._ws, self.id, name, target)
        return target

    def download_files(self, prefix: str = "", output_directory: str | os.PathLike[str] = ".") -> list[Path]:
        """Download the run's files under ``prefix``; a stored name that is not a safe relative path (left by an
        older version, e.g. ``' ../x'``) is skipped with a warning, never written outside the folder."""
        out = Path(output_directory)
        fetched = []
        for name in self.get_file_names():
            if not name.startswith(prefix):
                continue
            problem = run_path_problem(name)
            if problem is not None:
                warnings.warn(f"skipped run file {name!r}: {problem}", stacklevel=2)
                continue
            fetched.append(self.download_file(name, out / name))
        return fetched

    # -- snapshot ------------------------------------------------------------------------------------------
    def _snapshot_id(self) -> str:
        snapshot_id = self._refresh().get("snapshot_id")
        if not snapshot_id:
            raise NotFound(
                f"run {self.id!r} has no snapshot",
                hint="interactive runs have one only with start_logging(snapshot_directory=...)",
            )
        return str(snapshot_id)

    def get_snapshot_info(self) -> T.Snapshot:
        """The run's snapshot: id, file count, total size (NotFound when the run has none)."""
        return self._api.get_snapshot(self._ws, self._snapshot_id())

    def download_snapshot(self, target_path: str | os.PathLike[str]) -> Path:
        """The run's snapshot as a zip at ``target_path`` (a folder gets ``snapshot-ID.zip`` inside)."""
        return self.experiment.workspace.download_snapshot(self._snapshot_id(), target_path)

    # -- models ----------------------------------------------------------------------------------------------
    def register_model(self, model_name: str, model_path: str | None = None, **kwargs: Any) -> Any:
        """Register the run's file or folder ``model_path`` (e.g. ``outputs/model.pkl``) as a model version,
        by reference (the run's files are already in the workspace) and with the run as its lineage.
        Keyword arguments as ``Model.register``: tags, properties, description, model_framework,
        model_framework_version, sample_input."""
        from jupyter_aml.sdk.model import Model

        if not model_path:
            raise InvalidInput("register_model needs model_path", hint="e.g. model_path='outputs/model.pkl'")
        return Model._register_from_run(self, model_name, model_path, **kwargs)  # type: ignore[arg-type]
