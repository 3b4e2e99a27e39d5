"""Snapshots (manifests of content-addressed files), run files (outputs, uploads) and run logs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from sqlalchemy import insert, select, update

from jupyter_aml.core import models
from jupyter_aml.core.events import EventSink, FilesEvent, LogEvent, discard
from jupyter_aml.core.runs import RunService
from jupyter_aml.core.workspaces import utc, utcnow
from jupyter_aml.errors import Busy, InvalidInput, NotFound, PayloadTooLarge
from jupyter_aml.runtime.names import run_path_problem, validate_run_path
from jupyter_aml.snapshot.manifest import manifest_id
from jupyter_aml.snapshot.paths import validate_relpath
from jupyter_aml.store.blobs import BlobStore
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import LogLineRow, RunFileRow, SnapshotFileRow, SnapshotRow

MAX_LOG_PAGE = 10_000
# Rows one write transaction of a run-file registration writes: small enough that other writers wait at most
# a fraction of a second (SQLite's busy timeout is 10 s), large enough that 10,000 files take ten commits.
RUN_FILES_PER_TRANSACTION = 1_000
# Files one registration request may list; more answer 413 asking for batches (the run agent sends 500).
MAX_RUN_FILES_PER_REQUEST = 10_000


class FileService:
    def __init__(self, db: Store, blobs: BlobStore, events: EventSink = discard) -> None:
        self.db = db
        self.blobs = blobs
        self.events = events

    # -- snapshots ------------------------------------------------------------------------------------
    def create_snapshot(self, spec: models.SnapshotCreate, *, max_files: int, max_bytes: int) -> models.Snapshot:
        files = [f.model_copy(update={"path": validate_relpath(f.path)}) for f in spec.files]
        paths = [f.path for f in files]
        if len(set(paths)) != len(paths):
            raise InvalidInput("the snapshot lists a path twice", hint="each path may appear once")
        total = sum(f.size for f in files)
        if len(files) > max_files or total > max_bytes:
            raise InvalidInput(
                f"the snapshot has {len(files)} files and {total} bytes; the limits are {max_files} files and "
                f"{max_bytes} bytes",
                hint="add large or generated files to .amlignore",
            )
        missing = self.blobs.missing(f.sha256 for f in files)
        if missing:
            raise InvalidInput(
                f"{len(missing)} file blobs are not uploaded, e.g. {missing[0]}",
                hint="upload the missing blobs (POST blobs/missing, PUT blobs/{sha256}) first",
            )
        for f in files:
            if self.blobs.size(f.sha256) != f.size:
                raise InvalidInput(
                    f"file {f.path!r} declares {f.size} bytes but its blob has {self.blobs.size(f.sha256)}",
                    hint="re-scan the folder and retry",
                )
        snap_id = manifest_id([f.model_dump() for f in files])
        with self.db.session() as s:
            row = s.get(SnapshotRow, snap_id)
            if row is None:
                row = SnapshotRow(id=snap_id, created_at=utcnow(), file_count=len(files), total_size=total)
                s.add(row)
                s.flush()  # the parent row first: file rows reference it
                s.add_all(
                    SnapshotFileRow(snapshot_id=snap_id, path=f.path, sha256=f.sha256, size=f.size, mode=f.mode)
                    for f in files
                )
            return models.Snapshot(
                id=row.id, file_count=row.file_count, total_size=row.total_size, created_at=utc(row.created_at)
            )

    def snapshot(self, snapshot_id: str) -> models.Snapshot:
        with self.db.read() as s:
            row = s.get(SnapshotRow, snapshot_id)
            if row is None:
                raise NotFound(
                    f"snapshot {snapshot_id!r} not found", hint="list a run's snapshot_id with `aml run show`"
                )
            files = s.scalars(
                select(SnapshotFileRow).where(SnapshotFileRow.snapshot_id == snapshot_id).order_by(SnapshotFileRow.path)
            )
            return models.Snapshot(
                id=row.id,
                file_count=row.file_count,
                total_size=row.total_size,
                created_at=utc(row.created_at),
                files=[models.SnapshotFile(path=f.path, sha256=f.sha256, size=f.size, mode=f.mode) for f in files],
            )

    def write_snapshot_zip(self, snapshot_id: str, out: BinaryIO) -> None:
        from jupyter_aml.snapshot.archive import write_zip

        snap = self.snapshot(snapshot_id)
        entries = [(f.path, f.mode, (lambda sha=f.sha256: self.blobs.open(sha))) for f in snap.files or []]
        write_zip(entries, out)

    # -- run files ------------------------------------------------------------------------------------
    def add_run_files(self, workspace: str, run_id: str, spec: models.RunFiles) -> list[models.RunFile]:
        """Register uploaded blobs under the paths given, unchanged.

        The whole batch is checked first, outside any write transaction: a batch over the per-request cap, with
        a path that is not a valid run-file path (``runtime/names.py``, named in the error) or a blob not
        uploaded is refused whole, so nothing is stored under a name a later download could not ask for. Then
        it is written ``RUN_FILES_PER_TRANSACTION`` rows per write transaction, so a large batch never keeps
        other writers out for long (100k files in one transaction held SQLite's lock for about a minute).
        Registering is idempotent per (run, path): a path sent again with the same blob is left as it is, with
        another blob it takes the new one; so a request stopped by a busy database is finished by re-sending it.
        """
        files = list(spec.files)
        cap = MAX_RUN_FILES_PER_REQUEST
        if len(files) > cap:
            raise PayloadTooLarge(
                f"the request registers {len(files)} files; one request may register at most {cap}",
                hint=f"send the files in batches of at most {cap} (the SDK and the run agent do)",
            )
        bad = [(f.path, problem) for f in files if (problem := run_path_problem(f.path))]
        if bad:
            if len(bad) == 1:
                validate_run_path(bad[0][0])  # raises with the one path's reason
            shown = "; ".join(f"{path!r} {problem}" for path, problem in bad[:5])
            raise InvalidInput(
                f"{len(bad)} run file paths are not valid, e.g. {shown}",
                hint="rename those files (no spaces at either end of a name, no '.', '..' or empty names, no "
                "control characters); paths are never trimmed for you",
                details={"invalid": [{"path": path, "problem": problem} for path, problem in bad[:100]]},
            )
        missing = self.blobs.missing(f.sha256 for f in files)
        if missing:
            raise InvalidInput(
                f"{len(missing)} blobs are not uploaded, e.g. {missing[0]}",
                hint="upload each file's blob before registering it",
            )
        with self.db.read() as s:
            RunService.row(s, workspace, run_id)
        latest = {f.path: f for f in files}  # a path listed twice keeps its last entry, as it always has
        rows = [{"run_id": run_id, "path": f.path, "sha256": f.sha256, "size": f.size} for f in latest.values()]
        step = RUN_FILES_PER_TRANSACTION
        for start in range(0, len(rows), step):
            try:
                self._write_run_files(workspace, run_id, rows[start:start + step])
            except Busy as exc:
                if start == 0:
                    raise
                raise Busy(
                    f"the workspace database is busy: {start} of the {len(rows)} files were registered, then "
                    "another write held its lock for longer than this one could wait",
                    hint=f"re-send the same request after {exc.retry_after} s to register the rest: files already "
                    "registered are left as they are",
                    details={"registered": start, "files": len(rows)},
                    retry_after=exc.retry_after,
                ) from exc
        self.events(workspace, FilesEvent(run_id=run_id, paths=[f.path for f in files][:100]))
        return files

    def _write_run_files(self, workspace: str, run_id: str, rows: list[dict[str, Any]]) -> None:
        """One short write transaction: insert the new paths, update those registered with another blob."""
        with self.db.session() as s:
            RunService.row(s, workspace, run_id)  # still there (a run deleted meanwhile is NotFound)
            stored = {
                path: (sha, size)
                for path, sha, size in s.execute(
                    select(RunFileRow.path, RunFileRow.sha256, RunFileRow.size).where(
                        RunFileRow.run_id == run_id, RunFileRow.path.in_([r["path"] for r in rows])
                    )
                )
            }
            new = [r for r in rows if r["path"] not in stored]
            changed = [r for r in rows if r["path"] in stored and stored[r["path"]] != (r["sha256"], r["size"])]
            if new:
                s.execute(insert(RunFileRow), new)
            if changed:
                s.execute(update(RunFileRow), changed)  # by primary key (run_id, path)

    def run_files(self, workspace: str, run_id: str, prefix: str = "") -> list[models.RunFile]:
        with self.db.read() as s:
            RunService.row(s, workspace, run_id)
            query = select(RunFileRow).where(RunFileRow.run_id == run_id)
            if prefix:
                query = query.where(RunFileRow.path.startswith(prefix))
            return [
                models.RunFile(path=r.path, sha256=r.sha256, size=r.size)
                for r in s.scalars(query.order_by(RunFileRow.path))
            ]

    def run_file(self, workspace: str, run_id: str, path: str) -> models.RunFile:
        rel = validate_run_path(path)
        with self.db.read() as s:
            RunService.row(s, workspace, run_id)
            row = s.get(RunFileRow, (run_id, rel))
            if row is None:
                raise NotFound(f"file {path!r} not found in run {run_id!r}", hint="list files with get_file_names()")
            return models.RunFile(path=row.path, sha256=row.sha256, size=row.size)

    # -- logs -----------------------------------------------------------------------------------------
    def add_logs(self, workspace: str, run_id: str, batch: models.LogBatch, *, now: float) -> int:
        with self.db.session() as s:
            RunService.row(s, workspace, run_id)
            rows = [
                LogLineRow(run_id=run_id, stream=line.stream, ts=line.ts or now, text=line.text) for line in batch.lines
            ]
            s.add_all(rows)
            s.flush()
            out = [models.LogLine(id=r.id, stream=r.stream, ts=r.ts, text=r.text) for r in rows]
        if out:
            self.events(workspace, LogEvent(run_id=run_id, lines=out[-500:]))
        return len(out)

    def logs(
        self, workspace: str, run_id: str, *, after: int = 0, limit: int = 1000, stream: str | None = None
    ) -> models.LogPage:
        if not 1 <= limit <= MAX_LOG_PAGE:
            raise InvalidInput(f"limit {limit} is out of range", hint=f"use 1..{MAX_LOG_PAGE}")
        with self.db.read() as s:
            RunService.row(s, workspace, run_id)
            query = select(LogLineRow).where(LogLineRow.run_id == run_id, LogLineRow.id > after)
            if stream:
                query = query.where(LogLineRow.stream == stream)
            rows = list(s.scalars(query.order_by(LogLineRow.id).limit(limit)))
            items = [models.LogLine(id=r.id, stream=r.stream, ts=r.ts, text=r.text) for r in rows]
        return models.LogPage(items=items, last_id=items[-1].id if items else after)


def iter_blob(blobs: BlobStore, sha256: str, chunk: int = 1 << 20) -> Iterator[bytes]:
    with blobs.open(sha256) as handle:
        while data := handle.read(chunk):
            yield data
