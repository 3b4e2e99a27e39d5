"""The swagger (OpenAPI 2.0) document of a web service, as Azure ML v1 services served at /swagger.json.

When the scoring script's ``run()`` is decorated with inference-schema, the input and output definitions
are the ones its decorators declare (read from a replica's ``GET /schema``), with their examples; otherwise
the input is guessed from the model's ``sample_input`` and the output is left open.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_aml.core.deployments import RevisionPlan
from jupyter_aml.serving.front import Revision
from jupyter_aml.serving.proxy import ReplicaDown


def schema_of(example: Any, depth: int = 0) -> dict[str, Any]:
    """A JSON schema guessed from an example value (the model's ``sample_input``)."""
    if depth > 6:
        return {}
    if isinstance(example, bool):
        return {"type": "boolean"}
    if isinstance(example, int):
        return {"type": "integer"}
    if isinstance(example, float):
        return {"type": "number"}
    if isinstance(example, str):
        return {"type": "string"}
    if isinstance(example, list):
        return {"type": "array", "items": schema_of(example[0], depth + 1) if example else {}}
    if isinstance(example, dict):
        return {"type": "object", "properties": {str(k): schema_of(v, depth + 1) for k, v in example.items()}}
    return {}


async def declared_schema(revision: Revision) -> dict[str, Any] | None:
    """What the scoring script's decorated ``run()`` declares, asked of a ready replica of ``revision``
    (None: not decorated, or no replica could say; the document then keeps the model's sample)."""
    for replica in revision.replicas:
        if replica.pool is None:
            continue
        try:
            response = await replica.pool.request("GET", "/schema", b"", {}, 5)
        except (ReplicaDown, asyncio.TimeoutError):
            replica.pool.close()
            continue
        if response.status != 200:
            return None
        try:
            body = json.loads(response.body)
        except ValueError:
            return None
        return body if isinstance(body, dict) and body.get("decorated") else None
    return None


def build_swagger(plan: RevisionPlan, declared: dict[str, Any] | None = None) -> dict[str, Any]:
    """``declared``: what a replica's ``GET /schema`` answered (``{"decorated": true, "input", "output"}``)."""
    sample = next((m.sample_input for m in plan.models if m.sample_input is not None), None)
    service_input: dict[str, Any] = {"type": "object"}
    service_output: dict[str, Any] = {}
    if declared and declared.get("decorated"):
        service_input = dict(declared.get("input") or service_input)
        service_output = dict(declared.get("output") or {})
    elif sample is not None:
        service_input = {**schema_of(sample), "example": sample}
    models = ", ".join(f"{m.name}:{m.version}" for m in plan.models)
    return {
        "swagger": "2.0",
        "info": {
            "title": plan.name,
            "description": f"API specification of the web service {plan.name} (models {models}; revision "
                           f"{plan.revision})",
            "version": "1.0",
        },
        "schemes": ["http"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": {
            "Bearer": {"type": "apiKey", "name": "Authorization", "in": "header",
                       "description": "For example: Bearer abc123 (the service's primary or secondary key)"}
        },
        "paths": {
            "/": {"get": {"operationId": "ServiceHealthCheck", "description": "Simple health check endpoint",
                          "responses": {"200": {"description": "Healthy", "schema": {"type": "string"}}}}},
            "/score": {
                "post": {
                    "operationId": "RunMLService",
                    "description": "Run the scoring script's run() on the JSON body",
                    "security": [{"Bearer": []}],
                    "parameters": [{"name": "serviceInputPayload", "in": "body", "required": True,
                                    "schema": {"$ref": "#/definitions/ServiceInput"}}],
                    "responses": {
                        "200": {"description": "What run() returned",
                                "schema": {"$ref": "#/definitions/ServiceOutput"}},
                        "default": {"description": "An error (400 not JSON or not the input schema, 401 bad key, "
                                                   "413 too large, 500 run() failed, 503 no replica ready, "
                                                   "504 timeout)",
                                    "schema": {"$ref": "#/definitions/ErrorResponse"}},
                    },
                }
            },
        },
        "definitions": {
            "ServiceInput": service_input,
            "ServiceOutput": service_output,
            "ErrorResponse": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}, "error_id": {"type": "string"}}}}},
        },
    }


def as_openapi3(doc: dict[str, Any], version: str = "3.0.1") -> dict[str, Any]:
    """The same document in OpenAPI 3 (``GET /swagger.json?version=3``, as v1's services answered): request and
    response bodies as ``content``, definitions and the key scheme under ``components``."""
    if not doc:
        return {}

    def ref3(schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        return {"$ref": ref.replace("#/definitions/", "#/components/schemas/")} if ref else schema

    def responses(old: dict[str, Any], mime: str) -> dict[str, Any]:
        return {code: {"description": r.get("description", ""),
                       **({"content": {mime: {"schema": ref3(r["schema"])}}} if "schema" in r else {})}
                for code, r in old.items()}

    paths: dict[str, Any] = {}
    for path, operations in doc.get("paths", {}).items():
        paths[path] = {}
        for method, op in operations.items():
            new = {k: v for k, v in op.items() if k not in ("parameters", "responses")}
            body = [p for p in op.get("parameters", []) if p.get("in") == "body"]
            if body:
                new["requestBody"] = {"required": bool(body[0].get("required")),
                                      "content": {"application/json": {"schema": ref3(body[0]["schema"])}}}
            new["responses"] = responses(op.get("responses", {}), "text/plain" if path == "/" else "application/json")
            paths[path][method] = new
    return {"openapi": version, "info": doc.get("info", {}), "paths": paths,
            "components": {"securitySchemes": doc.get("securityDefinitions", {}),
                           "schemas": doc.get("definitions", {})}}
