"""The environment registry: register (deduplicated by the hash of the spec), list, get a version."""

from __future__ import annotations

import asyncio

from jupyter_aml.core import registry_models as rm
from jupyter_aml.server.base import AMLHandler, api
from jupyter_aml.server.routes.models import version_number
from jupyter_aml.server.routes.workspaces import WS

ENV = rf"{WS}/environments/(?P<name>[^/]+)"


class EnvironmentsHandler(AMLHandler):
    @api("user", "List registered environments", returns=rm.EnvironmentList,
         query=(("name", "string", "only this name"), ("latest", "boolean", "only the latest version of each")),
             action="environments/read")
    async def get(self, workspace: str) -> None:
        items = await asyncio.to_thread(
            self.aml.environments.all,
            workspace,
            name=self.get_query_argument("name", None),
            latest=self.query_flag("latest"),
        )
        self.reply(rm.EnvironmentList(items=items))

    @api("user", "Register an environment (an unchanged spec returns the latest version)",
         body=rm.EnvironmentDefinition, returns=rm.RegisteredEnvironment, action="environments/write")
    async def post(self, workspace: str) -> None:
        spec = self.body(rm.EnvironmentDefinition)
        self.reply(await asyncio.to_thread(self.aml.environments.register, workspace, spec))


class EnvironmentHandler(AMLHandler):
    @api("user", "The latest version of an environment", returns=rm.RegisteredEnvironment, action="environments/read")
    async def get(self, workspace: str, name: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.environments.get, workspace, name))


class EnvironmentVersionHandler(AMLHandler):
    @api("user", "One version of an environment", returns=rm.RegisteredEnvironment, action="environments/read")
    async def get(self, workspace: str, name: str, version: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.environments.get, workspace, name, version_number(version)))


class EnvironmentBuildHandler(AMLHandler):
    @api("user", "Build the environment's Python now (a venv cached by its requirements) so runs need not wait",
         returns=rm.EnvironmentBuild, action="environments/write")
    async def post(self, workspace: str, name: str, version: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.environments.build, workspace, name, version_number(version)))


ROUTES = [
    (rf"/workspaces/{WS}/environments", EnvironmentsHandler),
    (rf"/workspaces/{ENV}", EnvironmentHandler),
    (rf"/workspaces/{ENV}/versions/(?P<version>[^/]+)", EnvironmentVersionHandler),
    (rf"/workspaces/{ENV}/versions/(?P<version>[^/]+)/build", EnvironmentBuildHandler),
]
