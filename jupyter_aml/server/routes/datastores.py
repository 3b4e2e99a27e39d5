"""Datastores over REST: register, list, get, delete, set the default, the files of a datastore through the
service (for clients that cannot reach the storage: workspaceblobstore and local folders live on the service's
machine), and the fsspec location with credentials for clients that read the store themselves.

No answer carries a credential except ``GET .../location`` (action ``datastores/listsecrets``, audited, and a
key-vault read recorded by the vault as well). Run tokens may read datastores, their files and locations in
their own workspace (scope ``workspace``), never more than their submitter's role allows: a run mounts a
dataset or uploads its outputs with them. A registration body that does not parse is answered without
echoing its content: it may hold a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pydantic
from tornado import web

from jupyter_aml.core import datastore_models as dm
from jupyter_aml.data import storage
from jupyter_aml.errors import InvalidInput, ValidationError
from jupyter_aml.server.base import AMLHandler, api, validation_body
from jupyter_aml.server.routes.workspaces import WS

DATASTORE = rf"{WS}/datastores/(?P<name>[^/]+)"
# Registering lists the store, which may take seconds (a slow or wrong endpoint): those calls get threads of
# their own, so that they never hold up the shared executor every other route's database work runs on.
_REGISTRATIONS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="aml-datastore-register")
_PATH_QUERY = ("path", "string", "the file's path inside the datastore, '/'-separated")


MAX_PATH_CHARS = 1024  # the OpenAPI document's maxLength for a datastore path (server/openapi.py)


def _file_path(handler: DatastoreBase) -> str:
    path = handler.required_query("path")
    raw = handler.request.query_arguments.get("path", [b""])[-1].decode("utf-8", "replace")
    if raw != path and any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):  # tornado drops them: refuse, never alter
        raise InvalidInput("path holds control characters", hint="name the file with printable characters")
    if len(path) > MAX_PATH_CHARS:
        raise InvalidInput(f"path is {len(path)} characters long; a datastore path has at most {MAX_PATH_CHARS}",
                           hint="use a shorter path")
    return path


class DatastoreBase(AMLHandler):
    @property
    def actor(self) -> str:
        run = self.caller.run
        return f"{run.submitter} (run {run.run_id})" if run is not None else self.caller.name

    def required_query(self, name: str) -> str:
        value = self.query_value(name)
        if not value:
            raise InvalidInput(f"query parameter {name!r} is required", hint=f"add ?{name}=...")
        return value


class DatastoresHandler(DatastoreBase):
    @api("workspace", "List the workspace's datastores (workspaceblobstore is made on first use) and the default",
         returns=dm.DatastoreList, action="datastores/read")
    async def get(self, workspace: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.datastores.list, workspace))

    @api("user", "Register a datastore: credentials go to the key vault; the store is listed first, so wrong "
         "credentials register nothing", body=dm.DatastoreCreate, returns=dm.Datastore, status=201,
         action="datastores/write")
    async def post(self, workspace: str) -> None:
        try:
            spec = self.body(dm.DatastoreCreate)
        except pydantic.ValidationError as exc:  # never echo the body: it may hold a key
            raise ValidationError(validation_body(exc)["message"], hint="fix the named fields and retry") from None
        register = functools.partial(self.aml.datastores.register, workspace, spec, actor=self.actor)
        self.reply(await asyncio.get_running_loop().run_in_executor(_REGISTRATIONS, register), 201)


class DatastoreHandler(DatastoreBase):
    @api("workspace", "A datastore: its kind and where it is (never its credentials)", returns=dm.Datastore,
         action="datastores/read")
    async def get(self, workspace: str, name: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.datastores.get, workspace, name))

    @api("user", "Unregister a datastore: its record and credentials go, its files stay",
         action="datastores/delete")
    async def delete(self, workspace: str, name: str) -> None:
        await asyncio.to_thread(self.aml.datastores.delete, workspace, name, actor=self.actor)
        self.reply({"deleted": name})


class DefaultHandler(DatastoreBase):
    @api("user", "Make this the workspace's default datastore", returns=dm.Datastore, action="datastores/write")
    async def post(self, workspace: str, name: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.datastores.set_default, workspace, name))


class LocationHandler(DatastoreBase):
    @api("workspace", "The datastore's fsspec location with its credentials, for a client that reads the store "
         "itself (a secret read: audited)", returns=dm.StorageLocation, action="datastores/listsecrets")
    async def get(self, workspace: str, name: str) -> None:
        self.set_header("Cache-Control", "no-store")
        self.reply(await asyncio.to_thread(self.aml.datastores.storage_location, workspace, name, actor=self.actor))


class FilesHandler(DatastoreBase):
    @api("workspace", "The files a glob, folder or file names in the datastore ('' or absent: all); 404 when it "
         "matches nothing", returns=dm.DatastoreFileList, action="datastores/read",
         query=(("pattern", "string", "a glob ('**' crosses folders), a folder or a file"),))
    async def get(self, workspace: str, name: str) -> None:
        pattern = self.query_value("pattern") or ""
        loc = await asyncio.to_thread(self.aml.datastores.location, workspace, name, actor=self.actor)
        files = await asyncio.to_thread(storage.list_files, loc, pattern)
        self.reply(dm.DatastoreFileList(items=[dm.DatastoreFile(path=f.path, size=f.size, fingerprint=f.fingerprint)
                                               for f in files]))


@web.stream_request_body
class FileHandler(DatastoreBase):
    """GET streams a file out; PUT streams the body to a private temp file, then into the datastore."""

    _tmp: Any = None

    def body_limit(self) -> int:
        return self.aml.settings.max_upload_bytes if self.request.method == "PUT" else super().body_limit()

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if self.request.method != "PUT" or self._finished:
            return
        fd, path = tempfile.mkstemp(dir=self.aml.settings.root, prefix=".datastore-upload-")
        self._tmp = (os.fdopen(fd, "w+b"), path)

    def data_received(self, chunk: bytes) -> None:
        if self._tmp is not None:
            self._received += len(chunk)
            self._tmp[0].write(chunk)

    def on_finish(self) -> None:
        self._cleanup()

    def on_connection_close(self) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        if self._tmp is not None:
            handle, path = self._tmp
            handle.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            self._tmp = None

    @api("workspace", "Download one file of the datastore", content_type="application/octet-stream",
         action="datastores/read", query=(_PATH_QUERY,))
    async def get(self, workspace: str, name: str) -> None:
        path = _file_path(self)
        loc = await asyncio.to_thread(self.aml.datastores.location, workspace, name, actor=self.actor)
        handle = await asyncio.to_thread(storage.open_file, loc, path, "rb")
        self.set_header("Content-Type", "application/octet-stream")
        await self.flush()  # the headers go now: APIHandler.finish would mark an empty file as JSON
        try:
            while chunk := await asyncio.to_thread(handle.read, 1 << 20):
                self.write(chunk)
                await self.flush()
        finally:
            handle.close()
        self.finish()

    @api("workspace", "Upload one file into the datastore (raw body); an existing file is kept unless "
         "overwrite=true", returns=dm.DatastoreUpload, status=201, action="datastores/upload",
         query=(_PATH_QUERY, ("overwrite", "boolean", "replace a file that is there")))
    async def put(self, workspace: str, name: str) -> None:
        path = _file_path(self)
        overwrite = self.query_flag("overwrite")
        loc = await asyncio.to_thread(self.aml.datastores.location, workspace, name, actor=self.actor)
        handle, tmp = self._tmp
        handle.flush()
        written = await asyncio.to_thread(storage.upload_pairs, loc, [(Path(tmp), path)], overwrite=overwrite)
        target = "/".join(p for p in path.split("/") if p not in ("", "."))
        self.reply(dm.DatastoreUpload(path=target, size=self._received, written=bool(written)), 201)


ROUTES = [
    (rf"/workspaces/{WS}/datastores", DatastoresHandler),
    (rf"/workspaces/{DATASTORE}", DatastoreHandler),
    (rf"/workspaces/{DATASTORE}/default", DefaultHandler),
    (rf"/workspaces/{DATASTORE}/location", LocationHandler),
    (rf"/workspaces/{DATASTORE}/files", FilesHandler),
    (rf"/workspaces/{DATASTORE}/file", FileHandler),
]
