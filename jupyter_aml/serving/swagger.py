"""The swagger (OpenAPI 2.0) document of a web service, as Azure ML v1 services served at /swagger.json."""

from __future__ import annotations

from typing import Any

from jupyter_aml.core.deployments import RevisionPlan


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


def build_swagger(plan: RevisionPlan) -> dict[str, Any]:
    sample = next((m.sample_input for m in plan.models if m.sample_input is not None), None)
    service_input: dict[str, Any] = {"type": "object"}
    if sample is not None:
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
                        "default": {"description": "An error (400 not JSON, 401 bad key, 413 too large, 500 "
                                                   "run() failed, 503 no replica ready, 504 timeout)",
                                    "schema": {"$ref": "#/definitions/ErrorResponse"}},
                    },
                }
            },
        },
        "definitions": {
            "ServiceInput": service_input,
            "ServiceOutput": {},
            "ErrorResponse": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}, "error_id": {"type": "string"}}}}},
        },
    }
