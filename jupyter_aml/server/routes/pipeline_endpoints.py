"""Published pipelines, pipeline endpoints and schedules over REST (core/pipeline_publish.py,
core/schedules.py). A Reader reads them (``runs/read``); a Contributor publishes, submits, schedules and
changes them (``runs/submit``).

The two invoke routes are v1's: ``POST .../PipelineRuns/PipelineSubmit/{id}`` (a published pipeline) and
``POST .../PipelineRuns/PipelineEndpointSubmit/Id/{id}`` (a pipeline endpoint, its default version unless
``PipelineVersion`` says), with the body ``{"ExperimentName": ..., "ParameterAssignments": {...}}`` and the
workspace's bearer token, answered with the new run's ``Id``: what v1 clients and Azure Data Factory send.
"""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_server.utils import url_path_join

from jupyter_aml.core import pipeline_publish_models as pp
from jupyter_aml.errors import InvalidInput
from jupyter_aml.server.base import AMLHandler, api
from jupyter_aml.server.routes.workspaces import WS

_ALL = (("include_disabled", "boolean", "also list the disabled (and archived) ones"),)


class _Base(AMLHandler):
    def absolute(self, path: str) -> str:
        """The URL of an API path as this request reached the service."""
        root = url_path_join(self.base_url, "aml/api/v1")
        return f"{self.request.protocol}://{self.request.host}{root}{path}"

    def located(self, item: Any) -> Any:
        return item.model_copy(update={"endpoint": self.absolute(item.endpoint_path)})


class PublishedListHandler(_Base):
    @api("user", "Published pipelines (the active ones unless include_disabled=true), newest first",
         returns=pp.PublishedPipelineList, query=_ALL, action="runs/read")
    async def get(self, workspace: str) -> None:
        found = await asyncio.to_thread(self.app.published.list_published, workspace,
                                        active_only=not self.query_flag("include_disabled"))
        self.reply(pp.PublishedPipelineList(items=[self.located(p) for p in found.items]))

    @api("user", "Publish a pipeline (its submit body, or the graph a pipeline run ran): checked as a submit "
         "is, then kept as an immutable copy runnable by id", body=pp.PublishedPipelineCreate,
         returns=pp.PublishedPipeline, status=201, action="runs/submit")
    async def post(self, workspace: str) -> None:
        body = self.body(pp.PublishedPipelineCreate)
        made = await asyncio.to_thread(self.app.published.publish, workspace, body, creator=self.submitter)
        self.reply(self.located(made), 201)


class PublishedHandler(_Base):
    @api("user", "A published pipeline: its parameters and defaults, steps, status and REST URL",
         returns=pp.PublishedPipeline, action="runs/read")
    async def get(self, workspace: str, pipeline_id: str) -> None:
        self.reply(self.located(await asyncio.to_thread(self.app.published.get_published, workspace, pipeline_id)))

    @api("user", "Disable or enable a published pipeline (a disabled one keeps its id and URL and answers 409)",
         body=pp.PublishedPipelineUpdate, returns=pp.PublishedPipeline, action="runs/submit")
    async def patch(self, workspace: str, pipeline_id: str) -> None:
        body = self.body(pp.PublishedPipelineUpdate)
        self.reply(self.located(await asyncio.to_thread(self.app.published.set_published_status, workspace,
                                                        pipeline_id, body.status)))


class PublishedSubmitHandler(_Base):
    @api("user", "v1's REST invoke of a published pipeline: {ExperimentName, ParameterAssignments} starts a "
         "pipeline run, answered with its Id; a disabled pipeline answers 409", body=pp.PipelineSubmitRequest,
         returns=pp.PipelineSubmitted, action="runs/submit")
    async def post(self, workspace: str, pipeline_id: str) -> None:
        body = self.body(pp.PipelineSubmitRequest)
        if body.PipelineVersion is not None:
            raise InvalidInput("a published pipeline has no versions: PipelineVersion is for a pipeline endpoint",
                               hint="leave PipelineVersion out, or POST to the pipeline endpoint's URL")
        self.reply(await self.app.published.submit_published(workspace, pipeline_id, body, submitter=self.submitter))


class EndpointListHandler(_Base):
    @api("user", "Pipeline endpoints (the active ones unless include_disabled=true), by name",
         returns=pp.PipelineEndpointList, query=_ALL, action="runs/read")
    async def get(self, workspace: str) -> None:
        found = await asyncio.to_thread(self.app.published.list_endpoints, workspace,
                                        active_only=not self.query_flag("include_disabled"))
        self.reply(pp.PipelineEndpointList(items=[self.located(e) for e in found.items]))

    @api("user", "Create a pipeline endpoint whose version 0 (the default) is a published pipeline",
         body=pp.PipelineEndpointCreate, returns=pp.PipelineEndpoint, status=201, action="runs/submit")
    async def post(self, workspace: str) -> None:
        body = self.body(pp.PipelineEndpointCreate)
        made = await asyncio.to_thread(self.app.published.create_endpoint, workspace, body, creator=self.submitter)
        self.reply(self.located(made), 201)


class EndpointHandler(_Base):
    @api("user", "A pipeline endpoint (by id or name): its versions, default version, status and REST URL",
         returns=pp.PipelineEndpoint, action="runs/read")
    async def get(self, workspace: str, endpoint: str) -> None:
        self.reply(self.located(await asyncio.to_thread(self.app.published.get_endpoint, workspace, endpoint)))

    @api("user", "Set a pipeline endpoint's default version, its status (Active, Disabled, Archived) or "
         "description", body=pp.PipelineEndpointUpdate, returns=pp.PipelineEndpoint, action="runs/submit")
    async def patch(self, workspace: str, endpoint: str) -> None:
        body = self.body(pp.PipelineEndpointUpdate)
        self.reply(self.located(await asyncio.to_thread(self.app.published.update_endpoint, workspace, endpoint,
                                                        body)))


class EndpointVersionsHandler(_Base):
    @api("user", "Add a published pipeline as the endpoint's next version (set_default: and make it the "
         "default); a pipeline already there keeps its version", body=pp.PipelineEndpointAdd,
         returns=pp.PipelineEndpoint, action="runs/submit")
    async def post(self, workspace: str, endpoint: str) -> None:
        body = self.body(pp.PipelineEndpointAdd)
        self.reply(self.located(await asyncio.to_thread(self.app.published.add_version, workspace, endpoint, body)))


class EndpointSubmitHandler(_Base):
    @api("user", "v1's REST invoke of a pipeline endpoint: runs its default version, or PipelineVersion; "
         "answered with the new run's Id; a disabled endpoint or pipeline answers 409",
         body=pp.PipelineSubmitRequest, returns=pp.PipelineSubmitted, action="runs/submit")
    async def post(self, workspace: str, endpoint_id: str) -> None:
        body = self.body(pp.PipelineSubmitRequest)
        self.reply(await self.app.published.submit_endpoint(workspace, endpoint_id, body, submitter=self.submitter))


class SchedulesHandler(_Base):
    @api("user", "Pipeline schedules (the active ones unless include_disabled=true), with their next fire times",
         returns=pp.ScheduleList, action="runs/read", query=(
             *_ALL, ("pipeline_id", "string", "only this published pipeline's"),
             ("pipeline_endpoint_id", "string", "only this pipeline endpoint's")))
    async def get(self, workspace: str) -> None:
        self.reply(await asyncio.to_thread(
            self.app.schedules.list, workspace, active_only=not self.query_flag("include_disabled"),
            pipeline_id=self.query_value("pipeline_id"), pipeline_endpoint_id=self.query_value("pipeline_endpoint_id")))

    @api("user", "Schedule a published pipeline or endpoint: on a recurrence (refused, with the reason, when it "
         "can never fire) or on files added or changed under a datastore path", body=pp.ScheduleCreate,
         returns=pp.Schedule, status=201, action="runs/submit")
    async def post(self, workspace: str) -> None:
        body = self.body(pp.ScheduleCreate)
        self.reply(await asyncio.to_thread(self.app.schedules.create, workspace, body, creator=self.submitter), 201)


class ScheduleHandler(_Base):
    @api("user", "A schedule: its recurrence (and the cron expression it became) or watched path, status and "
         "next fire time", returns=pp.Schedule, action="runs/read")
    async def get(self, workspace: str, schedule_id: str) -> None:
        self.reply(await asyncio.to_thread(self.app.schedules.get, workspace, schedule_id))

    @api("user", "Change a schedule (only the fields given), or disable / enable it (enabled, it fires from its "
         "next slot after now)", body=pp.ScheduleUpdate, returns=pp.Schedule, action="runs/submit")
    async def patch(self, workspace: str, schedule_id: str) -> None:
        body = self.body(pp.ScheduleUpdate)
        self.reply(await asyncio.to_thread(self.app.schedules.update, workspace, schedule_id, body))


class ScheduleRunsHandler(_Base):
    @api("user", "A schedule's firings, newest first: each slot, the pipeline run it started or why it could not",
         returns=pp.ScheduleFireList, action="runs/read")
    async def get(self, workspace: str, schedule_id: str) -> None:
        self.reply(await asyncio.to_thread(self.app.schedules.fires, workspace, schedule_id))


_ID = r"(?P<{}>[^/]+)"
ROUTES = [
    (rf"/workspaces/{WS}/pipelines/published", PublishedListHandler),
    (rf"/workspaces/{WS}/pipelines/published/{_ID.format('pipeline_id')}", PublishedHandler),
    (rf"/workspaces/{WS}/PipelineRuns/PipelineSubmit/{_ID.format('pipeline_id')}", PublishedSubmitHandler),
    (rf"/workspaces/{WS}/pipelines/endpoints", EndpointListHandler),
    (rf"/workspaces/{WS}/pipelines/endpoints/{_ID.format('endpoint')}", EndpointHandler),
    (rf"/workspaces/{WS}/pipelines/endpoints/{_ID.format('endpoint')}/versions", EndpointVersionsHandler),
    (rf"/workspaces/{WS}/PipelineRuns/PipelineEndpointSubmit/Id/{_ID.format('endpoint_id')}", EndpointSubmitHandler),
    (rf"/workspaces/{WS}/pipelines/schedules", SchedulesHandler),
    (rf"/workspaces/{WS}/pipelines/schedules/{_ID.format('schedule_id')}", ScheduleHandler),
    (rf"/workspaces/{WS}/pipelines/schedules/{_ID.format('schedule_id')}/runs", ScheduleRunsHandler),
]
