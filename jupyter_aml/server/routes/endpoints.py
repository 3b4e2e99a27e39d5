"""Web services (real-time endpoints): deploy, list, details, update, delete, logs, keys, telemetry, swagger,
and a test request sent for the browser (which cannot call the scoring URI itself: another port, no CORS)."""

from __future__ import annotations

import asyncio
import time
from typing import Literal

from pydantic import BaseModel, Field
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from jupyter_aml.core import registry_models as rm
from jupyter_aml.core.models import Strict
from jupyter_aml.errors import Conflict, InvalidInput
from jupyter_aml.server.base import AMLHandler, api
from jupyter_aml.server.routes.workspaces import WS
from jupyter_aml.serving.manager import DeploymentManager

ENDPOINT = rf"{WS}/endpoints/(?P<name>[^/]+)"
TEST_MAX_REQUEST = 1024 * 1024  # characters of a test request body
TEST_MAX_RESPONSE = 1024 * 1024  # bytes of the scoring response kept; the rest is dropped (truncated=True)
TEST_MAX_SECONDS = 300.0


class EndpointBase(AMLHandler):
    @property
    def manager(self) -> DeploymentManager:
        return self.app.deployments


class EndpointsHandler(EndpointBase):
    @api("user", "List web services", returns=rm.WebserviceList)
    async def get(self, workspace: str) -> None:
        items = await asyncio.to_thread(self.aml.deployments.all, workspace)
        self.reply(rm.WebserviceList(items=[self.manager.with_replicas(s) for s in items]))

    @api("user", "Deploy models as a web service (202: it starts in the background)", body=rm.DeploymentCreate,
         returns=rm.Webservice, status=202)
    async def post(self, workspace: str) -> None:
        spec = self.body(rm.DeploymentCreate)
        self.reply(await self.manager.deploy(workspace, spec, created_by=self.submitter), 202)


class EndpointHandler(EndpointBase):
    @api("user", "A web service: state, scoring URI, models, revision, replicas", returns=rm.Webservice)
    async def get(self, workspace: str, name: str) -> None:
        self.reply(await self.manager.describe(workspace, name))

    @api("user", "Update models, scoring code, replicas or settings (202: a new revision rolls out)",
         body=rm.DeploymentUpdate, returns=rm.Webservice, status=202)
    async def patch(self, workspace: str, name: str) -> None:
        spec = self.body(rm.DeploymentUpdate)
        self.reply(await self.manager.update(workspace, name, spec), 202)

    @api("user", "Delete a web service (drains and stops its replicas)")
    async def delete(self, workspace: str, name: str) -> None:
        await self.manager.delete(workspace, name)
        self.reply({"deleted": name})


class LogsHandler(EndpointBase):
    @api("user", "The last lines of the service's log (manager events and replica output)", returns=rm.ServiceLogs,
         query=(("lines", "integer", "how many lines (default 5000)"),))
    async def get(self, workspace: str, name: str) -> None:
        await asyncio.to_thread(self.aml.deployments.get_id, workspace, name)
        lines = self.query_int("lines", 5000) or 5000
        if not 1 <= lines <= 100_000:
            raise InvalidInput(f"lines {lines} is out of range", hint="use 1..100000")
        self.reply(rm.ServiceLogs(lines=await asyncio.to_thread(self.manager.logs, workspace, name, lines)))


class KeysHandler(EndpointBase):
    @api("user", "The service's primary and secondary keys", returns=rm.ServiceKeys)
    async def get(self, workspace: str, name: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.deployments.keys, workspace, name))


class RegenerateKeyHandler(EndpointBase):
    @api("user", "Regenerate (or set) the primary or secondary key", body=rm.RegenerateKey, returns=rm.ServiceKeys)
    async def post(self, workspace: str, name: str) -> None:
        spec = self.body(rm.RegenerateKey)
        self.reply(await self.manager.regenerate_key(workspace, name, spec))


class TelemetryHandler(EndpointBase):
    @api("user", "Requests, errors and latency percentiles per minute", returns=rm.Telemetry,
         query=(("minutes", "integer", "how far back (default 60)"),))
    async def get(self, workspace: str, name: str) -> None:
        minutes = self.query_int("minutes", 60) or 60
        if not 1 <= minutes <= 60 * 24 * 90:
            raise InvalidInput(f"minutes {minutes} is out of range", hint="use 1..129600")
        since = int(time.time() // 60) - minutes + 1
        self.reply(await self.manager.telemetry(workspace, name, since))


class SwaggerHandler(EndpointBase):
    @api("user", "The swagger document of the revision taking traffic")
    async def get(self, workspace: str, name: str) -> None:
        await asyncio.to_thread(self.aml.deployments.get_id, workspace, name)
        live = self.manager.live.get((workspace, name))
        self.reply(live.active.swagger if live is not None and live.active is not None else {})


class EndpointTestRequest(Strict):
    """A request to send to the service's scoring URI, as a client would (with the chosen key)."""

    body: str = Field(max_length=TEST_MAX_REQUEST, description="the request body, sent as is (usually JSON)")
    key: Literal["primary", "secondary"] = "primary"


class EndpointTestResult(BaseModel):
    """What the scoring URI answered. Errors of the service are data here (status 4xx/5xx), not API errors;
    502 (unreachable) and 504 (no answer in time) come from this proxy and say why in ``error``."""

    status: int
    body: str  # the response text (UTF-8, invalid bytes replaced)
    content_type: str | None = None
    request_id: str | None = None  # x-ms-request-id: find the request in the service's log
    elapsed_ms: float
    truncated: bool = False  # the response was longer than TEST_MAX_RESPONSE bytes
    error: str | None = None


class ScoringTestHandler(EndpointBase):
    @api("user", "Send a request to the service's scoring URI with its key; the answer comes back as data",
         body=EndpointTestRequest, returns=EndpointTestResult)
    async def post(self, workspace: str, name: str) -> None:
        spec = self.body(EndpointTestRequest)
        svc = await self.manager.describe(workspace, name)
        if not svc.scoring_uri:
            raise Conflict(f"web service {name!r} has no scoring URI yet (state {svc.state})",
                           hint="wait until the deployment has started")
        headers = {"Content-Type": "application/json"}
        if svc.auth_enabled:
            keys = await asyncio.to_thread(self.aml.deployments.keys, workspace, name)
            headers["Authorization"] = f"Bearer {keys.primary_key if spec.key == 'primary' else keys.secondary_key}"
        scoring_s = svc.deployment_config.scoring_timeout_ms / 1000
        timeout = min(TEST_MAX_SECONDS, scoring_s + 5)
        chunks: list[bytes] = []
        size = 0

        def collect(chunk: bytes) -> None:
            nonlocal size
            if size < TEST_MAX_RESPONSE:
                chunks.append(chunk[: TEST_MAX_RESPONSE - size])
            size += len(chunk)

        request = HTTPRequest(svc.scoring_uri, method="POST", body=spec.body.encode(), headers=headers,
                              connect_timeout=min(10.0, timeout), request_timeout=timeout,
                              streaming_callback=collect, follow_redirects=False, decompress_response=True)
        start = time.perf_counter()
        response = await AsyncHTTPClient().fetch(request, raise_error=False)
        elapsed = round((time.perf_counter() - start) * 1000, 2)
        text = b"".join(chunks).decode("utf-8", errors="replace")
        if response.code == 599:  # no HTTP answer: the connection failed or timed out
            error = str(response.error) if response.error else "no response"
            timed_out = "timeout" in error.lower()
            self.reply(EndpointTestResult(
                status=504 if timed_out else 502, body=text, elapsed_ms=elapsed,
                error=f"no answer from {svc.scoring_uri} in {timeout:g} s" if timed_out
                else f"could not reach {svc.scoring_uri}: {error}",
            ))
            return
        self.reply(EndpointTestResult(
            status=response.code, body=text, content_type=response.headers.get("Content-Type"),
            request_id=response.headers.get("x-ms-request-id"), elapsed_ms=elapsed,
            truncated=size > TEST_MAX_RESPONSE,
        ))


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
