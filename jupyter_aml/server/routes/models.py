"""The model registry: register (from uploaded blobs or a run's files), list/search, versions, tags, delete."""

from __future__ import annotations

import asyncio

from jupyter_aml.core import registry_models as rm
from jupyter_aml.core.numbers import MAX_VERSION, parse_int
from jupyter_aml.server.base import AMLHandler, api
from jupyter_aml.server.routes.runs import RUN
from jupyter_aml.server.routes.workspaces import WS

MODEL = rf"{WS}/models/(?P<name>[^/]+)"
VERSION = rf"{MODEL}/versions/(?P<version>[^/]+)"
LIST_QUERY = (
    ("name", "string", "only this model name"),
    ("tag", "string", "repeatable: key or key=value"),
    ("property", "string", "repeatable: key or key=value"),
    ("run_id", "string", "only models registered from this run"),
    ("latest", "boolean", "only the latest version of each name"),
)


def version_number(value: str) -> int:
    return parse_int(value, "the version", minimum=1, maximum=MAX_VERSION, hint="e.g. versions/2")


class ModelsHandler(AMLHandler):
    @api("user", "List and search registered models", returns=rm.ModelList, query=LIST_QUERY, action="models/read")
    async def get(self, workspace: str) -> None:
        items = await asyncio.to_thread(
            self.aml.models.find,
            workspace,
            name=self.get_query_argument("name", None),
            tags=self.query_list("tag"),
            properties=self.query_list("property"),
            run_id=self.get_query_argument("run_id", None),
            latest=self.query_flag("latest"),
        )
        self.reply(rm.ModelList(items=items))

    @api("user", "Register a model (the next version of its name)", body=rm.ModelCreate, returns=rm.Model, status=201,
         action="models/write")
    async def post(self, workspace: str) -> None:
        spec = self.body(rm.ModelCreate)
        model = await asyncio.to_thread(self.aml.models.register, workspace, spec, created_by=self.submitter)
        self.reply(model, 201)


class RunModelsHandler(AMLHandler):
    """Registration with lineage, open to the run's own token: ``run.register_model`` inside a training script."""

    @api("run", "Register a file or folder of this run as a model version (lineage to the run)",
         body=rm.RunModelCreate, returns=rm.Model, status=201, action="models/write")
    async def post(self, workspace: str, run_id: str) -> None:
        spec = self.body(rm.RunModelCreate).for_run(run_id)
        model = await asyncio.to_thread(self.aml.models.register, workspace, spec, created_by=self.submitter)
        self.reply(model, 201)


class ModelHandler(AMLHandler):
    @api("user", "The latest version of a model", returns=rm.Model, action="models/read")
    async def get(self, workspace: str, name: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.models.get, workspace, name))


class ModelVersionHandler(AMLHandler):
    @api("user", "One version of a model", returns=rm.Model, action="models/read")
    async def get(self, workspace: str, name: str, version: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.models.get, workspace, name, version_number(version)))

    @api("user", "Update tags (set/remove), add properties, set the description", body=rm.ModelUpdate,
         returns=rm.Model, action="models/write")
    async def patch(self, workspace: str, name: str, version: str) -> None:
        spec = self.body(rm.ModelUpdate)
        self.reply(await asyncio.to_thread(self.aml.models.update, workspace, name, version_number(version), spec))

    @api("user", "Delete a model version (409 while a web service uses it)", action="models/delete")
    async def delete(self, workspace: str, name: str, version: str) -> None:
        await asyncio.to_thread(self.aml.models.delete, workspace, name, version_number(version))
        self.reply({"deleted": f"{name}:{version}"})


class ModelFilesHandler(AMLHandler):
    @api("user", "The files of a model version (download each with GET blobs/{sha256})", returns=rm.ModelFileList,
         action="models/read")
    async def get(self, workspace: str, name: str, version: str) -> None:
        items = await asyncio.to_thread(self.aml.models.files, workspace, name, version_number(version))
        self.reply(rm.ModelFileList(items=items))


ROUTES = [
    (rf"/workspaces/{WS}/models", ModelsHandler),
    (rf"/workspaces/{RUN}/models", RunModelsHandler),
    (rf"/workspaces/{MODEL}", ModelHandler),
    (rf"/workspaces/{VERSION}", ModelVersionHandler),
    (rf"/workspaces/{VERSION}/files", ModelFilesHandler),
]
