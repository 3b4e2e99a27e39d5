"""MLflow's REST API over HTTP, mounted beside the v1 API by the server extension (so ``aml serve`` too).

Which workspace: the tracking URI names it, since that is all an unmodified MLflow client lets one choose
(it appends ``/api/2.0/mlflow/...`` to the URI and sends no header of ours):

- ``http://host:port/aml/mlflow`` is the workspace ``default`` (the SDK's and CLI's default), created on
  first use by an administrator of the service; a run's token on this URI means that run's own workspace;
- ``http://host:port/aml/mlflow/workspaces/<name>`` is the workspace ``<name>``.

Auth is the v1 API's: the client's ``MLFLOW_TRACKING_TOKEN`` arrives as ``Authorization: Bearer ...`` and is
read as any bearer token of the workspace (the service token, a user's named token, a run's token), and a
logged-in JupyterLab session works as well. Each endpoint states its action (``core/roles.py``) and whether a
run's token may call it on its own run tree. Every refusal is in MLflow's error shape, with MLflow's code.
These routes speak MLflow's protocol, not the v1 one: they are outside the v1 OpenAPI document.
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import logging
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import pydantic
from jupyter_server.auth.decorator import authorized
from tornado import web

from jupyter_aml.core.mlflow_models import LoggedModels
from jupyter_aml.core.mlflow_support import MlflowSupport
from jupyter_aml.core.service import AMLService
from jupyter_aml.errors import AMLError, Forbidden, UserError
from jupyter_aml.mlflow_api import artifacts, history, inputs, model_artifacts
from jupyter_aml.mlflow_api import convert as cv
from jupyter_aml.mlflow_api.errors import (
    BAD_REQUEST,
    ENDPOINT_NOT_FOUND,
    INTERNAL_ERROR,
    PERMISSION_DENIED,
    RESOURCE_DOES_NOT_EXIST,
    UNAUTHENTICATED,
    MlflowError,
    body,
    invalid,
    translate,
)
from jupyter_aml.mlflow_api.experiments import Experiments
from jupyter_aml.mlflow_api.logged_models import LoggedModelsApi
from jupyter_aml.mlflow_api.registry import Registry
from jupyter_aml.mlflow_api.runs import Runs
from jupyter_aml.mlflow_api.search import search_runs
from jupyter_aml.mlflow_api.traces import Traces
from jupyter_aml.server.authz import authorize
from jupyter_aml.server.base import AMLHandler
from jupyter_aml.server.spec import ApiSpec

log = logging.getLogger("jupyter_aml.mlflow")
SPOOL_IN_MEMORY = 8 << 20  # an artifact upload past this many bytes is spooled to a temporary file
DEFAULT_WORKSPACE = "default"
PREFIX = "/aml/mlflow"
PATTERN = (PREFIX + r"(?:/workspaces/(?P<workspace>[^/]+))?/(?P<api>api|ajax-api)/(?P<version>[0-9.]+)/"
           r"(?P<endpoint>.*)")


class Tracking:
    """The translation layer for one service: experiments, runs and search, built once per application."""

    def __init__(self, service: AMLService) -> None:
        self.support = MlflowSupport(service.db, service.runs, service.metrics)
        self.experiments = Experiments(service, self.support)
        self.runs = Runs(service, self.support, self.experiments)
        self.logged_models = LoggedModelsApi(LoggedModels(service.db), self.runs, self.experiments)
        self.registry = Registry(service, self.logged_models)
        self.traces = Traces(self.runs)

    def incoming(self, req: dict[str, Any]) -> dict[str, Any]:
        """The request with MLflow's form of each run id read back (mlflow_api/ids.py)."""
        return self.runs.ids.incoming(req)


@dataclass(frozen=True)
class Endpoint:
    method: str
    action: str
    scope: str  # "user": people's tokens only; "run": a run's token on its own run tree too
    call: Callable[[Tracking, str, dict[str, Any], MlflowHandler], dict[str, Any]]
    run_of: Callable[[Tracking, dict[str, Any]], str] | None = None  # scope "run": the run a request is about
    # scope "experiment-read": the experiment a run token asks for (its own is all it may read)
    experiment_of: Callable[[Tracking, str, dict[str, Any]], str] | None = None


def _exp(name: str) -> Callable[[Tracking, str, dict[str, Any], MlflowHandler], dict[str, Any]]:
    return lambda t, ws, req, h: getattr(t.experiments, name)(ws, req)


def _lm(name: str) -> Callable[[Tracking, str, dict[str, Any], MlflowHandler], dict[str, Any]]:
    return lambda t, ws, req, h: getattr(t.logged_models, name)(ws, req)


def _reg(name: str) -> Callable[[Tracking, str, dict[str, Any], MlflowHandler], dict[str, Any]]:
    return lambda t, ws, req, h: getattr(t.registry, name)(ws, req)


def _run(name: str) -> Callable[[Tracking, str, dict[str, Any], MlflowHandler], dict[str, Any]]:
    return lambda t, ws, req, h: getattr(t.runs, name)(ws, req)


def _parent_of(_t: Tracking, req: dict[str, Any]) -> str:
    """The run a new run is created under (its ``mlflow.parentRunId`` tag): a run token may create child runs
    of its own run tree only, as ``mlflow.start_run(nested=True)`` in a submitted script does."""
    tags = req.get("tags")
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, dict) and tag.get("key") == cv.PARENT_TAG:
            return str(tag.get("value") or "")
    return ""


def _experiment_named(t: Tracking, ws: str, req: dict[str, Any]) -> str:
    """The name of the experiment a get asks for by id (an unknown id: the id, which names no experiment)."""
    found = req.get("experiment_id")
    try:
        return t.experiments.resolve(ws, str(found)).name
    except UserError:
        return str(found)


ENDPOINTS: dict[str, Endpoint] = {
    "experiments/create": Endpoint("POST", "experiments/write", "user", _exp("create")),
    # a run's token may read its own experiment's record: the fluent API looks it up (MLFLOW_EXPERIMENT_NAME)
    "experiments/get": Endpoint("GET", "workspaces/read", "experiment-read", _exp("get"),
                                experiment_of=_experiment_named),
    "experiments/get-by-name": Endpoint("GET", "workspaces/read", "experiment-read", _exp("get_by_name"),
                                        experiment_of=lambda t, ws, req: str(req.get("experiment_name"))),
    "experiments/search": Endpoint("POST", "workspaces/read", "user", _exp("search")),
    "experiments/update": Endpoint("POST", "experiments/write", "user", _exp("update")),
    "experiments/delete": Endpoint("POST", "experiments/write", "user", _exp("delete")),
    "experiments/restore": Endpoint("POST", "experiments/write", "user", _exp("restore")),
    "experiments/set-experiment-tag": Endpoint("POST", "experiments/write", "user", _exp("set_tag")),
    "runs/create": Endpoint("POST", "runs/submit", "run",
                            lambda t, ws, req, h: t.runs.create(ws, req, submitter=h.submitter), run_of=_parent_of),
    "runs/get": Endpoint("GET", "runs/read", "run", _run("get")),
    "runs/update": Endpoint("POST", "runs/report", "run", _run("update")),
    "runs/delete": Endpoint("POST", "runs/write", "run", _run("delete")),
    "runs/restore": Endpoint("POST", "runs/write", "run", _run("restore")),
    "runs/log-metric": Endpoint("POST", "runs/report", "run", _run("log_metric")),
    "runs/log-batch": Endpoint("POST", "runs/report", "run", _run("log_batch")),
    "runs/log-parameter": Endpoint("POST", "runs/report", "run", _run("log_param")),
    "runs/set-tag": Endpoint("POST", "runs/report", "run", _run("set_tag")),
    "runs/delete-tag": Endpoint("POST", "runs/report", "run", _run("delete_tag")),
    "runs/log-inputs": Endpoint("POST", "runs/report", "run",
                                lambda t, ws, req, h: inputs.log_inputs(t.runs, ws, req)),
    "runs/search": Endpoint("POST", "runs/read", "user", lambda t, ws, req, h: search_runs(t.runs, ws, req)),
    "metrics/get-history": Endpoint("GET", "runs/read", "run", _run("history")),
    "metrics/get-history-bulk-interval": Endpoint("GET", "runs/read", "user",
                                                  lambda t, ws, req, h: history.bulk_interval(t.runs, ws, req)),
    # a run's token may call it too (read-only): runs:/ downloads inside a run ask it first
    "logged-models/search": Endpoint("POST", "workspaces/read", "experiment-read", _lm("search")),
    "runs/outputs": Endpoint("POST", "runs/report", "run", _lm("log_outputs")),
}
# The logged-model endpoints with the model id (and a tag key) in the path: (method, shape) -> endpoint.
def _source_run(t: Tracking, req: dict[str, Any]) -> str:
    found = req.get("source_run_id")
    if not isinstance(found, str) or not found:
        raise invalid("A logged model needs a source run on this server",
                      hint="log the model inside mlflow.start_run(), or pass run_id")
    return found


def _model_run(t: Tracking, req: dict[str, Any]) -> str:
    found = t.logged_models.store.run_of(str(req.get("model_id", "")))
    if found is None:
        raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"Logged model with ID '{req.get('model_id')}' not found")
    return found


# The logged-model endpoints with the model id (and a tag key) in the path: (method, shape) -> endpoint. A run's
# token may use them on its own run's models, so mlflow.sklearn.log_model works inside a submitted script.
MODEL_ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("POST", "logged-models"): Endpoint("POST", "runs/report", "run", _lm("create"), _source_run),
    ("GET", "logged-models/{id}"): Endpoint("GET", "runs/read", "run", _lm("get"), _model_run),
    ("DELETE", "logged-models/{id}"): Endpoint("DELETE", "runs/write", "run", _lm("delete"), _model_run),
    ("PATCH", "logged-models/{id}"): Endpoint("PATCH", "runs/report", "run", _lm("finalize"), _model_run),
    ("POST", "logged-models/{id}/params"): Endpoint("POST", "runs/report", "run", _lm("log_params"), _model_run),
    ("PATCH", "logged-models/{id}/tags"): Endpoint("PATCH", "runs/report", "run", _lm("set_tags"), _model_run),
    ("DELETE", "logged-models/{id}/tags/{key}"): Endpoint("DELETE", "runs/report", "run", _lm("delete_tag"),
                                                          _model_run),
}


def _registry_endpoints() -> dict[tuple[str, str], Endpoint]:
    """The model registry's endpoints by (method, name): one name may take several methods (aliases)."""
    table: list[tuple[str, str, str, Callable[[Tracking, str, dict[str, Any], MlflowHandler], dict[str, Any]]]] = [
        ("POST", "registered-models/create", "models/write", _reg("create")),
        ("GET", "registered-models/get", "models/read", _reg("get")),
        ("POST", "registered-models/rename", "models/write", _reg("rename")),
        ("PATCH", "registered-models/update", "models/write", _reg("update")),
        ("DELETE", "registered-models/delete", "models/delete", _reg("delete")),
        ("GET", "registered-models/search", "models/read", _reg("search")),
        ("POST", "registered-models/search", "models/read", _reg("search")),
        ("POST", "registered-models/set-tag", "models/write", _reg("set_tag")),
        ("DELETE", "registered-models/delete-tag", "models/write", _reg("delete_tag")),
        ("POST", "registered-models/get-latest-versions", "models/read", _reg("latest_versions")),
        ("GET", "registered-models/get-latest-versions", "models/read", _reg("latest_versions")),
        ("POST", "registered-models/alias", "models/write", _reg("set_alias")),
        ("DELETE", "registered-models/alias", "models/write", _reg("delete_alias")),
        ("GET", "registered-models/alias", "models/read", _reg("by_alias")),
        ("POST", "model-versions/create", "models/write",
         lambda t, ws, req, h: t.registry.create_version(ws, req, h.submitter)),
        ("GET", "model-versions/get", "models/read", _reg("get_version")),
        ("PATCH", "model-versions/update", "models/write", _reg("update_version")),
        ("DELETE", "model-versions/delete", "models/delete", _reg("delete_version")),
        ("GET", "model-versions/search", "models/read", _reg("search_versions")),
        ("POST", "model-versions/search", "models/read", _reg("search_versions")),
        ("GET", "model-versions/get-download-uri", "models/read", _reg("download_uri")),
        ("POST", "model-versions/set-tag", "models/write", _reg("set_version_tag")),
        ("DELETE", "model-versions/delete-tag", "models/write", _reg("delete_version_tag")),
        ("POST", "model-versions/transition-stage", "models/write", _reg("transition_stage")),
    ]
    return {(m, n): Endpoint(m, action, "user", call) for m, n, action, call in table}


REGISTRY_ENDPOINTS = _registry_endpoints()


def _trace(name: str) -> Callable[[Tracking, str, dict[str, Any], MlflowHandler], dict[str, Any]]:
    return lambda t, ws, req, h: getattr(t.traces, name)(ws, req)


def _trace_run(t: Tracking, req: dict[str, Any]) -> str:
    return t.traces.run_of(req)


# The trace endpoints MLflow 3.17's client calls (mlflow_api/traces.py): (method, version, shape) -> endpoint.
TRACE_ENDPOINTS: dict[tuple[str, str, str], Endpoint] = {
    ("POST", "3.0", "traces"): Endpoint("POST", "runs/report", "run", _trace("start"), _trace_run),
    ("GET", "3.0", "traces/{id}"): Endpoint("GET", "runs/read", "run", _trace("get_info"), _trace_run),
    ("POST", "3.0", "traces/search"): Endpoint("POST", "runs/read", "user", _trace("search")),
    ("POST", "3.0", "traces/batchGetInfos"): Endpoint("POST", "runs/read", "user", _trace("batch_infos")),
    ("PATCH", "2.0", "traces/{id}/tags"): Endpoint("PATCH", "runs/write", "run", _trace("set_tag"), _trace_run),
    ("DELETE", "2.0", "traces/{id}/tags"): Endpoint("DELETE", "runs/write", "run", _trace("delete_tag"),
                                                    _trace_run),
    ("POST", "2.0", "traces/delete-traces"): Endpoint("POST", "runs/write", "user", _trace("delete")),
}
_TRACE_NAMES = frozenset({"search", "batchGetInfos", "delete-traces"})


def trace_endpoint(method: str, version: str, name: str) -> tuple[Endpoint, dict[str, str]] | None:
    """The trace endpoint a path names, with the trace id of the path."""
    parts = name.split("/")
    if parts[0] != "traces" or len(parts) > 3:
        return None
    fields: dict[str, str] = {}
    if len(parts) >= 2 and parts[1] not in _TRACE_NAMES:
        fields["trace_id"] = parts[1]
        parts[1] = "{id}"
    found = TRACE_ENDPOINTS.get((method, version, "/".join(parts)))
    return (found, fields) if found is not None else None


def model_endpoint(method: str, name: str) -> tuple[Endpoint, dict[str, str]] | None:
    """The logged-model endpoint a path names, with the path's fields (``model_id``, ``tag_key``)."""
    parts = name.split("/")
    if parts[0] != "logged-models" or name == "logged-models/search" or len(parts) > 4:
        return None
    fields = {"model_id": parts[1]} if len(parts) > 1 else {}
    shape = "/".join(["logged-models", "{id}", *parts[2:3], "{key}"][:len(parts)])
    if len(parts) == 4:
        fields["tag_key"] = parts[3]
    found = MODEL_ENDPOINTS.get((method, shape))
    return (found, fields) if found is not None else None

# Jupyter's own decision (users Jupyter knows) and the marker that lets token callers in: see server.base.
_GATE = ApiSpec(scope="run", summary="MLflow REST API (outside the v1 document)", action="runs/read")


def _gated(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    async def run(self: MlflowHandler, **kwargs: Any) -> None:
        await method(self, **kwargs)

    guarded = web.authenticated(authorized(run))
    guarded.__aml_api__ = _GATE  # type: ignore[attr-defined]
    return guarded


class MlflowHandler(AMLHandler):
    """One handler for every MLflow endpoint: the endpoint table says the method, action and scope."""

    _spool: IO[bytes] | None = None

    @property
    def tracking(self) -> Tracking:
        found: Tracking | None = self.settings.get("aml_mlflow")
        if found is None:
            found = self.settings["aml_mlflow"] = Tracking(self.aml)
        return found

    @_gated
    async def get(self, **kwargs: Any) -> None:
        await self._dispatch("GET", **kwargs)

    @_gated
    async def post(self, **kwargs: Any) -> None:
        await self._dispatch("POST", **kwargs)

    @_gated
    async def put(self, **kwargs: Any) -> None:
        await self._dispatch("PUT", **kwargs)

    @_gated
    async def delete(self, **kwargs: Any) -> None:
        await self._dispatch("DELETE", **kwargs)

    @_gated
    async def patch(self, **kwargs: Any) -> None:
        await self._dispatch("PATCH", **kwargs)

    # -- artifact uploads stream to a spooled file, up to the service's upload limit -----------------------
    def body_limit(self) -> int:
        return self.aml.settings.max_upload_bytes if self.request.method == "PUT" else super().body_limit()

    def data_received(self, chunk: bytes) -> None:
        if self.request.method != "PUT":
            super().data_received(chunk)
            return
        if self._spool is None:
            self._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - on_finish closes it
        self._spool.write(chunk)

    def on_finish(self) -> None:
        if self._spool is not None:
            self._spool.close()
        super().on_finish()

    async def _authorized(self, workspace: str | None, spec: ApiSpec) -> str:
        """The request's workspace, once the caller may do ``spec.action`` there (path_kwargs say where)."""
        if workspace is None:
            workspace = self.caller.run.workspace if self.caller.run is not None else DEFAULT_WORKSPACE
        self.path_kwargs["workspace"] = workspace
        await authorize(self, spec)
        if workspace == DEFAULT_WORKSPACE and self.caller.admin:
            await asyncio.to_thread(self.aml.workspaces.get_or_create, workspace)
        self._audit = spec
        return workspace

    async def _model_artifacts(self, method: str, workspace: str | None, path: str, listing: bool) -> None:
        name, number, rel = model_artifacts.parse(path)
        if method != "GET":
            raise invalid(f"{method} of a model version's files is not supported: they never change")
        spec = ApiSpec(scope="user", summary="MLflow model version artifacts", action="models/read")
        workspace = await self._authorized(workspace, spec)
        self.audit_target = f"mlflow:model-artifacts:{name}:{number}/{rel}"
        if listing:
            self.reply(await asyncio.to_thread(model_artifacts.listing, self.aml, workspace, name, number, rel))
            return
        await self._stream(*await asyncio.to_thread(model_artifacts.open_file, self.aml, workspace, name, number,
                                                    rel))

    async def _stream(self, handle: IO[bytes], size: int) -> None:
        """Send an open file as the answer, a chunk at a time (closed at the end)."""
        with handle:
            self.set_header("Content-Type", "application/octet-stream")
            self.set_header("Content-Length", str(size))
            while chunk := await asyncio.to_thread(handle.read, artifacts.CHUNK):
                self.write(chunk)
                await self.flush()
        self.finish()

    async def _trace_artifacts(self, method: str, workspace: str | None, path: str, listing: bool) -> None:
        """A trace's spans at ``traces/<trace_id>/artifacts/traces.json`` (mlflow_api/traces.py)."""
        parts = path.strip("/").split("/", 3)
        if len(parts) < 3 or parts[2] != "artifacts" or not parts[1]:
            raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"No artifact location {path!r}: a trace's artifacts live "
                              "at traces/<trace_id>/artifacts/<path>")
        trace_id, rel = parts[1], parts[3] if len(parts) == 4 else ""
        action = {"GET": "runs/read", "PUT": "runs/report"}.get(method)
        if action is None:
            raise invalid(f"{method} of a trace's artifacts is not supported here",
                          hint="delete the trace instead (delete_traces)")
        traces = self.tracking.traces
        self.path_kwargs["run_id"] = await asyncio.to_thread(traces.run_of, {"trace_id": trace_id})
        spec = ApiSpec(scope="run", summary="MLflow trace artifacts", action=action)
        workspace = await self._authorized(workspace, spec)
        self.audit_target = f"mlflow:trace-artifacts:{trace_id}/{rel}"
        if listing:
            self.reply(await asyncio.to_thread(traces.artifacts_list, workspace, trace_id))
        elif method == "PUT":
            if self._spool is not None:
                self._spool.seek(0)
            data = self._spool.read() if self._spool is not None else self.raw_body()
            await asyncio.to_thread(traces.artifacts_put, workspace, trace_id, rel, data)
            self.reply({})
        else:
            found = await asyncio.to_thread(traces.artifacts_get, workspace, trace_id, rel)
            self.set_header("Content-Type", "application/octet-stream")
            self.finish(found)

    async def _artifacts(self, method: str, workspace: str | None, tail: str) -> None:
        listing = method == "GET" and not tail.strip("/")
        where = self.get_query_argument("path", "") if listing else tail
        if where.strip("/").startswith(model_artifacts.ROOT + "/"):
            await self._model_artifacts(method, workspace, where, listing)
            return
        if where.strip("/").startswith("traces/"):
            await self._trace_artifacts(method, workspace, where, listing)
            return
        run_id, rel = artifacts.parse(self.get_query_argument("path", "") if listing else tail)
        run_id = self.tracking.runs.ids.from_mlflow(run_id)
        action = {"GET": "files/read", "PUT": "files/write"}.get(method)
        if action is None:
            raise invalid(f"{method} of artifacts is not supported here: a run's files are kept",
                          hint="log the artifact again under another path")
        self.path_kwargs["run_id"] = run_id
        spec = ApiSpec(scope="run", summary="MLflow artifacts", action=action)
        workspace = await self._authorized(workspace, spec)
        self.audit_target = f"mlflow:artifacts:{run_id}/{rel}"
        service = self.aml
        if listing:
            self.reply(await asyncio.to_thread(artifacts.listing, service, workspace, run_id, rel))
        elif method == "PUT":
            body = self._spool if self._spool is not None else io.BytesIO(self.raw_body())
            await asyncio.to_thread(artifacts.store, service, workspace, run_id, rel, body)
            self.reply({})
        else:
            await self._stream(*await asyncio.to_thread(artifacts.open_file, service, workspace, run_id, rel))

    async def _dispatch(self, method: str, *, workspace: str | None, api: str, version: str, endpoint: str) -> None:
        if version == "2.0" and (endpoint == artifacts.ROOT or endpoint.startswith(artifacts.ROOT + "/")):
            await self._artifacts(method, workspace, endpoint[len(artifacts.ROOT):])
            return
        name = endpoint.removeprefix("mlflow/") if endpoint.startswith("mlflow/") else None
        found = ENDPOINTS.get(name) if name is not None and version == "2.0" else None
        path_fields: dict[str, str] = {}
        if found is None and name is not None and version == "2.0" and (hit := model_endpoint(method, name)):
            found, path_fields = hit
        if found is None and name is not None and version == "2.0":
            found = REGISTRY_ENDPOINTS.get((method, name))
        if found is None and name is not None and (hit := trace_endpoint(method, version, name)):
            found, path_fields = hit
        if found is None:
            raise MlflowError(ENDPOINT_NOT_FOUND, f"{method} /{api}/{version}/{endpoint} is not an endpoint this "
                              "server supports", hint="docs/mlflow.md lists the MLflow endpoints served here")
        if found.method != method and not (name == "experiments/search" and method == "GET"):
            raise MlflowError(ENDPOINT_NOT_FOUND, f"{name} takes {found.method}, not {method}")
        req = self.tracking.incoming({**self._request(method), **path_fields})
        if found.scope == "run":
            self.path_kwargs["run_id"] = (found.run_of(self.tracking, req) if found.run_of is not None
                                          else cv.run_id_of(req))
            if name == "runs/create" and self.caller.run is not None and not self.path_kwargs["run_id"]:
                raise Forbidden(f"the token of run {self.caller.run.run_id} may create child runs of its own run "
                                "only", hint="start it nested: mlflow.start_run(nested=True) inside the run")
        if found.scope == "experiment-read" and found.experiment_of is not None and self.caller.run is not None:
            self.path_kwargs["name"] = await asyncio.to_thread(found.experiment_of, self.tracking,
                                                               workspace or self.caller.run.workspace, req)
        spec = ApiSpec(scope=found.scope, summary=f"MLflow {name}", action=found.action)
        workspace = await self._authorized(workspace, spec)
        self.audit_target = f"mlflow:{name}:" + str(req.get("run_id") or req.get("experiment_id") or
                                                    req.get("name") or "")
        if name == "runs/update" and req.get("status") == "KILLED":
            await self._cancel_script_run(workspace, cv.run_id_of(req))
        answer = await asyncio.to_thread(found.call, self.tracking, workspace, req, self)
        self.reply(answer)

    async def _cancel_script_run(self, workspace: str, run_id: str) -> None:
        """KILLED on a run the workspace runs (a submitted script): stop its process tree, as v1's cancel."""
        run = await asyncio.to_thread(self.tracking.runs.run, workspace, run_id)
        if run.kind == "script" and not run.status.terminal:
            await self.scheduler.cancel(workspace, run_id)

    def _request(self, method: str) -> dict[str, Any]:
        """The request's fields: the query for GET (a repeated field is a list), the JSON body for POST."""
        if method == "GET":
            out: dict[str, Any] = {}
            for key, values in self.request.query_arguments.items():
                texts = [v.decode("utf-8", "replace") for v in values]
                out[key] = texts[0] if len(texts) == 1 else texts
            return out
        raw = self.raw_body()
        if len(raw) > self.aml.settings.max_request_bytes:
            raise invalid(f"the request body is {len(raw)} bytes; the limit is {self.aml.settings.max_request_bytes}")
        try:
            parsed = json.loads(raw or b"{}")  # NaN and Infinity as Python's json writes them: MLflow's client
        except (ValueError, UnicodeDecodeError) as exc:
            raise MlflowError(BAD_REQUEST, f"the request body is not valid JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise invalid("the request body must be a JSON object")
        return parsed

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, AMLError):
            error = translate(exc)
        elif isinstance(exc, pydantic.ValidationError):
            error = invalid("invalid request: " + "; ".join(e["msg"] for e in exc.errors()[:5]))
        elif isinstance(exc, web.HTTPError) and exc.status_code < 500:
            code = {401: UNAUTHENTICATED, 403: PERMISSION_DENIED, 404: ENDPOINT_NOT_FOUND}.get(exc.status_code,
                                                                                               BAD_REQUEST)
            error = MlflowError(code, exc.log_message or self._reason or code)
        else:
            error_id = secrets.token_hex(4)
            log.error("unhandled error %s in %s %s", error_id, self.request.method, self.request.path, exc_info=exc)
            error = MlflowError(INTERNAL_ERROR, f"internal error (id {error_id}); see the server log")
        self.clear()
        self.set_status(error.status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body(error)))


ROUTES: list[tuple[str, type]] = [(PATTERN, MlflowHandler)]

__all__ = ["DEFAULT_WORKSPACE", "PATTERN", "ROUTES", "MlflowHandler", "Tracking"]
