"""Published pipelines and pipeline endpoints (v1's ``PublishedPipeline`` and ``PipelineEndpoint``).

Publishing stores an immutable copy of a pipeline's graph: the submit body the SDK builds (steps with their
snapshot ids, data links, parameters with their defaults), checked first exactly as a submit is
(``PipelineService.check``), so a pipeline that could not run is never published. Snapshots are
content-addressed and kept, so the copy runs the code as it was when published, whatever happens to the
notebook's folder later. Submitting a published pipeline, by the SDK, by its REST URL (v1's body, as Azure
Data Factory sends it) or by a schedule, is ``PipelineService.submit`` of that copy with the experiment and
parameter assignments of the call. Only the status changes (Active / Disabled); a disabled pipeline keeps its
id and URL and answers 409.

A pipeline endpoint is a named, stable URL over numbered versions ("0", "1", ...) of published pipelines,
one of them the default; its REST invoke runs the default unless ``PipelineVersion`` names another.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jupyter_aml.core import models
from jupyter_aml.core import pipeline_publish_models as pp
from jupyter_aml.core import pipelines_models as pm
from jupyter_aml.core.workspaces import WorkspaceService, as_utc, utcnow
from jupyter_aml.errors import Conflict, InvalidInput, NotFound
from jupyter_aml.store.tables_pipeline_publish import (
    PipelineEndpointRow,
    PipelineEndpointVersionRow,
    PublishedPipelineRow,
)

if TYPE_CHECKING:
    from jupyter_aml.core.pipelines import PipelineService
    from jupyter_aml.core.service import AMLService

PIPELINE_ID = "azureml.pipelineid"  # v1's property of a run started from a published pipeline
ENDPOINT_ID = "azureml.pipelineendpointid"
ENDPOINT_VERSION = "azureml.pipelineendpointversion"
SCHEDULE_ID = "azureml.pipeline.scheduleid"
_PUBLISHED_EXPERIMENT = "published-pipeline"  # the stored graph's experiment: each submit names its own


def published_path(workspace: str, pipeline_id: str) -> str:
    """The REST URL of a published pipeline, relative to the API root: v1's shape, stable for its life."""
    return f"/workspaces/{workspace}/PipelineRuns/PipelineSubmit/{pipeline_id}"


def endpoint_path(workspace: str, endpoint_id: str) -> str:
    return f"/workspaces/{workspace}/PipelineRuns/PipelineEndpointSubmit/Id/{endpoint_id}"


def graph_id(graph: dict[str, Any]) -> str:
    """The identity of a pipeline's graph: the same steps, snapshots, links and parameters hash the same."""
    kept = {k: v for k, v in graph.items() if k not in ("experiment", "parameter_assignments", "display_name",
                                                          "tags", "description")}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class PublishService:
    """Published pipelines and pipeline endpoints of every workspace."""

    def __init__(self, service: AMLService, pipelines: PipelineService) -> None:
        self.service = service
        self.pipelines = pipelines

    @property
    def db(self) -> Any:
        return self.service.db

    # -- published pipelines ---------------------------------------------------------------------------
    def publish(self, workspace: str, body: pp.PublishedPipelineCreate, *, creator: str) -> pp.PublishedPipeline:
        """Check the pipeline as a submit would, then store its copy (blocking: store reads and writes)."""
        if (body.spec is None) == (body.run_id is None):
            raise InvalidInput("give exactly one of spec (a pipeline) and run_id (a pipeline run)",
                               hint="pipeline.publish(name) or pipeline_run.publish_pipeline(name)")
        source_run = None
        if body.spec is not None:
            spec = body.spec
        else:
            assert body.run_id is not None
            spec, _ = self.pipelines.graph(workspace, body.run_id)
            source_run = self.service.runs.get(workspace, body.run_id).id
        continue_on = spec.continue_on_step_failure if body.continue_on_step_failure is None \
            else body.continue_on_step_failure
        spec = spec.model_copy(update={"experiment": _PUBLISHED_EXPERIMENT, "parameter_assignments": {},
                                       "regenerate_outputs": False, "display_name": "", "tags": {},
                                       "continue_on_step_failure": continue_on})
        self.pipelines.check(workspace, spec)
        graph = spec.model_dump(mode="json")
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            row = PublishedPipelineRow(
                id=str(uuid.uuid4()), workspace_id=ws.id, name=body.name, description=body.description,
                version=body.version or "", status=pp.ACTIVE, graph=graph, graph_id=graph_id(graph),
                continue_on_step_failure=continue_on, source_run_id=source_run, created_at=utcnow(),
                created_by=creator)
            s.add(row)
            s.flush()
            return _published(workspace, row)

    def list_published(self, workspace: str, *, active_only: bool = True) -> pp.PublishedPipelineList:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            query = select(PublishedPipelineRow).where(PublishedPipelineRow.workspace_id == ws.id)
            if active_only:
                query = query.where(PublishedPipelineRow.status == pp.ACTIVE)
            rows = s.scalars(query.order_by(PublishedPipelineRow.created_at.desc(), PublishedPipelineRow.id))
            return pp.PublishedPipelineList(items=[_published(workspace, r) for r in rows])

    def get_published(self, workspace: str, pipeline_id: str) -> pp.PublishedPipeline:
        with self.db.read() as s:
            return _published(workspace, self._published_row(s, workspace, pipeline_id))

    def set_published_status(self, workspace: str, pipeline_id: str, status: str) -> pp.PublishedPipeline:
        with self.db.session() as s:
            row = self._published_row(s, workspace, pipeline_id)
            row.status = status
            s.flush()
            return _published(workspace, row)

    @staticmethod
    def _published_row(s: Session, workspace: str, pipeline_id: str) -> PublishedPipelineRow:
        ws = WorkspaceService.row(s, workspace)
        row = s.get(PublishedPipelineRow, pipeline_id)
        if row is None or row.workspace_id != ws.id:
            raise NotFound(f"no published pipeline {pipeline_id!r} in workspace {workspace!r}",
                           hint="PublishedPipeline.list(ws, active_only=False) or `aml pipeline list --all`")
        return row

    def run_spec(self, workspace: str, pipeline_id: str, request: pp.PipelineSubmitRequest,
                 continue_on_step_failure: bool | None = None) -> pm.PipelineRunCreate:
        """The submit body of one run of a published pipeline; a disabled one is refused (409).
        ``continue_on_step_failure`` (a schedule's, v1's submit argument) overrides the published one."""
        with self.db.read() as s:
            row = self._published_row(s, workspace, pipeline_id)
            if row.status != pp.ACTIVE:
                raise Conflict(f"published pipeline {pipeline_id!r} ({row.name}) is {row.status}: it does not run",
                               hint="enable it first: PublishedPipeline.get(ws, id).enable() or "
                                    f"`aml pipeline enable {pipeline_id}`")
            stored = pm.PipelineRunCreate.model_validate(row.graph)
        return stored.model_copy(update={
            "experiment": request.ExperimentName, "parameter_assignments": dict(request.ParameterAssignments),
            "continue_on_step_failure": stored.continue_on_step_failure if continue_on_step_failure is None
            else continue_on_step_failure,
            "display_name": request.DisplayName,
            "description": stored.description if request.Description is None else request.Description,
            "tags": {**stored.tags, **request.Tags}})

    async def submit_published(self, workspace: str, pipeline_id: str, request: pp.PipelineSubmitRequest, *,
                               submitter: str, extra: dict[str, str] | None = None,
                               continue_on_step_failure: bool | None = None) -> pp.PipelineSubmitted:
        """Start a run of a published pipeline (``PipelineService.submit``: checked, then driven)."""
        spec = await asyncio.to_thread(self.run_spec, workspace, pipeline_id, request, continue_on_step_failure)
        info = await self.pipelines.submit(workspace, spec, submitter=submitter)
        properties = {PIPELINE_ID: pipeline_id, **(extra or {})}
        await asyncio.to_thread(self.service.runs.update, workspace, info.run.id,
                                models.RunUpdate(properties=properties))
        return pp.PipelineSubmitted(
            Id=info.run.id, Status=info.run.status.value, ExperimentName=info.run.experiment, PipelineId=pipeline_id,
            PipelineEndpointId=properties.get(ENDPOINT_ID), PipelineVersion=properties.get(ENDPOINT_VERSION),
            ScheduleId=properties.get(SCHEDULE_ID))

    # -- pipeline endpoints ----------------------------------------------------------------------------
    def create_endpoint(self, workspace: str, body: pp.PipelineEndpointCreate, *,
                        creator: str) -> pp.PipelineEndpoint:
        now = utcnow()
        try:
            with self.db.session() as s:
                ws = WorkspaceService.row(s, workspace)
                self._published_row(s, workspace, body.pipeline_id)
                row = PipelineEndpointRow(id=str(uuid.uuid4()), workspace_id=ws.id, name=body.name,
                                          description=body.description, status=pp.ACTIVE, default_version="0",
                                          version_count=1, created_at=now, updated_at=now, created_by=creator)
                s.add(row)
                s.flush()
                s.add(PipelineEndpointVersionRow(endpoint_id=row.id, version="0", pipeline_id=body.pipeline_id,
                                                 added_at=now))
                s.flush()
                return self._endpoint(s, workspace, row)
        except IntegrityError:
            raise Conflict(f"pipeline endpoint {body.name!r} already exists in workspace {workspace!r}",
                           hint="add a version to it: PipelineEndpoint.get(ws, name=...).add_default(pipeline)") \
                from None

    def list_endpoints(self, workspace: str, *, active_only: bool = True) -> pp.PipelineEndpointList:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            query = select(PipelineEndpointRow).where(PipelineEndpointRow.workspace_id == ws.id)
            if active_only:
                query = query.where(PipelineEndpointRow.status == pp.ACTIVE)
            rows = list(s.scalars(query.order_by(PipelineEndpointRow.name)))
            return pp.PipelineEndpointList(items=[self._endpoint(s, workspace, r) for r in rows])

    def get_endpoint(self, workspace: str, key: str) -> pp.PipelineEndpoint:
        with self.db.read() as s:
            return self._endpoint(s, workspace, self._endpoint_row(s, workspace, key))

    def add_version(self, workspace: str, key: str, body: pp.PipelineEndpointAdd) -> pp.PipelineEndpoint:
        with self.db.session() as s:
            row = self._endpoint_row(s, workspace, key)
            self._published_row(s, workspace, body.pipeline_id)
            existing = s.scalar(select(PipelineEndpointVersionRow).where(
                PipelineEndpointVersionRow.endpoint_id == row.id,
                PipelineEndpointVersionRow.pipeline_id == body.pipeline_id))
            if existing is not None:
                version = existing.version
            else:
                version = str(row.version_count)
                row.version_count += 1
                s.add(PipelineEndpointVersionRow(endpoint_id=row.id, version=version, pipeline_id=body.pipeline_id,
                                                 added_at=utcnow()))
            if body.set_default:
                row.default_version = version
            row.updated_at = utcnow()
            s.flush()
            return self._endpoint(s, workspace, row)

    def update_endpoint(self, workspace: str, key: str, body: pp.PipelineEndpointUpdate) -> pp.PipelineEndpoint:
        with self.db.session() as s:
            row = self._endpoint_row(s, workspace, key)
            if body.default_version is not None:
                self._version_row(s, row, body.default_version)
                row.default_version = body.default_version
            if body.status is not None:
                row.status = body.status
            if body.description is not None:
                row.description = body.description
            row.updated_at = utcnow()
            s.flush()
            return self._endpoint(s, workspace, row)

    def endpoint_pipeline(self, workspace: str, key: str, version: str | None) -> tuple[str, str, str]:
        """(endpoint id, version, published pipeline id) a submit of the endpoint runs; an endpoint that is
        not Active is refused (409)."""
        with self.db.read() as s:
            row = self._endpoint_row(s, workspace, key)
            if row.status != pp.ACTIVE:
                raise Conflict(f"pipeline endpoint {row.name!r} is {row.status}: it does not run",
                               hint=f"enable it first: PipelineEndpoint.get(ws, name={row.name!r}).enable()")
            chosen = self._version_row(s, row, version or row.default_version)
            return row.id, chosen.version, chosen.pipeline_id

    async def submit_endpoint(self, workspace: str, key: str, request: pp.PipelineSubmitRequest, *,
                              submitter: str, extra: dict[str, str] | None = None,
                              continue_on_step_failure: bool | None = None) -> pp.PipelineSubmitted:
        endpoint_id, version, pipeline_id = await asyncio.to_thread(
            self.endpoint_pipeline, workspace, key, request.PipelineVersion)
        return await self.submit_published(
            workspace, pipeline_id, request.model_copy(update={"PipelineVersion": None}), submitter=submitter,
            extra={ENDPOINT_ID: endpoint_id, ENDPOINT_VERSION: version, **(extra or {})},
            continue_on_step_failure=continue_on_step_failure)

    @staticmethod
    def _endpoint_row(s: Session, workspace: str, key: str) -> PipelineEndpointRow:
        """By id, else by name (v1's ``PipelineEndpoint.get(ws, id=...)`` or ``name=...``)."""
        ws = WorkspaceService.row(s, workspace)
        row = s.get(PipelineEndpointRow, key)
        if row is None or row.workspace_id != ws.id:
            row = s.scalar(select(PipelineEndpointRow).where(PipelineEndpointRow.workspace_id == ws.id,
                                                             PipelineEndpointRow.name == key))
        if row is None:
            raise NotFound(f"no pipeline endpoint {key!r} (id or name) in workspace {workspace!r}",
                           hint="PipelineEndpoint.list(ws) or `aml pipeline-endpoint list`")
        return row

    @staticmethod
    def _version_row(s: Session, row: PipelineEndpointRow, version: str) -> PipelineEndpointVersionRow:
        found = s.get(PipelineEndpointVersionRow, (row.id, version))
        if found is None:
            known = sorted(s.scalars(select(PipelineEndpointVersionRow.version).where(
                PipelineEndpointVersionRow.endpoint_id == row.id)), key=_version_order)
            raise NotFound(f"pipeline endpoint {row.name!r} has no version {version!r}",
                           hint="its versions: " + ", ".join(known))
        return found

    def _endpoint(self, s: Session, workspace: str, row: PipelineEndpointRow) -> pp.PipelineEndpoint:
        pairs = s.execute(select(PipelineEndpointVersionRow, PublishedPipelineRow)
                          .join(PublishedPipelineRow, PublishedPipelineRow.id == PipelineEndpointVersionRow.pipeline_id)
                          .where(PipelineEndpointVersionRow.endpoint_id == row.id)).all()
        versions = sorted((pp.PipelineEndpointVersion(
            version=v.version, pipeline_id=v.pipeline_id, pipeline_name=p.name, pipeline_status=p.status,
            is_default=v.version == row.default_version, added_at=as_utc(v.added_at) or v.added_at)
            for v, p in pairs), key=lambda v: _version_order(v.version))
        path = endpoint_path(workspace, row.id)
        return pp.PipelineEndpoint(
            id=row.id, name=row.name, description=row.description, status=row.status,
            default_version=row.default_version, endpoint=path, endpoint_path=path, versions=versions,
            created_at=as_utc(row.created_at) or row.created_at, updated_at=as_utc(row.updated_at) or row.updated_at,
            created_by=row.created_by)


def _version_order(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (1 << 30, version)


def _published(workspace: str, row: PublishedPipelineRow) -> pp.PublishedPipeline:
    spec = row.graph
    path = published_path(workspace, row.id)
    return pp.PublishedPipeline(
        id=row.id, name=row.name, description=row.description, version=row.version, status=row.status,
        endpoint=path, endpoint_path=path, graph_id=row.graph_id, total_run_steps=len(spec.get("steps") or []),
        continue_on_step_failure=row.continue_on_step_failure,
        parameters=[pm.PipelineParameterSpec.model_validate(p) for p in spec.get("parameters") or []],
        steps=[str(step.get("name")) for step in spec.get("steps") or []], source_run_id=row.source_run_id,
        created_at=as_utc(row.created_at) or row.created_at, created_by=row.created_by)
