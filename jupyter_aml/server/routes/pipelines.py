"""ML pipelines over REST (core/pipelines.py): check a pipeline, submit it as a parent run whose steps the
service drives, and read a pipeline run's steps (status, run, reuse). A step's own run is an ordinary run
(the runs routes read, cancel and stream it); cancelling the pipeline run cancels its running steps."""

from __future__ import annotations

import asyncio

from jupyter_aml.core import pipeline_views as views
from jupyter_aml.core import pipelines_models as pm
from jupyter_aml.server.base import AMLHandler, api
from jupyter_aml.server.routes.workspaces import WS

PIPELINE_RUN = rf"{WS}/pipelines/runs/(?P<run_id>[^/]+)"


class PipelineValidateHandler(AMLHandler):
    @api("user", "Check a pipeline without creating anything: its graph, parameters, compute targets, scripts "
         "and data; the answer is the order its steps may run in", body=pm.PipelineRunCreate,
         returns=pm.PipelineValidation, action="runs/read")
    async def post(self, workspace: str) -> None:
        spec = self.body(pm.PipelineRunCreate)
        steps, _ = await asyncio.to_thread(self.app.pipelines.check, workspace, spec)
        self.reply(pm.PipelineValidation(order=steps))


class PipelineRunsHandler(AMLHandler):
    @api("user", "List the workspace's pipeline runs, newest first, each with its step counts (how many steps "
         "Completed, were reused, run, failed, wait or were skipped)", returns=views.PipelineRunPage,
         query=(("experiment", "string", "experiment name"), ("status", "string", "repeatable status filter"),
                ("page_size", "integer", "1..500"), ("page_token", "string", "next_page_token of the previous page")),
         action="runs/read")
    async def get(self, workspace: str) -> None:
        self.reply(await asyncio.to_thread(
            views.page, self.app.pipelines, workspace, experiment=self.get_query_argument("experiment", None),
            statuses=self.query_list("status"), page_size=self.query_int("page_size", 50),
            page_token=self.get_query_argument("page_token", None)))

    @api("user", "Submit a pipeline: its parent run and graph are created together (or neither), then the "
         "service runs or reuses each step", body=pm.PipelineRunCreate, returns=pm.PipelineRunInfo, status=201,
         action="runs/submit")
    async def post(self, workspace: str) -> None:
        spec = self.body(pm.PipelineRunCreate)
        self.reply(await self.app.pipelines.submit(workspace, spec, submitter=self.submitter), 201)


class PipelineRunHandler(AMLHandler):
    @api("user", "A pipeline run: its parent run, each step's state and run, and why each step was or was not "
         "reused", returns=pm.PipelineRunInfo, action="runs/read")
    async def get(self, workspace: str, run_id: str) -> None:
        self.reply(await asyncio.to_thread(self.app.pipelines.info, workspace, run_id))


class PipelineGraphHandler(AMLHandler):
    @api("user", "A pipeline run's graph: its steps and the edges between them (the data each edge carries, "
         "and run_after links)", returns=views.PipelineGraph, action="runs/read")
    async def get(self, workspace: str, run_id: str) -> None:
        self.reply(await asyncio.to_thread(views.graph, self.app.pipelines, workspace, run_id))


ROUTES = [
    (rf"/workspaces/{WS}/pipelines/validate", PipelineValidateHandler),
    (rf"/workspaces/{WS}/pipelines/runs", PipelineRunsHandler),
    (rf"/workspaces/{PIPELINE_RUN}", PipelineRunHandler),
    (rf"/workspaces/{PIPELINE_RUN}/graph", PipelineGraphHandler),
]
