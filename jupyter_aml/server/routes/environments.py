"""The environment registry: register (deduplicated by the hash of the spec), list, get a version."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from jupyter_aml.core import registry_models as rm
from jupyter_aml.errors import InvalidInput
from jupyter_aml.server.base import AMLHandler, api
from jupyter_aml.server.routes.models import version_number
from jupyter_aml.server.routes.workspaces import WS

ENV = rf"{WS}/environments/(?P<name>[^/]+)"


class EnvironmentsHandler(AMLHandler):
    @api("user", "List registered environments", returns=rm.EnvironmentList,
         query=(("name", "string", "only this name"), ("latest", "boolean", "only the latest version of each")))
    async def get(self, workspace: str) -> None:
        items = await asyncio.to_thread(
            self.aml.environments.all,
            workspace,
            name=self.get_query_argument("name", None),
            latest=self.get_query_argument("latest", "false") == "true",
        )
        self.reply(rm.EnvironmentList(items=items))

    @api("user", "Register an environment (an unchanged spec returns the latest version)",
         body=rm.EnvironmentDefinition, returns=rm.RegisteredEnvironment)
    async def post(self, workspace: str) -> None:
        spec = self.body(rm.EnvironmentDefinition)
        self.reply(await asyncio.to_thread(self.aml.environments.register, workspace, spec))


class EnvironmentHandler(AMLHandler):
    @api("user", "The latest version of an environment", returns=rm.RegisteredEnvironment)
    async def get(self, workspace: str, name: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.environments.get, workspace, name))


class EnvironmentVersionHandler(AMLHandler):
    @api("user", "One version of an environment", returns=rm.RegisteredEnvironment)
    async def get(self, workspace: str, name: str, version: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.environments.get, workspace, name, version_number(version)))


class EnvironmentBuildHandler(AMLHandler):
    @api("user", "Build the environment's Python now (a venv cached by its requirements) so runs need not wait",
         returns=rm.EnvironmentBuild)
    async def post(self, workspace: str, name: str, version: str) -> None:
        registered = await asyncio.to_thread(self.aml.environments.get, workspace, name, version_number(version))
        self.reply(await asyncio.to_thread(build, registered, self.aml.settings.env_cache))


def build(registered: rm.RegisteredEnvironment, cache_dir: Path) -> rm.EnvironmentBuild:
    """The same builder and cache that runs and local web services use, so their next start reuses it."""
    from jupyter_aml.envbuild.venv import EnvBuildError, interpreter_spec, prepare_environment

    lines: list[str] = []
    started = time.monotonic()
    try:
        prepared = prepare_environment(interpreter_spec(registered.spec), cache_dir, log=lines.append)
    except EnvBuildError as exc:
        last = [line.strip() for line in exc.tail.splitlines() if line.strip()][-3:]
        raise InvalidInput(
            f"environment {registered.name}:{registered.version} could not be built: {exc.message}"
            + ("\n" + "\n".join(last) if last else ""),
            hint="fix its pip requirements or Python version and register it again",
            details={"log": [*lines, *exc.tail.splitlines()][-200:]},
        ) from None
    return rm.EnvironmentBuild(
        environment=f"{registered.name}:{registered.version}", python=prepared.python,
        venv_hash=prepared.spec_hash, built=prepared.built, seconds=round(time.monotonic() - started, 3),
        log=lines[-200:])


ROUTES = [
    (rf"/workspaces/{WS}/environments", EnvironmentsHandler),
    (rf"/workspaces/{ENV}", EnvironmentHandler),
    (rf"/workspaces/{ENV}/versions/(?P<version>[^/]+)", EnvironmentVersionHandler),
    (rf"/workspaces/{ENV}/versions/(?P<version>[^/]+)/build", EnvironmentBuildHandler),
]
