"""Pydantic models of the key vault's REST payloads (core/keyvault.py).

Names and values are checked by the vault itself (one rule, one message: Azure Key Vault's), not by these
models, so a bad name reads the same from every face; and a body that does not parse is answered without
echoing what it held (server/routes/secrets.py), since what it held may be a secret.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, WithJsonSchema

from jupyter_aml.core.models import Strict

SECRET_NAME_PATTERN = r"^[0-9a-zA-Z-]{1,127}$"
MAX_VALUE_CHARS = 25 * 1024  # Azure Key Vault's limit on a value (25k)
MAX_BATCH = 100
# What the document says a name and a value take; the vault checks them (one message, one rule)
SecretName = Annotated[str, WithJsonSchema({"type": "string", "pattern": SECRET_NAME_PATTERN})]
SecretValue = Annotated[str, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_VALUE_CHARS})]


class SecretInfo(BaseModel):
    name: str


class SecretList(BaseModel):
    """The names in a workspace's key vault, sorted: never a value."""

    items: list[SecretInfo]


class SecretSet(Strict):
    """The value of one secret (PUT secrets/{name}); not empty, at most 25,600 characters."""

    value: SecretValue


class SecretsSet(Strict):
    """Several secrets set in one transaction: all of them, or none."""

    secrets: dict[SecretName, SecretValue] = Field(
        description="secret name -> value",
        json_schema_extra={"minProperties": 1, "maxProperties": MAX_BATCH,
                           "propertyNames": {"pattern": SECRET_NAME_PATTERN}})


class SecretNames(Strict):
    """Which secrets to read (at most 100 names); every value read is in the activity log."""

    names: list[SecretName] = Field(json_schema_extra={"minItems": 1, "maxItems": MAX_BATCH})
    missing_ok: bool = Field(default=False, description="a missing name answers null (v1's get_secrets) "
                             "instead of 404 for the whole request")


class SecretNameList(BaseModel):
    """The names a set or a delete touched (never a value)."""

    names: list[str]


class SecretValues(BaseModel):
    """Secret values by the names asked for (null: not found, with missing_ok): the one answer that holds
    values, sent with no-store."""

    secrets: dict[str, str | None]
