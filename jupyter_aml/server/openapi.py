"""The OpenAPI document, generated from the routes' ``@api`` specs and the pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic.json_schema import models_json_schema

from jupyter_aml.core import models
from jupyter_aml.server.base import ApiSpec

METHODS = ("get", "post", "put", "patch", "delete")
_DESCRIPTIONS = {"text/event-stream": "server-sent events: each `data:` line is one JSON event of the schema"}


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
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", path)
        ]
        params += [
            {"name": n, "in": "query", "required": False, "schema": {"type": t}, "description": d}
            for n, t, d in spec.query
        ]
        op: dict[str, Any] = {
            "summary": spec.summary,
            "operationId": f"{method}_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_')}",
            "parameters": params,
            "responses": {
                str(spec.status): {
                    "description": _DESCRIPTIONS.get(spec.content_type, "OK"),
                    "content": {
                        spec.content_type: {
                            "schema": (
                                {"$ref": f"#/components/schemas/{spec.returns.__name__}"} if spec.returns else {}
                            )
                        }
                    },
                },
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
                "required": True,
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
