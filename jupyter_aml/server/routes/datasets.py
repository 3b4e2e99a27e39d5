"""Registered datasets: register (a version per definition), list the latest versions, get by name and version
('latest') or by id, versions, a service-side preview of the first rows, the profile, unregister all versions."""

from __future__ import annotations

import asyncio

from jupyter_aml.core import dataset_models as dm
from jupyter_aml.core.numbers import MAX_VERSION, parse_int
from jupyter_aml.server.base import AMLHandler, api
from jupyter_aml.server.routes.workspaces import WS

DATASET = rf"{WS}/datasets/(?P<name>[^/]+)"
VERSION = rf"{DATASET}/versions/(?P<dataset_version>[^/]+)"
PREVIEW_QUERY = (("rows", "integer", f"how many rows (1 to {dm.MAX_PREVIEW_ROWS}, default 20)"),)


def version_number(value: str) -> int | None:
    """A path's version: a number, or ``latest`` (None) as v1's ``get_by_name(version='latest')``."""
    if value == "latest":
        return None
    return parse_int(value, "the version", minimum=1, maximum=MAX_VERSION, hint="a number or latest")


class DatasetsHandler(AMLHandler):
    @api("workspace", "The latest version of every registered dataset", returns=dm.DatasetList, action="datasets/read")
    async def get(self, workspace: str) -> None:
        self.reply(dm.DatasetList(items=await asyncio.to_thread(self.aml.datasets.latest, workspace)))

    @api("workspace", "Register a dataset: its first version, or (create_new_version) the next one unless the latest "
         "has the same definition (then answered with existing: true)", body=dm.DatasetCreate, returns=dm.Dataset,
         status=201, action="datasets/write")
    async def post(self, workspace: str) -> None:
        spec = self.body(dm.DatasetCreate)
        made = await asyncio.to_thread(self.aml.datasets.register, workspace, spec, created_by=self.submitter)
        self.reply(made, 201)


class DatasetHandler(AMLHandler):
    @api("user", "Unregister a dataset: every version (v1's unregister_all_versions); the data stays",
         returns=dm.DatasetDeleted, action="datasets/delete")
    async def delete(self, workspace: str, name: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.datasets.delete, workspace, name))


class DatasetVersionsHandler(AMLHandler):
    @api("workspace", "Every version of a dataset, newest first", returns=dm.DatasetList, action="datasets/read")
    async def get(self, workspace: str, name: str) -> None:
        self.reply(dm.DatasetList(items=await asyncio.to_thread(self.aml.datasets.versions, workspace, name)))


class DatasetVersionHandler(AMLHandler):
    @api("workspace", "One version of a dataset (a number, or latest)", returns=dm.Dataset, action="datasets/read")
    async def get(self, workspace: str, name: str, dataset_version: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.datasets.get, workspace, name, version_number(dataset_version)))


    @api("user", "Change a version's description and tags (its definition stays)", body=dm.DatasetUpdate,
         returns=dm.Dataset, action="datasets/write")
    async def patch(self, workspace: str, name: str, dataset_version: str) -> None:
        spec = self.body(dm.DatasetUpdate)
        self.reply(await asyncio.to_thread(self.aml.datasets.update, workspace, name,
                                           version_number(dataset_version), spec))


class DatasetProfileHandler(AMLHandler):
    @api("workspace", "A tabular dataset version's profile (computed once, then kept)", returns=dm.DatasetProfile,
         action="datasets/read")
    async def get(self, workspace: str, name: str, dataset_version: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.datasets.profile, workspace, name, version_number(dataset_version)))


class DatasetPreviewHandler(AMLHandler):
    @api("workspace", "The first rows of a dataset version (a file dataset: its first files), read by the service",
         returns=dm.DatasetPreview, query=PREVIEW_QUERY, action="datasets/read")
    async def get(self, workspace: str, name: str, dataset_version: str) -> None:
        rows = self.query_int("rows", 20)
        self.reply(await asyncio.to_thread(self.aml.datasets.preview, workspace, name, version_number(dataset_version),
                                           rows=rows))


class DatasetByIdHandler(AMLHandler):
    @api("workspace", "A dataset version by its id (v1's Dataset.get_by_id)", returns=dm.Dataset,
         action="datasets/read")
    async def get(self, workspace: str, dataset_id: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.datasets.get_by_id, workspace, dataset_id))


ROUTES = [
    (rf"/workspaces/{WS}/datasets", DatasetsHandler),
    (rf"/workspaces/{WS}/dataset-ids/(?P<dataset_id>[^/]+)", DatasetByIdHandler),
    (rf"/workspaces/{DATASET}", DatasetHandler),
    (rf"/workspaces/{DATASET}/versions", DatasetVersionsHandler),
    (rf"/workspaces/{VERSION}", DatasetVersionHandler),
    (rf"/workspaces/{VERSION}/profile", DatasetProfileHandler),
    (rf"/workspaces/{VERSION}/preview", DatasetPreviewHandler),
]
