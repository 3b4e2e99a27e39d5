"""REST payloads of datastores: what registering takes, what a datastore shows (never a credential), the files
listed through the service, and the fsspec location handed to a caller allowed to read the credentials.

Credential fields are ``SecretStr``: a model's repr, ``str`` and ``model_dump`` mask them, so a request body
logged by accident or an error quoting the model shows ``**********``, not the key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    SecretStr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

DATASTORE_NAME_PATTERN = r"^[A-Za-z0-9_]{1,100}$"  # v1: letters, digits and underscores, case-insensitive
WORKSPACE_BLOB_STORE = "workspaceblobstore"
KINDS = ("workspaceblobstore", "local", "s3", "azure_blob")
# v1's datastore_type of each kind (workspaceblobstore plays v1's Azure Blob default: a folder under the root)
DATASTORE_TYPES = {"workspaceblobstore": "AzureBlob", "local": "LocalFolder", "s3": "S3", "azure_blob": "AzureBlob"}

# the fields each registrable kind takes (besides name, kind, overwrite, skip_validation, create_if_not_exists)
KIND_FIELDS: dict[str, frozenset[str]] = {
    "local": frozenset({"path"}),
    "s3": frozenset({"bucket_name", "prefix", "endpoint_url", "region", "access_key_id", "secret_access_key"}),
    "azure_blob": frozenset({"container_name", "account_name", "account_key", "sas_token", "protocol", "endpoint"}),
}
CREDENTIAL_FIELDS = ("secret_access_key", "access_key_id", "account_key", "sas_token")


def _password(max_length: int) -> WithJsonSchema:
    """A credential's schema: optional, but never null (the document says so, so that "both or neither" and
    "not both" are rules of the schema, not of the code alone)."""
    return WithJsonSchema({"type": "string", "format": "password", "writeOnly": True, "minLength": 1,
                           "maxLength": max_length})


Secret1K = Annotated[SecretStr | None, Field(min_length=1, max_length=1024), _password(1024)]
Secret4K = Annotated[SecretStr | None, Field(min_length=1, max_length=4096), _password(4096)]
Secret8K = Annotated[SecretStr | None, Field(min_length=1, max_length=8192), _password(8192)]


def _schema_extra(extra: dict[str, Any]) -> Any:
    """The model's schema with ``extra`` and without a ``null`` default on credentials (it is no valid value)."""
    def edit(schema: dict[str, Any]) -> None:
        for name in CREDENTIAL_FIELDS:
            schema.get("properties", {}).get(name, {}).pop("default", None)
        schema.update(extra)

    return edit


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may be left out, but not null")
    return value


class _Create(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)  # an error never quotes a key

    name: str = Field(pattern=DATASTORE_NAME_PATTERN, description="letters, digits, underscores; case-insensitive")
    description: str = Field(default="", max_length=5000)
    overwrite: bool = Field(default=False, description="replace a datastore of this name (and its credentials)")
    create_if_not_exists: bool = Field(default=False, description="create the folder, bucket or container")
    skip_validation: bool = Field(default=False, description="do not list the store before registering it")


class LocalDatastoreCreate(_Create):
    """A folder on the service's machine: absolute, existing (or made with create_if_not_exists)."""

    kind: Literal["local"]
    path: str = Field(min_length=1, max_length=4096)


class S3DatastoreCreate(_Create):
    """An S3-compatible bucket (AWS, MinIO, Ceph, ...): both keys or neither (anonymous access)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, json_schema_extra=_schema_extra({
        "dependentRequired": {"access_key_id": ["secret_access_key"], "secret_access_key": ["access_key_id"]}}))

    kind: Literal["s3"]
    bucket_name: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
    prefix: str | None = Field(default=None, max_length=1024, description="a folder inside the bucket")
    endpoint_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$", max_length=2048)
    region: str | None = Field(default=None, pattern=r"^[a-z0-9-]{1,64}$")
    access_key_id: Secret1K = None
    secret_access_key: Secret4K = None

    _keys_not_null = field_validator("access_key_id", "secret_access_key", mode="before")(_not_null)

    @model_validator(mode="after")
    def _both_keys(self) -> S3DatastoreCreate:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("give both access_key_id and secret_access_key, or neither (anonymous access)")
        return self


class AzureBlobDatastoreCreate(_Create):
    """An Azure Blob container through adlfs (refused, naming the package, while adlfs is not installed)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, json_schema_extra=_schema_extra({
        "not": {"required": ["account_key", "sas_token"]}}))

    kind: Literal["azure_blob"]
    container_name: str = Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])?$")
    account_name: str = Field(pattern=r"^[a-z0-9]{3,24}$")
    account_key: Secret4K = None
    sas_token: Secret8K = None
    protocol: Literal["https"] | None = None
    endpoint: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.\-:]{1,255}$")

    _keys_not_null = field_validator("account_key", "sas_token", mode="before")(_not_null)

    @model_validator(mode="after")
    def _one_credential(self) -> AzureBlobDatastoreCreate:
        if self.account_key is not None and self.sas_token is not None:
            raise ValueError("give account_key or sas_token, not both")
        return self


AnyDatastoreCreate = LocalDatastoreCreate | S3DatastoreCreate | AzureBlobDatastoreCreate


class DatastoreCreate(RootModel[Annotated[AnyDatastoreCreate, Field(discriminator="kind")]]):
    """Register a datastore: one body per kind (``kind`` says which). Credentials go to the workspace's key
    vault, never into the datastore's record; the store is listed once first (unless ``skip_validation``), so
    wrong credentials register nothing. Credential fields are masked in every repr and dump."""

    model_config = ConfigDict(hide_input_in_errors=True)


class Datastore(BaseModel):
    """A registered datastore as every caller sees it: where it is, never its credentials."""

    name: str
    kind: str
    datastore_type: str  # v1's name of the kind: AzureBlob, S3, LocalFolder
    is_default: bool
    description: str = ""
    location: str  # printable, no credentials: the folder, s3://bucket/prefix, abfs://container
    has_credentials: bool
    path: str | None = None
    bucket_name: str | None = None
    prefix: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    container_name: str | None = None
    account_name: str | None = None
    protocol: str | None = None
    endpoint: str | None = None
    created_by: str
    created_at: datetime


class DatastoreList(BaseModel):
    items: list[Datastore]
    default: str


class DatastoreFile(BaseModel):
    path: str  # relative to the datastore's root, '/'-separated
    size: int
    fingerprint: str  # changes when the content does: mtime and size, or the object's ETag


class DatastoreFileList(BaseModel):
    items: list[DatastoreFile]


class DatastoreUpload(BaseModel):
    path: str
    size: int
    written: bool  # false: the file was there and overwrite was false, so it was kept


class StorageLocation(BaseModel):
    """The fsspec location of a datastore, credentials included: what a client that reads the store itself
    (a dataset's to_pandas_dataframe, an S3 upload) needs. Handed out only for ``datastores/listsecrets``,
    and every hand-out is in the activity log."""

    name: str
    protocol: str
    root: str
    options: dict[str, Any]
    reachable_from: Literal["anywhere", "service-host"]  # a local folder is only a path on the service's machine
