"""Compute targets: list and create, details, update (node counts), delete (force cancels the runs on it),
start / stop / restart, and v1's table of VM sizes."""

from __future__ import annotations

import asyncio

from jupyter_aml.core import compute_models as cm
from jupyter_aml.core.computes import ComputeService
from jupyter_aml.server.base import AMLHandler, api
from jupyter_aml.server.routes.workspaces import WS

COMPUTE = rf"{WS}/computes/(?P<name>[^/]+)"


class ComputeBase(AMLHandler):
    @property
    def computes(self) -> ComputeService:
        return self.app.computes

    async def workspace(self, name: str) -> None:
        """404 for a workspace that is missing (or not the caller's), before a configured target answers."""
        await asyncio.to_thread(self.aml.workspaces.get, name)


class ComputesHandler(ComputeBase):
    @api("user", "List compute targets: the configured ones and the workspace's own, with state, nodes and queue",
         returns=cm.ComputeList, action="computes/read")
    async def get(self, workspace: str) -> None:
        await self.workspace(workspace)
        self.reply(await asyncio.to_thread(self.computes.list, workspace))

    @api("user", "Create a compute (202: it is provisioned in the background; watch its state)",
         body=cm.ComputeCreate, returns=cm.Compute, status=202, action="computes/write")
    async def post(self, workspace: str) -> None:
        spec = self.body(cm.ComputeCreate)
        await self.workspace(workspace)
        self.reply(await self.computes.create(workspace, spec, created_by=self.submitter), 202)


class ComputeHandler(ComputeBase):
    @api("user", "A compute: settings, state, nodes and the runs waiting for it", returns=cm.Compute,
         action="computes/read")
    async def get(self, workspace: str, name: str) -> None:
        await self.workspace(workspace)
        self.reply(await asyncio.to_thread(self.computes.get, workspace, name))

    @api("user", "Change a cluster's node counts or idle time, or a compute's description and tags",
         body=cm.ComputeUpdate, returns=cm.Compute, action="computes/write")
    async def patch(self, workspace: str, name: str) -> None:
        spec = self.body(cm.ComputeUpdate)
        await self.workspace(workspace)
        self.reply(await self.computes.update(workspace, name, spec))

    @api("user", "Delete a compute (409 while runs are on it, unless force=true, which cancels them)",
         query=(("force", "boolean", "cancel the runs queued on or running on it"),), action="computes/delete")
    async def delete(self, workspace: str, name: str) -> None:
        force = self.query_flag("force")
        await self.workspace(workspace)
        await self.computes.delete(workspace, name, force=force)
        self.reply({"deleted": name})


def _verb_handler(verb: str, summary: str) -> type[ComputeBase]:
    class VerbHandler(ComputeBase):
        @api("user", summary, returns=cm.Compute, status=202, action="computes/start")
        async def post(self, workspace: str, name: str) -> None:
            await self.workspace(workspace)
            self.reply(await self.computes.action(workspace, name, verb), 202)

    VerbHandler.__name__ = VerbHandler.__qualname__ = f"Compute{verb.title()}Handler"
    return VerbHandler


class VmSizesHandler(ComputeBase):
    @api("user", "The VM sizes a compute may have (v1's names) and the CPU and memory each gives a node",
         returns=cm.VmSizeList, action="computes/read")
    async def get(self, workspace: str) -> None:
        await self.workspace(workspace)
        self.reply(self.computes.vm_sizes())


ROUTES = [
    (rf"/workspaces/{WS}/computes", ComputesHandler),
    (rf"/workspaces/{COMPUTE}", ComputeHandler),
    (rf"/workspaces/{COMPUTE}/start", _verb_handler("start", "Start a stopped compute instance")),
    (rf"/workspaces/{COMPUTE}/stop", _verb_handler("stop", "Stop a compute instance (409 while runs are on it)")),
    (rf"/workspaces/{COMPUTE}/restart", _verb_handler("restart", "Restart a compute instance")),
    (rf"/workspaces/{WS}/vm-sizes", VmSizesHandler),
]
