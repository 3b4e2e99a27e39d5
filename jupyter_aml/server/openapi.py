"""The OpenAPI document, generated from the routes' ``@api`` specs and the pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic.json_schema import models_json_schema

from jupyter_aml import statuses
from jupyter_aml.core import dataset_models as dsm
from jupyter_aml.core import datastore_models as dstm
from jupyter_aml.core import keyvault_models as km
from jupyter_aml.core import models
from jupyter_aml.core import registry_models as rm
from jupyter_aml.core import roles as rbac
from jupyter_aml.core import sharing_models as sm
from jupyter_aml.core.numbers import MAX_OFFSET, MAX_VERSION
from jupyter_aml.server.base import ApiSpec

METHODS = ("get", "post", "put", "patch", "delete")
_DESCRIPTIONS = {"text/event-stream": "server-sent events: each `data:` line is one JSON event of the schema"}

# What each path segment takes, so that a client (and a fuzzer) knows a bad one is refused before any lookup.
# ``name`` means a different thing under each collection: the longest matching prefix decides.
_INT = {"type": "integer"}
_VERSION = {**_INT, "minimum": 1, "maximum": MAX_VERSION}
_PATH_PARAMS: dict[str, dict[str, Any]] = {
    "workspace": {"type": "string", "pattern": models.NAME_PATTERN},
    "run_id": {"type": "string", "minLength": 1, "maxLength": 320},
    "sha256": {"type": "string", "pattern": models.SHA256_PATTERN},
    "snapshot_id": {"type": "string", "pattern": models.SHA256_PATTERN},
    "version": _VERSION,
    "user": {"type": "string", "pattern": sm.USER_PATTERN},
    "dataset_version": {"type": "string", "pattern": r"^(?:latest|[1-9][0-9]{0,8})$"},
    "dataset_id": {"type": "string", "minLength": 1, "maxLength": 36},
}
_NAMES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("/models/", {"type": "string", "pattern": rm.MODEL_NAME_PATTERN}),
    ("/environments/", {"type": "string", "pattern": models.RESOURCE_PATH_PATTERN}),
    ("/endpoints/", {"type": "string", "pattern": rm.SERVICE_NAME_PATTERN}),
    ("/roles/", {"type": "string", "pattern": sm.ROLE_PATTERN}),
    ("/experiments/", {"type": "string", "pattern": models.EXPERIMENT_PATTERN}),
    ("/metrics/", {"type": "string", "minLength": 1, "maxLength": 255}),
    ("/secrets/", {"type": "string", "pattern": km.SECRET_NAME_PATTERN}),
    ("/datastores/", {"type": "string", "pattern": dstm.DATASTORE_NAME_PATTERN}),
    ("/datasets/", {"type": "string", "pattern": dsm.DATASET_NAME_PATTERN}),
    ("/inputs/", {"type": "string", "pattern": models.DATA_NAME_PATTERN}),
    ("/outputs/", {"type": "string", "pattern": models.DATA_NAME_PATTERN}),
)
_FILTER = {"type": "string", "pattern": "^[^=]", "description": "key or key=value"}
# Query values by name (a path substring narrows one that means different things on different routes).
_QUERY: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("page_size", "", {**_INT, "minimum": 1, "maximum": 500}),
    ("limit", "/activity", {**_INT, "minimum": 1, "maximum": 500}),
    ("limit", "/logs", {**_INT, "minimum": 0, "maximum": 10_000}),  # 0: the default page
    ("after", "/activity", {"type": "string", "pattern": "^(?:[1-9][0-9]{0,8})?$"}),  # a next_cursor; '': none
    ("after", "/logs", {**_INT, "minimum": 0, "maximum": MAX_OFFSET}),
    ("max_points", "", {**_INT, "minimum": 10, "maximum": MAX_OFFSET}),
    ("lines", "", {**_INT, "minimum": 0, "maximum": 100_000}),  # 0: the default
    ("minutes", "", {**_INT, "minimum": 0, "maximum": 129_600}),  # 0: the default
    ("status", "", {"type": "string", "enum": list(statuses.RUN_STATUSES)}),
    ("tag", "", _FILTER),
    ("property", "", _FILTER),
    ("sort", "", {"type": "string", "pattern": "^-*(?:created_at|start_time|duration|status|number|display_name"
                  "|metric:[\\s\\S]*)$"}),
    ("page_token", "", {"type": "string", "pattern": "^[A-Za-z0-9_=-]*$"}),  # opaque; '': the first page
    ("path", "/files/content", {"type": "string", "pattern": models.RUN_PATH_PATTERN, "maxLength": 1024}),
    ("experiment", "", {"type": "string", "pattern": "^(?:|" + models.EXPERIMENT_PATTERN[1:-1] + ")$"}),  # '': all
    ("view_type", "/experiments", {"type": "string", "enum": ["ActiveOnly", "ArchivedOnly", "All"]}),
    ("name", "/experiments", {"type": "string", "pattern": models.EXPERIMENT_PATTERN}),
    ("path", "/datastores/", {"type": "string", "minLength": 1, "maxLength": 1024}),
    ("pattern", "/datastores/", {"type": "string", "maxLength": 1024}),  # '': the whole datastore
    ("rows", "/preview", {**_INT, "minimum": 1, "maximum": dsm.MAX_PREVIEW_ROWS}),
    ("path", "/inputs/", {"type": "string", "minLength": 1, "maxLength": 4096}),
)
_REQUIRED_QUERY = {("/files/content", "path"), ("/datastores/", "path"), ("/inputs/", "path")}
# Every error a route may answer, with the one error body; the success status comes from the route's spec.
_ERRORS = {
    "400": "bad input: the message names the field and what it must be",
    "403": "not authenticated, or the caller's role does not allow this action",
    "404": "no such workspace, run, model, ... (or not visible to the caller)",
    "409": "conflicts with the current state (exists already, finished run, ...)",
    "413": "the request body is over the limit",
    "422": "the body does not match its schema",
    "429": "a quota is used up",
    "503": "the database is busy or out of date: retry after Retry-After seconds",
}


def _path_param(path: str, name: str) -> dict[str, Any]:
    if name == "name":
        return next((dict(schema) for prefix, schema in _NAMES if prefix in path), {"type": "string"})
    return dict(_PATH_PARAMS.get(name, {"type": "string"}))


def _query_param(path: str, name: str, kind: str) -> dict[str, Any]:
    for known, where, schema in _QUERY:
        if known == name and where in path:
            return dict(schema)
    return {"type": kind}


def _success(spec: ApiSpec) -> dict[str, Any]:
    if spec.status == 204:  # no body, so no content type
        return {"description": "done"}
    schema = {"$ref": f"#/components/schemas/{spec.returns.__name__}"} if spec.returns else {}
    content = {spec.content_type: {"schema": schema}}
    return {"description": _DESCRIPTIONS.get(spec.content_type, "OK"), "content": content}


def _needs_body(model: type[Any]) -> bool:
    """A missing body is read as ``{}``: it is required only when ``{}`` is not a valid one."""
    return any(field.is_required() for field in model.model_fields.values())


def _path(pattern: str) -> str:
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)


def route_specs(routes: list[tuple[str, type]]) -> list[tuple[str, str, type, ApiSpec | None]]:
    """(path, method, handler, spec) for every method a handler defines; spec None means unguarded."""
    out = []
    for pattern, handler in routes:
        for method in METHODS:
            fn = handler.__dict__.get(method) or next(
                (
                    c.__dict__[method]
                    for c in handler.__mro__
                    if method in c.__dict__ and c.__module__.startswith("jupyter_aml")
                ),
                None,
            )
            if fn is not None:
                out.append((_path(pattern), method, handler, getattr(fn, "__aml_api__", None)))
    return out


def build_openapi(routes: list[tuple[str, type]], version: str) -> dict[str, Any]:
    used: set[type] = {models.ErrorResponse, models.ImageValue}  # ImageValue: inside MetricHistory.values
    specs = route_specs(routes)
    for *_, spec in specs:
        if spec:
            used.update(m for m in (spec.body, spec.returns) if m is not None)
    _, schema = models_json_schema(
        [(m, "validation") for m in sorted(used, key=lambda m: m.__name__)], ref_template="#/components/schemas/{model}"
    )
    paths: dict[str, dict[str, Any]] = {}
    for path, method, _handler, spec in specs:
        if spec is None:
            continue
        params = [
            {"name": name, "in": "path", "required": True, "schema": _path_param(path, name)}
            for name in re.findall(r"{(\w+)}", path)
        ]
        params += [
            {"name": n, "in": "query", "required": any(w in path and n == q for w, q in _REQUIRED_QUERY),
             "schema": _query_param(path, n, t), "description": d}
            for n, t, d in spec.query
        ]
        errors = {
            code: {"description": text,
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
            for code, text in _ERRORS.items()
        }
        op: dict[str, Any] = {
            "summary": spec.summary,
            # the authorization table's action (docs/security.md) and the built-in roles that hold it
            "x-aml-action": spec.action,
            "x-aml-roles": _roles_allowing(spec.action),
            "operationId": f"{method}_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_')}",
            "parameters": params,
            "responses": {
                str(spec.status): _success(spec),
                **errors,
                "default": {
                    "description": "error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
                },
            },
            "security": [{"bearer": []}, {"jupyterToken": []}],
            "x-run-token-scope": spec.scope,
        }
        if spec.body is not None:
            op["requestBody"] = {
                "required": _needs_body(spec.body),
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{spec.body.__name__}"}}},
            }
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jupyter-aml",
            "version": version,
            "description": "Workspace, experiment, run, metric and snapshot API of jupyter-aml.",
        },
        "servers": [{"url": "/aml/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": schema.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "service token or run token"},
                "jupyterToken": {"type": "apiKey", "in": "header", "name": "Authorization"},
            },
        },
    }


def _roles_allowing(action: str) -> list[str]:
    if action in rbac.GLOBAL_ACTIONS:
        return ["administrators"] if action == "service/admin" else ["any authenticated user"]
    return [role.name for role in rbac.BUILTIN_ROLES.values() if role.allows(action)]
