"""``PublishedPipeline`` and ``PipelineEndpoint`` with v1's names (``azureml.pipeline.core``).

``pipeline.publish(name)`` sends the pipeline's submit body (each step's snapshot uploaded first, as a
submit does); the service checks it as a submit and keeps an immutable copy, runnable by id: from here
(``published.submit(ws, experiment)``), over REST at ``published.endpoint`` with v1's body and a bearer
token, or by a schedule (sdk/schedule.py). A ``PipelineEndpoint`` is a stable URL over versions of
published pipelines, one the default (docs/pipelines.md#pipeline-endpoints).
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from jupyter_aml.errors import InvalidInput
from jupyter_aml.runtime import api_types as T

if TYPE_CHECKING:
    from jupyter_aml.sdk.pipeline import Pipeline, PipelineRun
    from jupyter_aml.sdk.workspace import Workspace

__all__ = ["PipelineEndpoint", "PipelineIdVersion", "PublishedPipeline"]


def _base(ws: Workspace) -> str:
    """The API root this workspace is reached at: a REST URL is it plus the path the service gives."""
    return str(ws._api.http.base_url)


def _run(ws: Workspace, answer: T.PipelineSubmitted) -> PipelineRun:
    from jupyter_aml.sdk.experiment import Experiment
    from jupyter_aml.sdk.pipeline import PipelineRun

    return PipelineRun(Experiment(ws, answer["ExperimentName"]), answer["Id"])


def _submit_body(experiment_name: str, pipeline_parameters: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"ExperimentName": experiment_name, "ParameterAssignments": dict(pipeline_parameters or {})}
    return {**body, **{k: v for k, v in extra.items() if v is not None}}


class PublishedPipeline:
    """A pipeline kept as it was published; only its status changes (``disable()`` / ``enable()``)."""

    def __init__(self, workspace: Workspace, details: T.PublishedPipeline) -> None:
        self._workspace = workspace
        self._details = details

    # v1's attributes
    @property
    def id(self) -> str:
        return self._details["id"]

    @property
    def name(self) -> str:
        return self._details["name"]

    @property
    def description(self) -> str:
        return self._details["description"]

    @property
    def version(self) -> str:
        return self._details["version"]

    @property
    def status(self) -> str:
        return self._details["status"]

    @property
    def graph_id(self) -> str:
        return self._details["graph_id"]

    @property
    def total_run_steps(self) -> int:
        return self._details["total_run_steps"]

    @property
    def continue_on_step_failure(self) -> bool:
        return self._details["continue_on_step_failure"]

    @property
    def endpoint(self) -> str:
        """The REST URL: POST ``{"ExperimentName": ..., "ParameterAssignments": {...}}`` with a bearer token."""
        return _base(self._workspace) + self._details["endpoint_path"]

    @property
    def parameters(self) -> dict[str, Any]:
        """Each pipeline parameter and its default (not in v1: what a REST caller may assign)."""
        return {p["name"]: p["default_value"] for p in self._details["parameters"]}

    @staticmethod
    def _publish(workspace: Workspace, body: dict[str, Any]) -> PublishedPipeline:
        made = workspace._api.publish_pipeline(workspace.name, cast(T.PublishedPipelineCreate, body))
        return PublishedPipeline(workspace, made)

    @staticmethod
    def get(workspace: Workspace, id: str, _workflow_provenance: Any = None, _service_endpoint: Any = None,
            _published_pipeline_provider: Any = None) -> PublishedPipeline:
        return PublishedPipeline(workspace, workspace._api.get_published_pipeline(workspace.name, id))

    @staticmethod
    def list(workspace: Workspace, active_only: bool = True,
             _service_endpoint: Any = None) -> builtins.list[PublishedPipeline]:
        found = workspace._api.list_published_pipelines(workspace.name, include_disabled=not active_only)
        return [PublishedPipeline(workspace, p) for p in found["items"]]

    def _status(self, status: str) -> None:
        self._details = self._workspace._api.update_published_pipeline(
            self._workspace.name, self.id, cast(T.PublishedPipelineUpdate, {"status": status}))

    def disable(self) -> None:
        """It keeps its id and URL; submitting it is refused (409) until ``enable()``."""
        self._status("Disabled")

    def enable(self) -> None:
        self._status("Active")

    def submit(self, workspace: Workspace, experiment_name: str, pipeline_parameters: dict[str, Any] | None = None,
               _workflow_provenance: Any = None, _service_endpoint: Any = None, parent_run_id: str | None = None,
               continue_on_step_failure: bool | None = None) -> PipelineRun:
        """Run it as a run of ``experiment_name`` (the REST invoke's body, sent by the SDK)."""
        if parent_run_id is not None:
            raise InvalidInput("parent_run_id is not supported: a pipeline run is a top-level run here")
        if continue_on_step_failure is not None:
            raise InvalidInput("continue_on_step_failure is fixed when publishing here",
                               hint="pipeline.publish(name, continue_on_step_failure=True)")
        answer = workspace._api.submit_published_pipeline(
            workspace.name, self.id, cast(T.PipelineSubmitRequest, _submit_body(experiment_name, pipeline_parameters)))
        return _run(workspace, answer)

    def get_details(self) -> dict[str, Any]:
        """The service's record (not in v1): what the CLI and a notebook print."""
        return {**dict(self._details), "endpoint": self.endpoint}

    def __repr__(self) -> str:
        return f"PublishedPipeline(name={self.name!r}, id={self.id!r}, status={self.status!r})"


class PipelineIdVersion(NamedTuple):
    """v1's pair of a pipeline endpoint's version and the published pipeline it runs."""

    pipeline_id: str
    version: str


def _published_id(workspace: Workspace, pipeline: Any) -> str:
    """A PublishedPipeline's id; a Pipeline is published first (as v1's PipelineEndpoint.publish does)."""
    from jupyter_aml.sdk.pipeline import Pipeline

    if isinstance(pipeline, PublishedPipeline):
        return pipeline.id
    if isinstance(pipeline, Pipeline):
        return pipeline.publish(name=f"{pipeline.description or 'pipeline'}"[:255]).id
    raise InvalidInput(f"pipeline must be a Pipeline or a PublishedPipeline, not {type(pipeline).__name__}")


class PipelineEndpoint:
    """A stable REST URL over numbered versions ("0", "1", ...) of published pipelines, one the default."""

    def __init__(self, workspace: Workspace, details: T.PipelineEndpoint) -> None:
        self._workspace = workspace
        self._details = details

    @property
    def id(self) -> str:
        return self._details["id"]

    @property
    def name(self) -> str:
        return self._details["name"]

    @property
    def description(self) -> str:
        return self._details["description"]

    @property
    def status(self) -> str:
        return self._details["status"]

    @property
    def default_version(self) -> str:
        return self._details["default_version"]

    @property
    def endpoint(self) -> str:
        """POST ``{"ExperimentName": ..., "ParameterAssignments": {...}, "PipelineVersion": "1"}`` (the version
        optional: the default otherwise) with a bearer token."""
        return _base(self._workspace) + self._details["endpoint_path"]

    @property
    def pipeline_version_list(self) -> builtins.list[PipelineIdVersion]:
        return [PipelineIdVersion(v["pipeline_id"], v["version"]) for v in self._details["versions"]]

    @staticmethod
    def publish(workspace: Workspace, name: str, description: str, pipeline: Pipeline | PublishedPipeline,
                _pipeline_endpoint_provider: Any = None, _published_pipeline_provider: Any = None,
                _swaggerurl: Any = None) -> PipelineEndpoint:
        """A new endpoint whose version "0", the default, is ``pipeline`` (a Pipeline is published first)."""
        body = {"name": name, "description": description or "", "pipeline_id": _published_id(workspace, pipeline)}
        made = workspace._api.create_pipeline_endpoint(workspace.name, cast(T.PipelineEndpointCreate, body))
        return PipelineEndpoint(workspace, made)

    @staticmethod
    def get(workspace: Workspace, id: str | None = None, name: str | None = None,
            _workflow_provenance: Any = None, _service_endpoint: Any = None,
            _pipeline_endpoint_provider: Any = None, _published_pipeline_provider: Any = None) -> PipelineEndpoint:
        if (id is None) == (name is None):
            raise InvalidInput("PipelineEndpoint.get takes id= or name= (one of them)")
        return PipelineEndpoint(workspace, workspace._api.get_pipeline_endpoint(workspace.name, str(id or name)))

    @staticmethod
    def list(workspace: Workspace, active_only: bool = True, _workflow_provenance: Any = None,
             _service_endpoint: Any = None, _pipeline_endpoint_provider: Any = None) -> builtins.list[PipelineEndpoint]:
        found = workspace._api.list_pipeline_endpoints(workspace.name, include_disabled=not active_only)
        return [PipelineEndpoint(workspace, e) for e in found["items"]]

    def _add(self, pipeline: Any, set_default: bool) -> None:
        self._details = self._workspace._api.add_pipeline_endpoint_version(self._workspace.name, self.id, {
            "pipeline_id": _published_id(self._workspace, pipeline), "set_default": set_default})

    def add(self, pipeline: Pipeline | PublishedPipeline) -> None:
        """Add a version (the default stays)."""
        self._add(pipeline, False)

    def add_default(self, pipeline: Pipeline | PublishedPipeline) -> None:
        """Add a version and make it the default."""
        self._add(pipeline, True)

    def set_default(self, pipeline: PublishedPipeline) -> None:
        self._add(pipeline, True)

    def _update(self, **body: Any) -> None:
        self._details = self._workspace._api.update_pipeline_endpoint(
            self._workspace.name, self.id, cast(T.PipelineEndpointUpdate, body))

    def set_default_version(self, version: str | int) -> None:
        self._update(default_version=str(version))

    def get_default_version(self) -> str:
        return self.default_version

    def set_name(self, name: str) -> None:
        raise InvalidInput("renaming a pipeline endpoint is not supported here: its name is part of its REST path",
                           hint="publish a new endpoint with the new name")

    def get_pipeline(self, version: str | int | None = None) -> PublishedPipeline:
        wanted = self.default_version if version is None else str(version)
        for v in self._details["versions"]:
            if v["version"] == wanted:
                return PublishedPipeline.get(self._workspace, v["pipeline_id"])
        raise InvalidInput(f"pipeline endpoint {self.name!r} has no version {wanted!r}",
                           hint="its versions: " + ", ".join(v["version"] for v in self._details["versions"]))

    def list_pipelines(self, active_only: bool = True) -> builtins.list[PublishedPipeline]:
        found = [PublishedPipeline.get(self._workspace, v["pipeline_id"]) for v in self._details["versions"]]
        return [p for p in found if p.status == "Active" or not active_only]

    def list_versions(self) -> builtins.list[PipelineIdVersion]:
        return self.pipeline_version_list

    def submit(self, experiment_name: str, pipeline_parameters: dict[str, Any] | None = None,
               parent_run_id: str | None = None, pipeline_version: str | int | None = None) -> PipelineRun:
        """Run the default version (or ``pipeline_version``) as a run of ``experiment_name``."""
        if parent_run_id is not None:
            raise InvalidInput("parent_run_id is not supported: a pipeline run is a top-level run here")
        body = _submit_body(experiment_name, pipeline_parameters,
                            PipelineVersion=None if pipeline_version is None else str(pipeline_version))
        answer = self._workspace._api.submit_pipeline_endpoint(self._workspace.name, self.id,
                                                               cast(T.PipelineSubmitRequest, body))
        return _run(self._workspace, answer)

    def disable(self) -> None:
        self._update(status="Disabled")

    def enable(self) -> None:
        self._update(status="Active")

    def archive(self) -> None:
        self._update(status="Archived")

    def reactivate(self, name: str | None = None) -> None:
        if name is not None and name != self.name:
            raise InvalidInput("renaming a pipeline endpoint is not supported here")
        self._update(status="Active")

    def get_details(self) -> dict[str, Any]:
        """The service's record (not in v1), versions included."""
        return {**dict(self._details), "endpoint": self.endpoint}

    def __repr__(self) -> str:
        return f"PipelineEndpoint(name={self.name!r}, id={self.id!r}, default_version={self.default_version!r})"


def publish_pipeline(workspace: Workspace, body: dict[str, Any]) -> PublishedPipeline:
    """What ``Pipeline.publish`` and ``PipelineRun.publish_pipeline`` (sdk/pipeline.py) call."""
    return PublishedPipeline._publish(workspace, body)
