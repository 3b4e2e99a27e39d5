"""MLflow experiments on the workspace's experiments: create, get, get-by-name, search, update (rename),
delete (archive), restore (reactivate) and set-experiment-tag.

Each function takes the workspace and the request's fields, and answers MLflow's response body. Names follow
the workspace's rule (letters, digits, ``_ - .``, starting with a letter or digit): a name MLflow would take
but the workspace cannot (``/Users/me/exp``) is refused with ``INVALID_PARAMETER_VALUE`` saying so.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Mapping
from typing import Any

from jupyter_aml.core import models
from jupyter_aml.core.mlflow_support import MlflowSupport
from jupyter_aml.core.service import AMLService
from jupyter_aml.errors import Conflict, NotFound
from jupyter_aml.mlflow_api import convert as cv
from jupyter_aml.mlflow_api import filters
from jupyter_aml.mlflow_api.errors import RESOURCE_ALREADY_EXISTS, MlflowError, invalid, missing

_NAME = re.compile(models.EXPERIMENT_PATTERN)
VIEW_TYPES = {"ACTIVE_ONLY": "ActiveOnly", "DELETED_ONLY": "ArchivedOnly", "ALL": "All"}
MAX_EXPERIMENTS_PAGE = 50_000


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise invalid(f"Invalid experiment name {name!r}: this workspace's experiment names are 1-255 letters, "
                      "digits, '_', '-', '.' or spaces inside, starting with a letter or digit",
                      hint="e.g. mlflow.set_experiment('my-experiment')")
    return name


def parse_id(experiment_id: str) -> int:
    if not experiment_id.isascii() or not experiment_id.isdigit() or len(experiment_id) > 18:
        raise missing(f"No Experiment with id={experiment_id} exists")
    return int(experiment_id)


class Experiments:
    def __init__(self, service: AMLService, support: MlflowSupport) -> None:
        self.service = service
        self.support = support

    def resolve(self, workspace: str, experiment_id: str, *, create: bool = False) -> models.Experiment:
        """The experiment an MLflow id names; ``"0"`` is the ``Default`` experiment. A read never writes: until
        something is logged there (``create=True``, a write such as ``runs/create``), ``"0"`` is missing, as
        MLflow answers an experiment that does not exist."""
        if experiment_id == cv.DEFAULT_EXPERIMENT_ID:
            if create:
                return self.service.workspaces.update_experiment(workspace, cv.DEFAULT_EXPERIMENT_NAME,
                                                                 models.ExperimentUpdate(), create=True)
            found = self.service.workspaces.experiments(workspace, view_type="All", name=cv.DEFAULT_EXPERIMENT_NAME)
            if not found:
                raise missing(f"No Experiment with id={experiment_id} exists")
            return found[0]
        try:
            return self.support.experiment_by_id(workspace, parse_id(experiment_id))
        except NotFound:
            raise missing(f"No Experiment with id={experiment_id} exists") from None

    def has_default(self, workspace: str) -> bool:
        return bool(self.service.workspaces.experiments(workspace, view_type="All", name=cv.DEFAULT_EXPERIMENT_NAME))

    def create(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        name = check_name(cv.text(req, "name"))
        if cv.text(req, "artifact_location", required=False):
            raise invalid("artifact_location is not supported here: a run's artifacts are its run files, kept by "
                          "the workspace", hint="leave artifact_location out")
        tags = {t.get("key"): t.get("value") for t in cv.objects(req, "tags")}
        if self.service.workspaces.experiments(workspace, view_type="All", name=name):
            raise MlflowError(RESOURCE_ALREADY_EXISTS, f"Experiment(name={name}) already exists.")
        exp = self.service.workspaces.update_experiment(workspace, name, _tags_update(tags), create=True)
        return {"experiment_id": cv.experiment_id(exp)}

    def get(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        exp = self.resolve(workspace, cv.text(req, "experiment_id"))
        return {"experiment": cv.experiment_json(exp, workspace)}

    def get_by_name(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        name = cv.text(req, "experiment_name")
        found = self.service.workspaces.experiments(workspace, view_type="All", name=name) if _NAME.fullmatch(
            name) else []
        if not found:
            raise missing(f"Could not find experiment with name '{name}'")
        return {"experiment": cv.experiment_json(found[0], workspace)}

    def search(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        limit = cv.integer(req, "max_results", default=1000) or 0
        if not 1 <= limit <= MAX_EXPERIMENTS_PAGE:
            raise invalid(f"Invalid value {limit} for parameter 'max_results' supplied. It must be at most "
                          f"{MAX_EXPERIMENTS_PAGE}, and at least 1")
        view = cv.text(req, "view_type", required=False, default="ACTIVE_ONLY")
        if view not in VIEW_TYPES:
            raise invalid(f"Invalid view_type {view!r}: use one of {', '.join(VIEW_TYPES)}")
        where = filters.parse_filter(cv.text(req, "filter", required=False), filters.EXPERIMENTS)
        order = filters.parse_order_by(cv.strings(req, "order_by"), filters.EXPERIMENTS)
        offset = decode_token(cv.text(req, "page_token", required=False))
        found = []
        for exp in self.service.workspaces.experiments(workspace, view_type=VIEW_TYPES[view]):
            body = cv.experiment_json(exp, workspace)
            if filters.matches(where, functools.partial(_field, body, exp)):
                found.append(body)
        found.sort(key=lambda b: int(b["experiment_id"]))
        found.sort(key=lambda b: -(b["creation_time"] or 0))
        for clause in reversed(order):
            present = [b for b in found if _sort_value(b, clause) is not None]
            absent = [b for b in found if _sort_value(b, clause) is None]
            present.sort(key=lambda b, c=clause: _sort_value(b, c), reverse=not clause.ascending)  # type: ignore
            found = present + absent
        page = found[offset:offset + limit]
        answer: dict[str, Any] = {"experiments": page}
        if offset + limit < len(found):
            answer["next_page_token"] = encode_token(offset + limit)
        return answer

    def update(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        exp = self.resolve(workspace, cv.text(req, "experiment_id"), create=True)
        new_name = check_name(cv.text(req, "new_name"))
        try:
            self.support.rename_experiment(workspace, int(exp.id), new_name)
        except Conflict as exc:
            raise MlflowError(RESOURCE_ALREADY_EXISTS, exc.message) from None
        return {}

    def delete(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        experiment_id = cv.text(req, "experiment_id")
        if experiment_id == cv.DEFAULT_EXPERIMENT_ID:
            raise invalid("Cannot delete the default experiment '0'. This is an internally reserved experiment.")
        exp = self.resolve(workspace, experiment_id)
        self.service.workspaces.archive_experiment(workspace, exp.name)
        return {}

    def restore(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        exp = self.resolve(workspace, cv.text(req, "experiment_id"), create=True)
        if exp.archived_time is not None:
            self.service.workspaces.reactivate_experiment(workspace, exp.name)
        return {}

    def set_tag(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        exp = self.resolve(workspace, cv.text(req, "experiment_id"), create=True)
        key = cv.text(req, "key")
        value = cv.text(req, "value", required=False)
        self.service.workspaces.update_experiment(workspace, exp.name, _tags_update({key: value}))
        return {}


def _tags_update(tags: Mapping[Any, Any]) -> models.ExperimentUpdate:
    import pydantic

    try:
        return models.ExperimentUpdate(tags=dict(tags))
    except pydantic.ValidationError as exc:
        raise invalid(f"Invalid experiment tags: {exc.errors()[0]['msg']}") from None


def _field(body: Mapping[str, Any], exp: models.Experiment, entity: str, key: str) -> str | float | None:
    if entity == "tag":
        return exp.tags.get(key)
    value = body.get(key)
    return value if isinstance(value, str | int | float) else None


def _sort_value(body: Mapping[str, Any], clause: filters.OrderBy) -> Any:
    if clause.entity == "tag":
        return next((t["value"] for t in body["tags"] if t["key"] == clause.key), None)
    if clause.key == "experiment_id":
        return int(body["experiment_id"])
    return body.get(clause.key)


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_token(token: str) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < (1 << 62):
            raise ValueError
        return offset
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise invalid(f"Invalid page token {token!r}: pass next_page_token as returned") from None
