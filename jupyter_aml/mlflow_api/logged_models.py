"""MLflow 3 logged models (``/logged-models``) on the workspace's runs and run files.

``mlflow.sklearn.log_model(model, name="model")`` creates a logged model for the active run, uploads the
model's folder to the model's ``artifact_uri`` and links it to the run (``runs/outputs``). Here that folder is
the run's files ``outputs/mlflow-models/<model_id>/...`` (``core/mlflow_models.py``): the model's lineage is
its run, and the studio and the v1 SDK see the files among the run's outputs. ``models:/<model_id>`` resolves
through ``logged-models/<id>`` to those files, so ``mlflow.pyfunc.load_model(model_info.model_uri)`` works.

A logged model needs a source run here (MLflow also allows models without one): creating one without
``source_run_id`` is ``INVALID_PARAMETER_VALUE``, saying to log it inside ``mlflow.start_run()``.
"""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Mapping
from typing import Any

from jupyter_aml.core.mlflow_models import FILES_PREFIX, LoggedModelRecord, LoggedModels
from jupyter_aml.errors import NotFound
from jupyter_aml.mlflow_api import artifacts, filters
from jupyter_aml.mlflow_api import convert as cv
from jupyter_aml.mlflow_api.errors import invalid, missing
from jupyter_aml.mlflow_api.experiments import Experiments, decode_token, encode_token
from jupyter_aml.mlflow_api.ids import to_mlflow
from jupyter_aml.mlflow_api.runs import Runs, check_key

STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")
MODELS = filters.Schema(
    entities=frozenset({"tag", "param", "attribute"}),
    string_attributes=frozenset({"name", "model_id", "source_run_id", "status", "model_type", "experiment_id"}),
    numeric_attributes=frozenset({"creation_timestamp", "last_updated_timestamp"}),
    aliases={"creation_time": "creation_timestamp", "last_updated_time": "last_updated_timestamp"},
)
MAX_PAGE = 1000


def artifact_uri(run_id: str, model_id: str) -> str:
    return f"{artifacts.artifact_uri(run_id)}/{FILES_PREFIX}/{model_id}"


def _now() -> int:
    return int(time.time() * 1000)


class LoggedModelsApi:
    def __init__(self, store: LoggedModels, runs: Runs, experiments: Experiments) -> None:
        self.store = store
        self.runs = runs
        self.experiments = experiments

    def body(self, workspace: str, rec: LoggedModelRecord) -> dict[str, Any]:
        d = rec.data
        exp_id = self.runs.exp_id(workspace, self.runs.run(workspace, rec.run_id))
        info = {"model_id": d["model_id"], "experiment_id": exp_id, "name": d["name"],
                "artifact_uri": artifact_uri(rec.run_id, d["model_id"]),
                "creation_timestamp_ms": d["created"], "last_updated_timestamp_ms": d["updated"],
                "status": d["status"], "source_run_id": to_mlflow(rec.run_id), "tags": cv.kv(d["tags"])}
        if d.get("model_type"):
            info["model_type"] = d["model_type"]
        if d.get("status_message"):
            info["status_message"] = d["status_message"]
        return {"info": info, "data": {"params": cv.kv(d["params"])}}

    def _get(self, workspace: str, model_id: str) -> LoggedModelRecord:
        try:
            return self.store.get(workspace, model_id)
        except NotFound:
            raise missing(f"Logged model with ID '{model_id}' not found") from None

    def _update(self, workspace: str, model_id: str, change: Any) -> LoggedModelRecord:
        def apply(d: dict[str, Any]) -> None:
            change(d)
            d["updated"] = _now()
        try:
            return self.store.update(workspace, model_id, apply)
        except NotFound:
            raise missing(f"Logged model with ID '{model_id}' not found") from None

    def create(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        run_id = cv.text(req, "source_run_id", required=False)
        if not run_id:
            raise invalid("A logged model needs a source run on this server",
                          hint="log the model inside mlflow.start_run(), or pass run_id")
        run = self.runs.run(workspace, run_id)
        experiment_id = cv.text(req, "experiment_id", required=False)
        if experiment_id and experiment_id != self.runs.exp_id(workspace, run):
            raise invalid(f"The source run {run_id} is not in experiment {experiment_id}")
        name = cv.text(req, "name", required=False) or f"model-{secrets.token_hex(4)}"
        model_id = f"m-{secrets.token_hex(16)}"
        now = _now()
        data = {"model_id": model_id, "name": name, "status": "LOGGED_MODEL_PENDING", "created": now,
                "updated": now, "model_type": cv.text(req, "model_type", required=False),
                "tags": _pairs(req, "tags", "tag"), "params": _pairs(req, "params", "param")}
        rec = self.store.create(workspace, run.id, model_id, data)
        return {"model": self.body(workspace, rec)}

    def get(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        return {"model": self.body(workspace, self._get(workspace, cv.text(req, "model_id")))}

    def finalize(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        status = cv.text(req, "status")
        if status not in STATUSES:
            raise invalid(f"Invalid status {status!r} for a logged model: one of {', '.join(STATUSES)}")
        rec = self._update(workspace, cv.text(req, "model_id"), lambda d: d.update(status=status))
        return {"model": self.body(workspace, rec)}

    def log_params(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        params = _pairs(req, "params", "param")
        self._update(workspace, cv.text(req, "model_id"), lambda d: d["params"].update(params))
        return {}

    def set_tags(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        tags = _pairs(req, "tags", "tag")
        self._update(workspace, cv.text(req, "model_id"), lambda d: d["tags"].update(tags))
        return {}

    def delete_tag(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        key = cv.text(req, "tag_key")

        def drop(d: dict[str, Any]) -> None:
            if key not in d["tags"]:
                raise missing(f"No tag with key {key!r} on logged model {d['model_id']}")
            del d["tags"][key]
        self._update(workspace, cv.text(req, "model_id"), drop)
        return {}

    def delete(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        model_id = cv.text(req, "model_id")
        self._get(workspace, model_id)
        raise invalid(f"Deleting logged model {model_id} is not supported here: its files are its run's outputs, "
                      "which a run keeps", hint="tag it instead (set_logged_model_tags)")

    def search(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        limit = cv.integer(req, "max_results", default=100) or 0
        if not 1 <= limit <= MAX_PAGE:
            raise invalid(f"Invalid value {limit} for parameter 'max_results': between 1 and {MAX_PAGE}")
        if req.get("datasets"):
            raise invalid("Searching logged models by dataset is not supported here", hint="leave datasets out")
        exp_ids = [int(self.experiments.resolve(workspace, e).id) for e in cv.strings(req, "experiment_ids")
                   if e != cv.DEFAULT_EXPERIMENT_ID or self.experiments.has_default(workspace)]
        where = filters.parse_filter(cv.text(req, "filter", required=False), MODELS)
        bodies = [self.body(workspace, r) for r in self.store.of_experiments(workspace, exp_ids)]
        found = [b for b in bodies if filters.matches(where, functools.partial(_field, b))]
        found.sort(key=lambda b: -b["info"]["creation_timestamp_ms"])
        for order in reversed(cv.objects(req, "order_by")):
            key = str(order.get("field_name", ""))
            MODELS.attribute(key)
            found.sort(key=functools.partial(_sort_key, key), reverse=not order.get("ascending", True))
        offset = decode_token(cv.text(req, "page_token", required=False))
        answer: dict[str, Any] = {"models": found[offset:offset + limit]}
        if offset + limit < len(found):
            answer["next_page_token"] = encode_token(offset + limit)
        return answer

    def log_outputs(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        """``runs/outputs``: the run produced these models. Here a model's lineage is its source run, so a
        model of this run is accepted as it is; a model of another run is refused, never silently linked."""
        run_id = cv.run_id_of(req)
        self.runs.run(workspace, run_id)
        for out in cv.objects(req, "models"):
            rec = self._get(workspace, str(out.get("model_id", "")))
            if rec.run_id != run_id:
                raise invalid(f"Logged model {out.get('model_id')} comes from run {rec.run_id}, not {run_id}: "
                              "linking a model to another run is not supported here")
        return {}


def _pairs(req: Mapping[str, Any], field: str, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in cv.objects(req, field):
        key = check_key(str(item.get("key") or ""), what)
        out[key] = str(item.get("value") if item.get("value") is not None else "")
    return out


def _field(body: Mapping[str, Any], entity: str, key: str) -> str | float | None:
    info = body["info"]
    if entity in ("tag", "param"):
        pairs = info["tags"] if entity == "tag" else body["data"]["params"]
        return next((p["value"] for p in pairs if p["key"] == key), None)
    value = info.get(key)
    return value if isinstance(value, str | int | float) else None


def _sort_key(key: str, body: Mapping[str, Any]) -> tuple[bool, Any]:
    value = body["info"].get(key)
    return value is None, value if value is not None else 0
