"""Web services (real-time endpoints): deploy, list, details, update, delete, logs, keys, telemetry, swagger,
and a test request sent for the browser (which cannot call the scoring URI itself: another port, no CORS)."""

from __future__ import annotations

import asyncio
import time

from jupyter_aml.core import registry_models as rm
from jupyter_aml.core.endpoint_test import EndpointTestRequest, EndpointTestResult
from jupyter_aml.errors import InvalidInput
from jupyter_aml.server.base import AMLHandler, api
from jupyter_aml.server.routes.workspaces import WS
from jupyter_aml.serving.manager import DeploymentManager

ENDPOINT = rf"{WS}/endpoints/(?P<name>[^/]+)"


class EndpointBase(AMLHandler):
    @property
    def manager(self) -> DeploymentManager:
        return self.app.deployments


class EndpointsHandler(EndpointBase):
    @api("user", "List web services", returns=rm.WebserviceList, action="services/read")
    async def get(self, workspace: str) -> None:
        items = await asyncio.to_thread(self.aml.deployments.all, workspace)
        self.reply(rm.WebserviceList(items=[self.manager.with_replicas(s) for s in items]))

    @api("user", "Deploy models as a web service (202: it starts in the background)", body=rm.DeploymentCreate,
         returns=rm.Webservice, status=202, action="services/write")
    async def post(self, workspace: str) -> None:
        spec = self.body(rm.DeploymentCreate)
        self.reply(await self.manager.deploy(workspace, spec, created_by=self.submitter), 202)


class EndpointHandler(EndpointBase):
    @api("user", "A web service: state, scoring URI, models, revision, replicas", returns=rm.Webservice,
         action="services/read")
    async def get(self, workspace: str, name: str) -> None:
        self.reply(await self.manager.describe(workspace, name))

    @api("user", "Update models, scoring code, replicas or settings (202: a new revision rolls out)",
         body=rm.DeploymentUpdate, returns=rm.Webservice, status=202, action="services/write")
    async def patch(self, workspace: str, name: str) -> None:
        spec = self.body(rm.DeploymentUpdate)
        self.reply(await self.manager.update(workspace, name, spec), 202)

    @api("user", "Delete a web service (drains and stops its replicas)", action="services/delete")
    async def delete(self, workspace: str, name: str) -> None:
        await self.manager.delete(workspace, name)
        self.reply({"deleted": name})


class LogsHandler(EndpointBase):
    @api("user", "The last lines of the service's log (manager events and replica output)", returns=rm.ServiceLogs,
         query=(("lines", "integer", "how many lines (default 5000)"),), action="services/read")
    async def get(self, workspace: str, name: str) -> None:
        await asyncio.to_thread(self.aml.deployments.get_id, workspace, name)
        lines = self.query_int("lines", 5000) or 5000
        if not 1 <= lines <= 100_000:
            raise InvalidInput(f"lines {lines} is out of range", hint="use 1..100000")
        self.reply(rm.ServiceLogs(lines=await asyncio.to_thread(self.manager.logs, workspace, name, lines)))


class KeysHandler(EndpointBase):
    @api("user", "The service's primary and secondary keys", returns=rm.ServiceKeys, action="services/listkeys")
    async def get(self, workspace: str, name: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.deployments.keys, workspace, name))


class RegenerateKeyHandler(EndpointBase):
    @api("user", "Regenerate (or set) the primary or secondary key", body=rm.RegenerateKey, returns=rm.ServiceKeys,
         action="services/regeneratekeys")
    async def post(self, workspace: str, name: str) -> None:
        spec = self.body(rm.RegenerateKey)
        self.reply(await self.manager.regenerate_key(workspace, name, spec))


class TelemetryHandler(EndpointBase):
    @api("user", "Requests, errors and latency percentiles per minute", returns=rm.Telemetry,
         query=(("minutes", "integer", "how far back (default 60)"),), action="services/read")
    async def get(self, workspace: str, name: str) -> None:
        minutes = self.query_int("minutes", 60) or 60
        if not 1 <= minutes <= 60 * 24 * 90:
            raise InvalidInput(f"minutes {minutes} is out of range", hint="use 1..129600")
        since = int(time.time() // 60) - minutes + 1
        self.reply(await self.manager.telemetry(workspace, name, since))


class SwaggerHandler(EndpointBase):
    @api("user", "The swagger document of the revision taking traffic", action="services/read")
    async def get(self, workspace: str, name: str) -> None:
        await asyncio.to_thread(self.aml.deployments.get_id, workspace, name)
        live = self.manager.live.get((workspace, name))
        self.reply(live.active.swagger if live is not None and live.active is not None else {})


class ScoringTestHandler(EndpointBase):
    @api("user", "Send a request to the service's scoring URI with its key; the answer comes back as data",
         body=EndpointTestRequest, returns=EndpointTestResult, action="services/score")
    async def post(self, workspace: str, name: str) -> None:
        spec = self.body(EndpointTestRequest)
        self.reply(await asyncio.to_thread(self.aml.endpoint_tests.send, workspace, name, spec))


ROUTES = [
    (rf"/workspaces/{WS}/endpoints", EndpointsHandler),
    (rf"/workspaces/{ENDPOINT}", EndpointHandler),
    (rf"/workspaces/{ENDPOINT}/logs", LogsHandler),
    (rf"/workspaces/{ENDPOINT}/keys", KeysHandler),
    (rf"/workspaces/{ENDPOINT}/keys/regenerate", RegenerateKeyHandler),
    (rf"/workspaces/{ENDPOINT}/telemetry", TelemetryHandler),
    (rf"/workspaces/{ENDPOINT}/swagger", SwaggerHandler),
    (rf"/workspaces/{ENDPOINT}/test", ScoringTestHandler),
]
