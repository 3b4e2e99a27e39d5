"""The client's calls for pipeline runs, published pipelines, pipeline endpoints and schedules.

Part of the one client (api.Api inherits it): core/pipelines.py, core/pipeline_views.py, core/pipeline_publish.py
and core/schedules.py answer these routes.
"""

from __future__ import annotations

from typing import cast

from jupyter_aml.runtime import api_types as T
from jupyter_aml.runtime.api_transport import Transport
from jupyter_aml.runtime.api_transport import query as _query


class PipelineCalls(Transport):
    # -- pipelines (core/pipelines.py) ----------------------------------------------------------------------
    def validate_pipeline(self, ws: str, body: T.PipelineRunCreate) -> T.PipelineValidation:
        return cast(T.PipelineValidation, self._post("/workspaces/{workspace}/pipelines/validate", body,
                                                     workspace=ws))

    def submit_pipeline(self, ws: str, body: T.PipelineRunCreate) -> T.PipelineRunInfo:
        return cast(T.PipelineRunInfo, self._post("/workspaces/{workspace}/pipelines/runs", body, workspace=ws))

    def list_pipeline_runs(self, ws: str, *, experiment: str | None = None, status: str | None = None,
                           page_size: int | None = None, page_token: str | None = None) -> T.PipelineRunPage:
        return cast(T.PipelineRunPage, self._get("/workspaces/{workspace}/pipelines/runs", _query(
            experiment=experiment, status=status, page_size=page_size, page_token=page_token), workspace=ws))

    def pipeline_run_graph(self, ws: str, run_id: str) -> T.PipelineGraph:
        return cast(T.PipelineGraph, self._get("/workspaces/{workspace}/pipelines/runs/{run_id}/graph",
                                               workspace=ws, run_id=run_id))

    def get_pipeline_run(self, ws: str, run_id: str) -> T.PipelineRunInfo:
        return cast(T.PipelineRunInfo, self._get("/workspaces/{workspace}/pipelines/runs/{run_id}",
                                                 workspace=ws, run_id=run_id))

    # -- published pipelines, pipeline endpoints, schedules (core/pipeline_publish.py, core/schedules.py) ----
    def list_published_pipelines(self, ws: str, include_disabled: bool = False) -> T.PublishedPipelineList:
        return cast(T.PublishedPipelineList, self._get("/workspaces/{workspace}/pipelines/published",
                                                       _query(include_disabled="true" if include_disabled else None),
                                                       workspace=ws))

    def publish_pipeline(self, ws: str, body: T.PublishedPipelineCreate) -> T.PublishedPipeline:
        return cast(T.PublishedPipeline, self._post("/workspaces/{workspace}/pipelines/published", body,
                                                    workspace=ws))

    def get_published_pipeline(self, ws: str, pipeline_id: str) -> T.PublishedPipeline:
        return cast(T.PublishedPipeline, self._get("/workspaces/{workspace}/pipelines/published/{pipeline_id}",
                                                   workspace=ws, pipeline_id=pipeline_id))

    def update_published_pipeline(self, ws: str, pipeline_id: str,
                                  body: T.PublishedPipelineUpdate) -> T.PublishedPipeline:
        return cast(T.PublishedPipeline, self._patch("/workspaces/{workspace}/pipelines/published/{pipeline_id}",
                                                     body, workspace=ws, pipeline_id=pipeline_id))

    def submit_published_pipeline(self, ws: str, pipeline_id: str,
                                  body: T.PipelineSubmitRequest) -> T.PipelineSubmitted:
        return cast(T.PipelineSubmitted, self._post("/workspaces/{workspace}/PipelineRuns/PipelineSubmit/{pipeline_id}",
                                                    body, workspace=ws, pipeline_id=pipeline_id))

    def list_pipeline_endpoints(self, ws: str, include_disabled: bool = False) -> T.PipelineEndpointList:
        return cast(T.PipelineEndpointList, self._get("/workspaces/{workspace}/pipelines/endpoints",
                                                      _query(include_disabled="true" if include_disabled else None),
                                                      workspace=ws))

    def create_pipeline_endpoint(self, ws: str, body: T.PipelineEndpointCreate) -> T.PipelineEndpoint:
        return cast(T.PipelineEndpoint, self._post("/workspaces/{workspace}/pipelines/endpoints", body, workspace=ws))

    def get_pipeline_endpoint(self, ws: str, endpoint: str) -> T.PipelineEndpoint:
        return cast(T.PipelineEndpoint, self._get("/workspaces/{workspace}/pipelines/endpoints/{endpoint}",
                                                  workspace=ws, endpoint=endpoint))

    def update_pipeline_endpoint(self, ws: str, endpoint: str, body: T.PipelineEndpointUpdate) -> T.PipelineEndpoint:
        return cast(T.PipelineEndpoint, self._patch("/workspaces/{workspace}/pipelines/endpoints/{endpoint}", body,
                                                    workspace=ws, endpoint=endpoint))

    def add_pipeline_endpoint_version(self, ws: str, endpoint: str, body: T.PipelineEndpointAdd) -> T.PipelineEndpoint:
        return cast(T.PipelineEndpoint, self._post("/workspaces/{workspace}/pipelines/endpoints/{endpoint}/versions",
                                                   body, workspace=ws, endpoint=endpoint))

    def submit_pipeline_endpoint(self, ws: str, endpoint_id: str, body: T.PipelineSubmitRequest) -> T.PipelineSubmitted:
        return cast(T.PipelineSubmitted, self._post(
            "/workspaces/{workspace}/PipelineRuns/PipelineEndpointSubmit/Id/{endpoint_id}", body, workspace=ws,
            endpoint_id=endpoint_id))

    def list_schedules(self, ws: str, *, include_disabled: bool = False, pipeline_id: str | None = None,
                       pipeline_endpoint_id: str | None = None) -> T.ScheduleList:
        return cast(T.ScheduleList, self._get("/workspaces/{workspace}/pipelines/schedules", _query(
            include_disabled="true" if include_disabled else None, pipeline_id=pipeline_id,
            pipeline_endpoint_id=pipeline_endpoint_id), workspace=ws))

    def create_schedule(self, ws: str, body: T.ScheduleCreate) -> T.Schedule:
        return cast(T.Schedule, self._post("/workspaces/{workspace}/pipelines/schedules", body, workspace=ws))

    def get_schedule(self, ws: str, schedule_id: str) -> T.Schedule:
        return cast(T.Schedule, self._get("/workspaces/{workspace}/pipelines/schedules/{schedule_id}",
                                          workspace=ws, schedule_id=schedule_id))

    def update_schedule(self, ws: str, schedule_id: str, body: T.ScheduleUpdate) -> T.Schedule:
        return cast(T.Schedule, self._patch("/workspaces/{workspace}/pipelines/schedules/{schedule_id}", body,
                                            workspace=ws, schedule_id=schedule_id))

    def schedule_fires(self, ws: str, schedule_id: str) -> T.ScheduleFireList:
        return cast(T.ScheduleFireList, self._get("/workspaces/{workspace}/pipelines/schedules/{schedule_id}/runs",
                                                  workspace=ws, schedule_id=schedule_id))
