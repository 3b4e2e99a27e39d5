"""Pydantic models of the model registry, environment registry and web service (deployment) payloads."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from jupyter_aml.core.models import (
    NAME_PATTERN,
    EnvironmentSpec,
    RunFile,
    Sha256,
    Strict,
    StrMap,
    _check_str_map,
)

MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$"
SERVICE_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$"  # Azure v1: 3-32 chars, lowercase, digits, dashes
PYTHON_VERSION_PATTERN = r"^3\.[0-9]{1,2}$"
MAX_SAMPLE_INPUT = 64 * 1024
KEY_VALUE_CHARS = r"[A-Za-z0-9_.~+/=-]+"
# what InferenceConfigSpec._relative takes: not absolute, no '..' segment ('/' or '\\' separated)
ENTRY_SCRIPT_PATTERN = r"^(?![/\\])(?![\s\S]*(?:^|[/\\])\.\.(?:[/\\]|$))[\s\S]+$"

ModelName = Annotated[str, Field(pattern=MODEL_NAME_PATTERN)]
ServiceName = Annotated[str, Field(pattern=SERVICE_NAME_PATTERN)]
ModelRef = Annotated[str, Field(min_length=1, max_length=300)]  # "name:version" or "name" (latest)


# -- models ------------------------------------------------------------------------------------------------
class ModelFile(Strict):
    path: str = Field(min_length=1, max_length=1024)
    sha256: Sha256
    size: int = Field(ge=0)


class _ModelVersion(Strict):
    """What every registration says of the new version, wherever its files come from."""

    name: ModelName
    path: str | None = Field(default=None, max_length=1024)
    description: str = Field(default="", max_length=5000)
    tags: StrMap = Field(default_factory=dict)
    properties: StrMap = Field(default_factory=dict)
    framework: str | None = Field(default=None, max_length=64)
    framework_version: str | None = Field(default=None, max_length=64)
    sample_input: Any = None

    _tags = field_validator("tags", "properties")(_check_str_map)


class ModelCreate(_ModelVersion):
    """Register a model version from uploaded blobs (``files``) or from a run's files (``run_id`` + ``run_path``).

    ``path`` is the registered file or folder's own name (``model.pkl``, ``bert/``); every file path starts
    with it. From a run, files are registered by reference: they already are blobs.
    """

    # from files or from a run, never both or neither
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"properties": {"files": {"type": "array", "minItems": 1}, "run_id": {"type": "null"}}, "required": ["files"]},
        {"properties": {"run_id": {"type": "string"}, "files": {"type": "null"}}, "required": ["run_id"]},
    ]})

    files: list[ModelFile] | None = Field(default=None, max_length=100_000)
    run_id: str | None = Field(default=None, min_length=1, max_length=320)
    run_path: str | None = Field(default=None, max_length=1024)


class RunModelCreate(_ModelVersion):
    """Register a file or folder of the run in the URL (``run_path``, e.g. ``outputs/model.pkl``) as a model
    version, by reference and with the run as its lineage: ``run.register_model`` inside a training script."""

    run_path: str = Field(min_length=1, max_length=1024)

    def for_run(self, run_id: str) -> ModelCreate:
        return ModelCreate.model_validate({**self.model_dump(), "run_id": run_id})


class ModelUpdate(Strict):
    tags: StrMap | None = None
    remove_tags: list[str] = Field(default_factory=list)
    properties: StrMap | None = None
    description: str | None = Field(default=None, max_length=5000)

    _tags = field_validator("tags", "properties")(_check_str_map)


class Model(BaseModel):
    id: str  # "name:version", as in Azure ML v1
    name: str
    version: int
    workspace: str
    path: str
    description: str
    framework: str | None
    framework_version: str | None
    sample_input: Any = None
    run_id: str | None
    run_number: str | None = None  # its run's display number ("4", "4.1"), for "#4.1" where the studio names it
    experiment: str | None
    created_by: str
    created_at: datetime
    file_count: int
    total_size: int
    tags: dict[str, str]
    properties: dict[str, str]
    deployments: list[str] = Field(default_factory=list)  # web services using this version


class ModelList(BaseModel):
    items: list[Model]


class ModelFileList(BaseModel):
    items: list[RunFile]


# -- environments ------------------------------------------------------------------------------------------
class EnvironmentDefinition(EnvironmentSpec):
    """An environment to register: the run environment spec plus the Python version it needs."""

    # the environment registry's name rule (runtime/names.py), documented here; "AzureML-" names are curated
    name: str = Field(default="default", max_length=255,
                      json_schema_extra={"pattern": "^(?!AzureML-)" + MODEL_NAME_PATTERN[1:]})
    python_version: str | None = Field(default=None, pattern=PYTHON_VERSION_PATTERN)


class RegisteredEnvironment(BaseModel):
    name: str
    version: int
    workspace: str
    spec_hash: str
    spec: EnvironmentDefinition  # with ``version`` set to this version
    created_at: datetime


class EnvironmentList(BaseModel):
    items: list[RegisteredEnvironment]


class EnvironmentBuild(BaseModel):
    """The outcome of building (or finding already built) an environment's Python interpreter."""

    environment: str  # name:version
    python: str  # the interpreter runs and local web services of this environment use
    venv_hash: str | None  # the cached venv's id; None for a user-managed interpreter
    built: bool  # False when the venv was already cached
    seconds: float
    log: list[str]
    image: str | None = None  # the Docker image, for an environment with docker_enabled (docs/environments.md)


# -- web services ------------------------------------------------------------------------------------------
class InferenceConfigSpec(Strict):
    """The scoring code (a snapshot of ``source_directory``) and the environment it runs in."""

    entry_script: str = Field(min_length=1, max_length=1024, json_schema_extra={"pattern": ENTRY_SCRIPT_PATTERN})
    snapshot_id: Sha256  # the uploaded source_directory; entry_script is a file in it
    environment: EnvironmentDefinition | None = None  # inline definition (hashed like a registered one)
    environment_ref: str | None = Field(default=None, max_length=300)  # "name:version" or "name"

    @field_validator("entry_script")
    @classmethod
    def _relative(cls, value: str) -> str:
        if value.startswith(("/", "\\")) or ".." in value.replace("\\", "/").split("/"):
            raise ValueError("entry_script must be a path inside source_directory")
        return value


ComputeTypeName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]


class DataCollectionSpec(Strict):
    """Model data collection of a service with ``collect_model_data`` (docs/data-collection.md): the share of
    ``collect()`` calls kept, the largest record (its CSV text) and the most bytes a partition takes per day."""

    sample_rate: float = Field(default=1.0, ge=0, le=1)
    max_record_bytes: int = Field(default=1024 * 1024, ge=64, le=64 * 1024 * 1024)
    max_day_bytes: int = Field(default=1024**3, ge=1024, le=1024**4)


class DeploymentConfigSpec(Strict):
    """How the service runs. ``local``: replica processes on this machine; ``docker``: containers; other names:
    launchers installed under the ``jupyter_aml.serving`` entry points (checked when the service is created)."""

    compute_type: ComputeTypeName = "local"
    port: int | None = Field(default=None, ge=1, le=65535)
    # v1's collect_model_data: ModelDataCollector.collect() in the scoring script writes to workspaceblobstore
    collect_model_data: StrictBool = False
    data_collection: DataCollectionSpec = Field(default_factory=DataCollectionSpec)
    replicas: int = Field(default=1, ge=1, le=32)
    auth_enabled: StrictBool = True
    scoring_timeout_ms: int = Field(default=60_000, ge=100, le=3_600_000)
    max_request_bytes: int = Field(default=128 * 1024 * 1024, ge=1024, le=1024**3)  # the MNIST test set as JSON
    max_concurrent_requests_per_container: int = Field(default=1, ge=1, le=256)
    startup_timeout_seconds: int = Field(default=300, ge=5, le=3600)
    cpu_cores: float | None = Field(default=None, gt=0, le=256)  # docker limits
    memory_gb: float | None = Field(default=None, gt=0, le=1024)
    # v1 AKS autoscaling: replicas follow the requests in flight per replica (jupyter_aml.serving.autoscale_policy)
    autoscale_enabled: StrictBool = False
    autoscale_min_replicas: int = Field(default=1, ge=1, le=32)
    autoscale_max_replicas: int = Field(default=10, ge=1, le=32)
    autoscale_target_utilization: int = Field(default=70, ge=1, le=100)  # percent of a replica's concurrency
    autoscale_refresh_seconds: float = Field(default=1.0, ge=0.1, le=3600)
    # a replica whose run() overran the scoring timeout by this long is replaced (jupyter_aml.serving.guard)
    replica_overrun_limit_seconds: float = Field(default=60.0, ge=0.1, le=86400)
    # dynamic batching: up to max_batch_size requests in one run_batch() call (jupyter_aml.serving.batching)
    max_batch_size: int = Field(default=1, ge=1, le=1024)
    max_batch_wait_ms: int = Field(default=0, ge=0, le=60_000)
    # autoscale_min_replicas <= autoscale_max_replicas is checked by the serving manager (400, not 422)


class DeploymentCreate(Strict):
    name: ServiceName
    models: list[ModelRef] = Field(min_length=1, max_length=100)
    inference_config: InferenceConfigSpec
    deployment_config: DeploymentConfigSpec = Field(default_factory=DeploymentConfigSpec)
    description: str = Field(default="", max_length=5000)
    tags: StrMap = Field(default_factory=dict)
    overwrite: StrictBool = False

    _tags = field_validator("tags")(_check_str_map)


# DeploymentUpdate fields applied to the running service's deployment_config without a new revision
IN_PLACE_SCALING = ("autoscale_enabled", "autoscale_min_replicas", "autoscale_max_replicas",
                    "autoscale_target_utilization", "autoscale_refresh_seconds", "replica_overrun_limit_seconds")


class DeploymentUpdate(Strict):
    models: list[ModelRef] | None = Field(default=None, min_length=1, max_length=100)
    inference_config: InferenceConfigSpec | None = None
    replicas: int | None = Field(default=None, ge=1, le=32)
    scoring_timeout_ms: int | None = Field(default=None, ge=100, le=3_600_000)
    max_request_bytes: int | None = Field(default=None, ge=1024, le=1024**3)
    auth_enabled: StrictBool | None = None
    description: str | None = Field(default=None, max_length=5000)
    tags: StrMap | None = None
    autoscale_enabled: StrictBool | None = None  # the autoscale settings change in place, no new revision
    autoscale_min_replicas: int | None = Field(default=None, ge=1, le=32)
    autoscale_max_replicas: int | None = Field(default=None, ge=1, le=32)
    autoscale_target_utilization: int | None = Field(default=None, ge=1, le=100)
    autoscale_refresh_seconds: float | None = Field(default=None, ge=0.1, le=3600)
    replica_overrun_limit_seconds: float | None = Field(default=None, ge=0.1, le=86400)

    _tags = field_validator("tags")(_check_str_map)


ServiceState = Literal["Transitioning", "Healthy", "Unhealthy", "Failed"]
ReplicaState = Literal["starting", "ready", "suspect", "draining", "dead"]


class ServiceError(BaseModel):
    """Why a web service or its last rollout failed (an error body, or just a message)."""

    message: str
    code: str | None = None
    hint: str | None = None
    details: Any = None


class InferenceConfig(BaseModel):
    """The resolved scoring code and environment of a revision (what ``InferenceConfigSpec`` resolved to)."""

    entry_script: str
    snapshot_id: str
    environment: EnvironmentDefinition
    environment_ref: str | None = None  # "name:version" when a registered environment was named
    environment_hash: str


class Operation(BaseModel):
    kind: Literal["create", "update", "restart"]
    status: Literal["Running", "Succeeded", "Failed"]
    revision: int
    started_at: datetime
    ended_at: datetime | None = None
    error: ServiceError | None = None


class ReplicaView(BaseModel):
    """One live replica process or container of the revision taking traffic."""

    index: int
    revision: int
    state: ReplicaState
    inflight: int
    restarts: int
    served: int
    pid: int | None
    port: int | None
    overdue: int = 0  # requests whose run() overran the scoring timeout and is still running: busy until it returns


class Webservice(BaseModel):
    name: str
    workspace: str
    compute_type: str
    state: ServiceState
    revision: int
    models: list[str]  # "name:version" of the revision taking traffic
    pending_models: list[str] | None = None
    scoring_uri: str | None
    swagger_uri: str | None
    port: int | None
    auth_enabled: bool
    inference_config: InferenceConfig
    deployment_config: DeploymentConfigSpec
    image_id: str | None
    operation: Operation | None
    error: ServiceError | None
    replicas: list[ReplicaView] = Field(default_factory=list)  # live view, filled in by the serving manager
    tags: dict[str, str]
    description: str
    created_by: str
    created_at: datetime
    updated_at: datetime


class WebserviceList(BaseModel):
    items: list[Webservice]


class ServiceKeys(BaseModel):
    primary_key: str
    secondary_key: str


class RegenerateKey(Strict):
    key_type: Literal["Primary", "Secondary"]
    key_value: str | None = Field(default=None, min_length=16, max_length=128,
                                  json_schema_extra={"pattern": "^" + KEY_VALUE_CHARS + "$"})

    @field_validator("key_value")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(KEY_VALUE_CHARS, value):
            raise ValueError("a key may hold letters, digits and _.~+/=- only")
        return value


class ServiceLogs(BaseModel):
    lines: list[str]


class TelemetryPoint(BaseModel):
    t: datetime  # start of the minute
    requests: int
    errors_4xx: int
    errors_5xx: int
    latency_ms_mean: float | None
    latency_ms_p50: float | None
    latency_ms_p90: float | None
    latency_ms_p99: float | None


class ScalingEvent(BaseModel):
    """A change of the replica count (autoscaling) or a replica replaced by the hung-replica guard."""

    t: datetime
    kind: Literal["scale_up", "scale_down", "replaced"]
    from_replicas: int
    to_replicas: int
    message: str  # "scaled from 1 to 3 replicas: 2.4 in flight per replica over 70% target"


class Telemetry(BaseModel):
    name: str
    requests: int
    errors_4xx: int
    errors_5xx: int
    latency_ms_p50: float | None
    latency_ms_p90: float | None
    latency_ms_p99: float | None
    points: list[TelemetryPoint]
    data_collection: dict[str, int] | None = None  # collect_model_data's counters (collected, dropped, ...)
    events: list[ScalingEvent] = Field(default_factory=list)  # newest last; kept while the service runs
    # max_batch_size > 1: {batches, requests, largest} sent since the service started in this process
    batching: dict[str, int] | None = None


class Image(BaseModel):
    id: str  # the content hash: environment + model files + scoring code
    tag: str
    workspace: str
    docker_id: str
    base_image: str
    models: list[str]
    snapshot_id: str | None
    size: int
    created_at: datetime


class ImageList(BaseModel):
    items: list[Image]


__all__ = [
    "NAME_PATTERN",
    "DeploymentConfigSpec",
    "DeploymentCreate",
    "DeploymentUpdate",
    "EnvironmentBuild",
    "EnvironmentDefinition",
    "EnvironmentList",
    "Image",
    "ImageList",
    "InferenceConfig",
    "InferenceConfigSpec",
    "Model",
    "ModelCreate",
    "ModelFile",
    "ModelFileList",
    "ModelList",
    "ModelUpdate",
    "Operation",
    "RegenerateKey",
    "RegisteredEnvironment",
    "ReplicaState",
    "ReplicaView",
    "RunModelCreate",
    "ScalingEvent",
    "ServiceError",
    "ServiceKeys",
    "ServiceLogs",
    "ServiceState",
    "Telemetry",
    "TelemetryPoint",
    "Webservice",
    "WebserviceList",
]
