"""A run's files: uploads (content-addressed blobs, sent only when the workspace lacks them), downloads,
its snapshot, and registering one of its files as a model."""

from __future__ import annotations

import hashlib
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from jupyter_aml.errors import InvalidInput, NotFound, ServiceUnavailable
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

    def download_files(
        self,
        prefix: str | None = None,
        output_directory: str | os.PathLike[str] | None = None,
        output_paths: list[str] | None = None,
        batch_size: int = 100,
        append_prefix: bool = True,
        timeout_seconds: float | None = None,
    ) -> list[Path]:
        """v1's ``download_files``: the run's files under ``prefix`` (all without), to ``output_directory``
        (default: the current folder) at their run paths, or to ``output_paths`` (one per file, in the order of
        ``get_file_names()``, relative to ``output_directory`` when given). With ``append_prefix=False`` the
        prefix is cut from the local paths. ``batch_size`` files are fetched at a time, side by side; past
        ``timeout_seconds`` the download stops with an error saying how far it got. Returns the local paths.

        A stored name that is not a safe relative path (left by an older version, e.g. ``' ../x'``) is skipped
        with a warning, never written outside the folder."""
        if batch_size < 1:
            raise InvalidInput(f"batch_size must be at least 1, not {batch_size}")
        prefix = prefix or ""
        names = [n for n in self.get_file_names() if n.startswith(prefix)]
        if output_paths is not None and len(output_paths) != len(names):
            raise InvalidInput(
                f"output_paths has {len(output_paths)} paths but {len(names)} run files start with {prefix!r}",
                hint="give one local path per file, in the order of run.get_file_names()")
        out = Path(output_directory) if output_directory is not None else Path(".")
        jobs: list[tuple[str, Path]] = []
        for index, name in enumerate(names):
            problem = run_path_problem(name)
            if problem is not None:
                warnings.warn(f"skipped run file {name!r}: {problem}", stacklevel=2)
                continue
            if output_paths is not None:
                local = Path(output_paths[index])
                target = local if local.is_absolute() or output_directory is None else out / local
            else:
                rel = name if append_prefix else name[len(prefix):].lstrip("/")
                target = out / (rel or Path(name).name)
            jobs.append((name, target))
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        fetched: list[Path] = []
        workers = min(batch_size, 8, len(jobs))
        with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
            for start in range(0, len(jobs), batch_size):
                if deadline is not None and time.monotonic() >= deadline:
                    raise ServiceUnavailable(
                        f"download_files timed out after {timeout_seconds} s: {len(fetched)} of {len(jobs)} files "
                        "were downloaded", hint="raise timeout_seconds, or download a narrower prefix")
                batch = jobs[start:start + batch_size]
                if workers <= 1:
                    fetched += [self.download_file(name, target) for name, target in batch]
                else:
                    fetched += pool.map(self._download_in_worker, batch)
        return fetched

    def _download_in_worker(self, job: tuple[str, Path]) -> Path:
        """One file on a pool thread, whose connection is closed after it: pool threads end, sockets must too."""
        try:
            return self.download_file(*job)
        finally:
            self._api.http.close_thread_connection()

    # -- snapshot ------------------------------------------------------------------------------------------
    def _snapshot_id(self) -> str:
        snapshot_id = self._refresh().get("snapshot_id")
        if not snapshot_id:
            raise NotFound(
                f"run {self.id!r} has no snapshot",
                hint="interactive runs have one only with start_logging(snapshot_directory=...)",
            )
        return str(snapshot_id)

    def get_snapshot_id(self) -> str:
        """v1's ``get_snapshot_id``: the id of the run's source snapshot."""
        return self._snapshot_id()

    def restore_snapshot(self, snapshot_id: str | None = None, path: str | os.PathLike[str] | None = None) -> str:
        """v1's ``restore_snapshot``: the run's snapshot (or ``snapshot_id``) as a zip; returns the zip's path.
        ``path`` is a ``.zip`` file or a folder (default: the current folder), which gets ``snapshot-ID.zip``."""
        target = Path(path) if path is not None else Path(".")
        if target.suffix.lower() != ".zip":
            target.mkdir(parents=True, exist_ok=True)
        return str(self.experiment.workspace.download_snapshot(snapshot_id or self._snapshot_id(), target))

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
