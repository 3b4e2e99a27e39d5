"""MLflow runs on the workspace's runs: create (``mlflow.parentRunId`` makes a child run), get, update,
delete, restore, log-metric, log-batch, log-parameter, set-tag, delete-tag and metrics/get-history.

A run MLflow starts is an interactive run (Running at once, no process of the workspace's to watch); the
client's ``end_run`` moves it to Completed, Failed or Canceled. MLflow's checks and limits are MLflow's own
(``mlflow.utils.validation``): keys of at most 250 characters of ``[/\\w.\\- :]``, batches of at most 1000
metrics, 100 params and 100 tags (1000 items in all), a param that keeps its first value. The workspace's own
limit on a param or tag value (5000 characters) is below MLflow's and is refused the same way, saying so.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

import pydantic

from jupyter_aml.core import models
from jupyter_aml.core.mlflow_inputs import MlflowInputs
from jupyter_aml.core.mlflow_models import LoggedModels
from jupyter_aml.core.mlflow_support import MlflowSupport, ScalarPoint
from jupyter_aml.core.service import AMLService
from jupyter_aml.errors import Conflict, NotFound
from jupyter_aml.mlflow_api import convert as cv
from jupyter_aml.mlflow_api.errors import INVALID_STATE, MlflowError, invalid, missing
from jupyter_aml.mlflow_api.experiments import Experiments, decode_token, encode_token
from jupyter_aml.mlflow_api.ids import RunIds

MAX_METRICS, MAX_PARAMS, MAX_TAGS, MAX_ENTITIES = 1000, 100, 100, 1000
MAX_KEY = 250
MAX_VALUE = 5000  # the workspace's limit on a property or tag value (MLflow's: 6000 for params, 8000 for tags)
HISTORY_PAGE = 25_000
_KEY = re.compile(r"[/\w.\- :]*")
REPORTED_STATUS_TAG = "aml.mlflow.reported_status"  # what mlflow.end_run() said of a submitted script's run


def check_key(key: str, what: str) -> str:
    if not key:
        raise invalid(f"Missing value for required parameter 'key' of the {what}")
    if len(key) > MAX_KEY:
        raise invalid(f"{what.capitalize()} '{key[:50]}...' had length {len(key)}, which exceeded length limit "
                      f"of {MAX_KEY}")
    if not _KEY.fullmatch(key) or ".." in key.split("/") or key.startswith("/"):
        raise invalid(f"Invalid {what} name: '{key}'. Names may only contain alphanumerics, underscores (_), "
                      "dashes (-), periods (.), spaces ( ), colons (:), and slashes (/).")
    return key


def check_value(key: str, value: str, what: str) -> str:
    if len(value) > MAX_VALUE:
        raise invalid(f"{what.capitalize()} value '{value[:50]}...' had length {len(value)}, which exceeded "
                      f"length limit of {MAX_VALUE}", hint=f"this workspace keeps {what} values of at most "
                      f"{MAX_VALUE} characters (a v1 property or tag)")
    return value


class Runs:
    def __init__(self, service: AMLService, support: MlflowSupport, experiments: Experiments) -> None:
        self.service = service
        self.support = support
        self.experiments = experiments
        self.ids = RunIds(support.run_exists)
        self.inputs = MlflowInputs(service.db)
        self.models = LoggedModels(service.db)

    # -- helpers ------------------------------------------------------------------------------------
    def run(self, workspace: str, run_id: str) -> models.Run:
        try:
            return self.service.runs.get(workspace, run_id)
        except NotFound:
            raise missing(f"Run with id={run_id} not found") from None

    def exp_id(self, workspace: str, run: models.Run) -> str:
        if run.experiment == cv.DEFAULT_EXPERIMENT_NAME:
            return cv.DEFAULT_EXPERIMENT_ID
        return cv.experiment_id(self.service.workspaces.experiment(workspace, run.experiment))

    def run_body(self, workspace: str, run: models.Run) -> dict[str, Any]:
        return self.run_bodies([run], {run.experiment: self.exp_id(workspace, run)})[0]

    def run_bodies(self, runs: list[models.Run], exp_ids: Mapping[str, str]) -> list[dict[str, Any]]:
        """MLflow's runs, with their latest metrics, inputs and the models they logged, in a few queries."""
        ids = [r.id for r in runs]
        latest, inputs, outputs = self.support.latest_metrics(ids), self.inputs.of_runs(ids), self.models.of_runs(ids)
        return [cv.run_json(r, exp_ids[r.experiment], latest[r.id], inputs[r.id], outputs[r.id]) for r in runs]

    def active(self, workspace: str, run_id: str) -> models.Run:
        """The run, refused as MLflow refuses a deleted run's logging."""
        return self._active(workspace, run_id)

    def _active(self, workspace: str, run_id: str) -> models.Run:
        run = self.run(workspace, run_id)
        if cv.lifecycle(run) == cv.DELETED:
            raise invalid(f"The run {run_id} must be in the 'active' state. Current state is deleted.")
        return run

    def _update(self, workspace: str, run_id: str, spec: dict[str, Any]) -> models.Run:
        try:
            return self.service.runs.update(workspace, run_id, models.RunUpdate(**spec))
        except pydantic.ValidationError as exc:
            raise invalid(f"Invalid value for run {run_id}: {exc.errors()[0]['msg']}") from None

    # -- runs ---------------------------------------------------------------------------------------
    def create(self, workspace: str, req: Mapping[str, Any], *, submitter: str) -> dict[str, Any]:
        exp = self.experiments.resolve(workspace, cv.text(req, "experiment_id", required=False, default="0"),
                                       create=True)
        if exp.archived_time is not None:
            raise invalid(f"The experiment {cv.experiment_id(exp)} must be in the 'active' state. Current state is "
                          "deleted.")
        tags = self._tags(cv.objects(req, "tags"))
        name = cv.text(req, "run_name", required=False) or tags.pop(cv.RUN_NAME_TAG, "")
        tags.pop(cv.RUN_NAME_TAG, None)
        parent = tags.pop(cv.PARENT_TAG, None)
        start = cv.integer(req, "start_time")
        if len(name) > 255:
            raise invalid(f"Run name '{name[:50]}...' had length {len(name)}, which exceeded length limit of 255")
        spec = models.RunCreate(experiment=exp.name, kind="interactive", tags=tags, display_name=name)
        try:
            run = self.service.runs.create(workspace, spec, submitter=submitter, parent_id=parent)
        except NotFound:
            raise missing(f"Run with id={parent} not found (the {cv.PARENT_TAG} tag names the parent run)") from None
        except Conflict as exc:
            raise MlflowError(INVALID_STATE, exc.message, hint=exc.hint) from None
        if start is not None:
            run = self.support.set_times(workspace, run.id, start=cv.from_millis(start))
        return {"run": cv.run_json(run, cv.experiment_id(exp), {})}

    def get(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        return {"run": self.run_body(workspace, self.run(workspace, cv.run_id_of(req)))}

    def update(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        run_id = cv.run_id_of(req)
        run = self.run(workspace, run_id)
        status = cv.text(req, "status", required=False)
        end = cv.integer(req, "end_time")
        name = cv.text(req, "run_name", required=False)
        if status and status not in cv.FROM_MLFLOW:
            raise invalid(f"Invalid run status {status!r}: use one of {', '.join(cv.FROM_MLFLOW)}")
        if name:
            run = self._update(workspace, run_id, {"display_name": name})
        if run.kind == "script" and not run.status.terminal and status != "KILLED" and (status or end is not None):
            # A submitted script's run ends when its script exits (its agent reports it, and uploads outputs
            # first), as in Azure ML: mlflow.end_run() inside it is recorded, not obeyed.
            if status and status != cv.TO_MLFLOW[run.status]:
                run = self._update(workspace, run_id, {"tags": {REPORTED_STATUS_TAG: status}})
            return {"run_info": cv.run_info(run, self.exp_id(workspace, run))}
        if status:
            wanted = cv.FROM_MLFLOW[status]
            if cv.TO_MLFLOW[run.status] != status:
                try:
                    run = self.service.runs.set_status(workspace, run_id, models.StatusUpdate(status=wanted))
                except Conflict as exc:
                    raise MlflowError(INVALID_STATE, f"run {run_id} is {cv.TO_MLFLOW[run.status]} "
                                      f"({run.status.value}); it cannot become {status}", hint=exc.hint) from None
        if end is not None:  # MLflow records the client's end time whatever the status
            run = self.support.set_times(workspace, run_id, end=cv.from_millis(end))
        return {"run_info": cv.run_info(run, self.exp_id(workspace, run))}

    def delete(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        run_id = cv.run_id_of(req)
        self.run(workspace, run_id)
        self._update(workspace, run_id, {"tags": {cv.LIFECYCLE_TAG: cv.DELETED}})
        return {}

    def restore(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        run_id = cv.run_id_of(req)
        self.run(workspace, run_id)
        self._update(workspace, run_id, {"remove_tags": [cv.LIFECYCLE_TAG]})
        return {}

    # -- logging ------------------------------------------------------------------------------------
    def log_metric(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        run_id = cv.run_id_of(req)
        self._active(workspace, run_id)
        self.support.log_scalars(workspace, run_id, [self._point(dict(req))])
        return {}

    def log_batch(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        run_id = cv.run_id_of(req)
        metrics, params, tags = cv.objects(req, "metrics"), cv.objects(req, "params"), cv.objects(req, "tags")
        for items, limit, what in ((metrics, MAX_METRICS, "metrics"), (params, MAX_PARAMS, "params"),
                                   (tags, MAX_TAGS, "tags")):
            if len(items) > limit:
                raise invalid(f"A batch logging request can contain at most {limit} {what}. Got {len(items)} "
                              f"{what}. Please split up {what} across multiple requests and try again.")
        total = len(metrics) + len(params) + len(tags)
        if total > MAX_ENTITIES:
            raise invalid(f"A batch logging request can contain at most {MAX_ENTITIES} metrics, params, and tags in "
                          f"total. Got {total} total entities. Please split up entities across multiple requests "
                          "and try again.")
        points = [self._point(m) for m in metrics]
        linked = [p for p, m in zip(points, metrics, strict=True) if m.get("model_id")]
        if linked:  # MLflow 3's log_model sends the run's points again with the model's id: they are not new
            held = self._stored(workspace, run_id, linked)
            points = [p for p in points if p not in held]
        new_params = self._params(params)
        new_tags = self._tags(tags)
        run = self._active(workspace, run_id)
        self._check_params(run, new_params)
        if new_tags or any(run.properties.get(k) != v for k, v in new_params.items()):  # no empty write per step
            self._write_tags(workspace, run, new_tags, properties=new_params)
        self.support.log_scalars(workspace, run_id, points)
        return {}

    def log_param(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        run_id = cv.run_id_of(req)
        params = self._params([{"key": req.get("key"), "value": req.get("value")}])
        run = self._active(workspace, run_id)
        self._check_params(run, params)
        self._write_tags(workspace, run, {}, properties=params)
        return {}

    def set_tag(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        run_id = cv.run_id_of(req)
        tags = self._tags([{"key": req.get("key"), "value": req.get("value")}])
        run = self._active(workspace, run_id)
        self._write_tags(workspace, run, tags)
        return {}

    def delete_tag(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        run_id = cv.run_id_of(req)
        key = cv.text(req, "key")
        run = self._active(workspace, run_id)
        if key not in cv.run_tags(run) or key in (cv.RUN_NAME_TAG, cv.PARENT_TAG):
            raise missing(f"No tag with name: {key} in run with id {run_id}")
        self._update(workspace, run_id, {"remove_tags": [key]})
        return {}

    def _write_tags(self, workspace: str, run: models.Run, tags: dict[str, str], *,
                    properties: dict[str, str] | None = None) -> None:
        """Tags and params in one update; the ``mlflow.runName`` tag renames the run, as MLflow's does."""
        name = tags.pop(cv.RUN_NAME_TAG, None)
        if cv.PARENT_TAG in tags and tags[cv.PARENT_TAG] != run.parent_id:
            raise invalid(f"The {cv.PARENT_TAG} tag of run {run.id} cannot change: a child run's parent is set when "
                          "it is created", hint="start the run with mlflow.start_run(nested=True)")
        tags.pop(cv.PARENT_TAG, None)
        spec: dict[str, Any] = {"tags": tags, "properties": properties or {}}
        if name is not None:
            spec["display_name"] = name
        try:
            self._update(workspace, run.id, spec)
        except Conflict as exc:  # a param set before with another value: the property refused it
            raise invalid(exc.message, hint="a param keeps its first value; log the new one under another key") \
                from None

    @staticmethod
    def _check_params(run: models.Run, params: Mapping[str, str]) -> None:
        for key, value in params.items():
            old = run.properties.get(key)
            if old is not None and old != value:
                raise invalid(f"Changing param values is not allowed. Param with key='{key}' was already logged "
                              f"with value='{old}' for run ID='{run.id}'. Attempted logging new value '{value}'.")

    @staticmethod
    def _params(items: list[dict[str, Any]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for item in items:
            key = check_key(_str(item.get("key"), "param key"), "param")
            value = check_value(key, _str(item.get("value"), f"param {key!r}"), "param")
            if key in out and out[key] != value:
                raise invalid(f"Duplicate parameter keys have been submitted: '{key}'. Please ensure the request "
                              "contains only one param value per param key.")
            out[key] = value
        return out

    @staticmethod
    def _tags(items: list[dict[str, Any]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for item in items:
            key = check_key(_str(item.get("key"), "tag key"), "tag")
            out[key] = check_value(key, _str(item.get("value"), f"tag {key!r}"), "tag")
        return out

    @staticmethod
    def _point(item: dict[str, Any]) -> ScalarPoint:
        key = check_key(_str(item.get("key"), "metric key"), "metric")
        value = item.get("value")
        if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
            value = float(value.replace("Infinity", "inf"))
        if isinstance(value, int) and not isinstance(value, bool) and not -1e308 < value < 1e308:
            value = None  # an integer no double holds
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(f"Got invalid value {value!r} for metric '{key}' (timestamp={item.get('timestamp')}). "
                          "Please specify value as a valid double (64-bit floating point)")
        stamp = cv.integer(item, "timestamp", default=int(time.time() * 1000))
        step = cv.integer(item, "step", default=0)
        assert stamp is not None and step is not None
        return ScalarPoint(key=key, value=float(value), step=float(step), time=stamp / 1000)

    def _stored(self, workspace: str, run_id: str, points: list[ScalarPoint]) -> list[ScalarPoint]:
        """Which of ``points`` the run holds already, to the millisecond (MLflow's metrics table keeps a
        point once per key, value, step and timestamp, so a point sent twice is stored once there too)."""
        held: list[ScalarPoint] = []
        for key in {p.key for p in points}:
            try:
                series = self.service.metrics.history(workspace, run_id, key)
            except NotFound:
                continue
            if series.kind != "scalar":
                continue
            numbers = [cv.metric_number(v) for v in series.values]
            seen = {(n, float(st), round(t * 1000)) for n, st, t in
                    zip(numbers, series.steps or [], series.times or [], strict=False) if n is not None}
            held += [p for p in points if p.key == key and (p.value, p.step, round(p.time * 1000)) in seen]
        return held

    # -- history ------------------------------------------------------------------------------------
    def history(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        run_id = cv.run_id_of(req)
        key = cv.text(req, "metric_key")
        limit = cv.integer(req, "max_results", default=HISTORY_PAGE) or HISTORY_PAGE
        if not 1 <= limit <= HISTORY_PAGE:
            raise invalid(f"Invalid value {limit} for parameter 'max_results': use 1..{HISTORY_PAGE}")
        offset = decode_token(cv.text(req, "page_token", required=False))
        self.run(workspace, run_id)
        try:
            series = self.service.metrics.history(workspace, run_id, key)
        except NotFound:
            return {"metrics": []}  # MLflow answers an empty history for a key never logged
        if series.kind != "scalar":
            return {"metrics": []}
        steps, times = series.steps or [], series.times or []
        metrics = []
        for i in range(offset, min(offset + limit, len(series.values))):
            value = cv.metric_number(series.values[i])
            if value is None:
                continue
            metrics.append({"key": key, "value": cv.metric_value(value), "timestamp": int(times[i] * 1000),
                            "step": int(steps[i])})
        answer: dict[str, Any] = {"metrics": metrics}
        if offset + limit < len(series.values):
            answer["next_page_token"] = encode_token(offset + limit)
        return answer


def _str(value: Any, what: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(f"Invalid value {value!r} for the {what}: it must be a string")
    return str(value)
