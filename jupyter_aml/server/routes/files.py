"""Blobs (content-addressed uploads), snapshots (manifests, zip download) and run files."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from typing import Any

from tornado import web

from jupyter_aml.core import models
from jupyter_aml.core.gc import GcReport, GcRequest
from jupyter_aml.errors import Busy, InvalidInput
from jupyter_aml.server.base import AMLHandler, api
from jupyter_aml.server.routes.runs import RUN
from jupyter_aml.server.routes.workspaces import WS
from jupyter_aml.store.blobs import check_sha256

LARGE_UPLOAD_BYTES = 64 * 1024**2  # an upload this big counts against max_concurrent_large_uploads
_large_uploads = [0]  # in flight in this process (handlers run on the one event loop: no lock needed)

SHA = r"(?P<sha256>[^/]+)"


async def send_blob(handler: AMLHandler, sha256: str, filename: str | None = None) -> None:
    handle = await asyncio.to_thread(handler.aml.blobs.open, sha256)
    handler.set_header("Content-Type", "application/octet-stream")
    if filename:
        handler.set_header("Content-Disposition", f'attachment; filename="{filename}"')
    try:
        while chunk := await asyncio.to_thread(handle.read, 1 << 20):
            handler.write(chunk)
            await handler.flush()
    finally:
        handle.close()
    handler.finish()


class BlobsMissingHandler(AMLHandler):
    @api("blobs", "Which of these blobs does the workspace lack?", body=models.HashList, returns=models.MissingBlobs,
         action="files/write")
    async def post(self, workspace: str) -> None:
        spec = self.body(models.HashList)
        await asyncio.to_thread(self.aml.workspaces.get, workspace)
        self.reply({"missing": await asyncio.to_thread(self.aml.blobs.missing, spec.hashes)})


@web.stream_request_body
class BlobHandler(AMLHandler):
    """PUT streams to a temp file while hashing; the size limit applies before anything is stored."""

    _tmp: Any = None
    _digest: Any = None
    _received = 0
    _large = False

    def body_limit(self) -> int:
        return self.aml.settings.max_upload_bytes if self.request.method == "PUT" else super().body_limit()

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()  # authenticated and within the upload limit, or refused before the body
        if self.request.method != "PUT" or self._finished:
            return
        declared = self.request.headers.get("Content-Length", "0") or "0"
        if declared.isdigit() and int(declared) >= LARGE_UPLOAD_BYTES:
            if _large_uploads[0] >= self.aml.settings.max_concurrent_large_uploads:
                raise Busy(f"{_large_uploads[0]} large uploads are in progress; the limit is "
                           f"{self.aml.settings.max_concurrent_large_uploads}", retry_after=5)
            _large_uploads[0] += 1
            self._large = True
        self._digest = hashlib.sha256()
        fd, path = tempfile.mkstemp(dir=self.aml.settings.root)
        self._tmp = (os.fdopen(fd, "w+b"), path)

    def data_received(self, chunk: bytes) -> None:
        if self._tmp is None:
            return
        self._received += len(chunk)
        self._digest.update(chunk)
        self._tmp[0].write(chunk)

    def on_finish(self) -> None:
        self._cleanup()

    def on_connection_close(self) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        if self._large:
            self._large = False
            _large_uploads[0] -= 1
        if self._tmp is not None:
            handle, path = self._tmp
            handle.close()
            if os.path.exists(path):
                os.unlink(path)
            self._tmp = None

    @api(
        "blobs",
        "Upload a blob (raw body); its sha256 must match the URL",
        returns=models.BlobInfo,
        status=201,
        content_type="application/octet-stream",
        action="files/write",
    )
    async def put(self, workspace: str, sha256: str) -> None:
        check_sha256(sha256)
        await asyncio.to_thread(self.aml.workspaces.get, workspace)
        if self._digest.hexdigest() != sha256:
            raise InvalidInput(
                f"the uploaded bytes hash to {self._digest.hexdigest()}, not {sha256}",
                hint="the upload was corrupted or named the wrong hash; retry",
            )
        handle = self._tmp[0]
        handle.seek(0)
        size = await asyncio.to_thread(
            self.aml.blobs.put_stream, sha256, handle, max_bytes=self.aml.settings.max_upload_bytes
        )
        self.reply({"sha256": sha256, "size": size}, 201)

    @api("blobs", "Download a blob", content_type="application/octet-stream", action="files/read")
    async def get(self, workspace: str, sha256: str) -> None:
        check_sha256(sha256)
        await send_blob(self, sha256)


class SnapshotsHandler(AMLHandler):
    @api(
        "user",
        "Create a snapshot from a manifest of uploaded blobs",
        body=models.SnapshotCreate,
        returns=models.Snapshot,
        status=201,
        action="files/write",
    )
    async def post(self, workspace: str) -> None:
        spec = self.body(models.SnapshotCreate)
        await asyncio.to_thread(self.aml.workspaces.get, workspace)
        settings = self.aml.settings
        snap = await asyncio.to_thread(
            self.aml.files.create_snapshot,
            spec,
            max_files=settings.snapshot_max_files,
            max_bytes=settings.snapshot_max_bytes,
        )
        self.reply(snap, 201)


def _workspace_name(workspace: str) -> None:
    """Snapshots are found by id alone; the workspace segment must still be a workspace name."""
    if not re.fullmatch(models.NAME_PATTERN[1:-1], workspace):
        raise InvalidInput(f"{workspace!r} is not a workspace name",
                           hint="1-64 letters, digits, '_', '.', '-', starting with a letter or digit")


class SnapshotHandler(AMLHandler):
    @api("snapshot", "Get a snapshot's manifest", returns=models.Snapshot, action="files/read")
    async def get(self, workspace: str, snapshot_id: str) -> None:
        _workspace_name(workspace)
        self.reply(await asyncio.to_thread(self.aml.files.snapshot, snapshot_id))


class SnapshotZipHandler(AMLHandler):
    @api("snapshot", "Download a snapshot as a zip", content_type="application/zip", action="files/read")
    async def get(self, workspace: str, snapshot_id: str) -> None:
        _workspace_name(workspace)
        with tempfile.TemporaryFile() as out:
            await asyncio.to_thread(self.aml.files.write_snapshot_zip, snapshot_id, out)
            out.seek(0)
            self.set_header("Content-Type", "application/zip")
            self.set_header("Content-Disposition", f'attachment; filename="snapshot-{snapshot_id[:12]}.zip"')
            while chunk := out.read(1 << 20):
                self.write(chunk)
                await self.flush()
        self.finish()


class RunFilesHandler(AMLHandler):
    @api("run", "List a run's files", returns=models.RunFileList, query=(("prefix", "string", "e.g. outputs/"),),
         action="files/read")
    async def get(self, workspace: str, run_id: str) -> None:
        items = await asyncio.to_thread(
            self.aml.files.run_files, workspace, run_id, self.get_query_argument("prefix", "", strip=False)
        )
        self.reply({"items": [f.model_dump() for f in items]})

    @api("run", "Register uploaded blobs as run files", body=models.RunFiles, returns=models.RunFileList,
         action="files/write")
    async def post(self, workspace: str, run_id: str) -> None:
        spec = self.body(models.RunFiles)
        items = await asyncio.to_thread(self.aml.files.add_run_files, workspace, run_id, spec)
        self.reply({"items": [f.model_dump() for f in items]})


class RunFileContentHandler(AMLHandler):
    @api(
        "run",
        "Download one run file",
        query=(("path", "string", "the file's path in the run"),),
        content_type="application/octet-stream",
        action="files/read",
    )
    async def get(self, workspace: str, run_id: str) -> None:
        path = self.get_query_argument("path", "", strip=False)
        meta = await asyncio.to_thread(self.aml.files.run_file, workspace, run_id, path)
        await send_blob(self, meta.sha256, filename=os.path.basename(meta.path))


class GarbageCollectionHandler(AMLHandler):
    @api("user", "Remove stored files (blobs) that no run, snapshot, model or logged image refers to any more",
         body=GcRequest, returns=GcReport, action="service/admin")
    async def post(self) -> None:
        spec = self.body(GcRequest)
        self.reply(await asyncio.to_thread(self.aml.gc.collect, spec))


ROUTES = [
    (r"/gc", GarbageCollectionHandler),
    (rf"/workspaces/{WS}/blobs/missing", BlobsMissingHandler),
    (rf"/workspaces/{WS}/blobs/{SHA}", BlobHandler),
    (rf"/workspaces/{WS}/snapshots", SnapshotsHandler),
    (rf"/workspaces/{WS}/snapshots/(?P<snapshot_id>[^/]+)", SnapshotHandler),
    (rf"/workspaces/{WS}/snapshots/(?P<snapshot_id>[^/]+)/zip", SnapshotZipHandler),
    (rf"/workspaces/{RUN}/files", RunFilesHandler),
    (rf"/workspaces/{RUN}/files/content", RunFileContentHandler),
]
