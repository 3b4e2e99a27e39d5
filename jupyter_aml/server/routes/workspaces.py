"""Workspaces, experiments and compute targets."""

from __future__ import annotations

import asyncio

from jupyter_aml.core import models
from jupyter_aml.server.base import AMLHandler, api

WS = r"(?P<workspace>[^/]+)"


class WorkspacesHandler(AMLHandler):
    @api("user", "List workspaces", returns=models.WorkspaceList)
    async def get(self) -> None:
        items = await asyncio.to_thread(self.aml.workspaces.all)
        self.reply({"items": [w.model_dump(mode="json") for w in items]})

    @api("user", "Create a workspace", body=models.WorkspaceCreate, returns=models.Workspace, status=201)
    async def post(self) -> None:
        spec = self.body(models.WorkspaceCreate)
        self.reply(await asyncio.to_thread(self.aml.workspaces.create, spec), 201)


class WorkspaceHandler(AMLHandler):
    @api("user", "Get a workspace", returns=models.Workspace)
    async def get(self, workspace: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.workspaces.get, workspace))


class ExperimentsHandler(AMLHandler):
    @api("user", "List a workspace's experiments", returns=models.ExperimentList)
    async def get(self, workspace: str) -> None:
        items = await asyncio.to_thread(self.aml.workspaces.experiments, workspace)
        self.reply({"items": [e.model_dump(mode="json") for e in items]})


class ComputesHandler(AMLHandler):
    @api("user", "List compute targets", returns=models.ComputeList)
    async def get(self, workspace: str) -> None:
        await asyncio.to_thread(self.aml.workspaces.get, workspace)
        self.reply({"items": [c.model_dump(mode="json") for c in self.scheduler.computes()]})


ROUTES = [
    (r"/workspaces", WorkspacesHandler),
    (rf"/workspaces/{WS}", WorkspaceHandler),
    (rf"/workspaces/{WS}/experiments", ExperimentsHandler),
    (rf"/workspaces/{WS}/computes", ComputesHandler),
]
