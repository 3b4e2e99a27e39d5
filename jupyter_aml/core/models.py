"""Pydantic models of every REST payload. The OpenAPI document is generated from these."""

from __future__ import annotations

import json
import re
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema, field_validator, model_validator

from jupyter_aml import statuses
from jupyter_aml.errors import InvalidInput

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
# v1's experiment names, plus spaces inside (never at either end): MLflow users name experiments freely
# ("MLflow Quickstart" in its own quickstart), and the same experiment is one in both APIs. Run ids made from
# such a name put '_' for the space (core/runs.py), so ids stay safe in paths, URLs and MLflow's run-id rule.
EXPERIMENT_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9_. -]{0,253}[A-Za-z0-9_.-])?$"
EXPERIMENT_NAME_HINT = "use letters, digits, '_', '-', '.' or spaces inside, starting with a letter or digit"
RESOURCE_PATH_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$"  # an environment's name in a path
SHA256_PATTERN = r"^[0-9a-f]{64}$"
ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
KEY_PATTERN = r"^[^\x00-\x1f]{1,255}$"
_KEY = re.compile(KEY_PATTERN[1:-1])  # fullmatch: re's '$' would let a trailing newline through
_PATH_CHARS = r"\x00-\x1f\x7f-\x9f\u2028\u2029/\\%:"
_SEGMENT = rf"(?!\.\.?(?:/|$))[^{_PATH_CHARS}\s](?:[^{_PATH_CHARS}]*[^{_PATH_CHARS}\s])?"
# A run-file path as runtime/names.py accepts it (documented only: that module's messages say what is wrong),
# without ':' and '%', which it takes only where they cannot spell a drive or an encoded '/' or '..'.
RUN_PATH_PATTERN = rf"^{_SEGMENT}(?:/{_SEGMENT})*$"
# tags and properties as _check_str_map takes them: printable keys, scalar values of up to 5000 characters
STR_MAP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"pattern": KEY_PATTERN},
    "additionalProperties": {"anyOf": [{"type": "string", "maxLength": 5000}, {"type": "number"},
                                       {"type": "boolean"}, {"type": "null"}]},
}
StrMap = Annotated[dict[str, Any], WithJsonSchema(STR_MAP_SCHEMA)]

Sha256 = Annotated[str, Field(pattern=SHA256_PATTERN)]
WorkspaceName = Annotated[str, Field(pattern=NAME_PATTERN)]
ExperimentName = Annotated[str, Field(pattern=EXPERIMENT_PATTERN)]


class RunStatus(str, Enum):
    QUEUED = "Queued"
    PREPARING = "Preparing"
    STARTING = "Starting"
    RUNNING = "Running"
    FINALIZING = "Finalizing"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"
    NOT_RESPONDING = "NotResponding"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(RunStatus(name) for name in statuses.TERMINAL_STATUSES)
ACTIVE_STATUSES = frozenset(set(RunStatus) - TERMINAL_STATUSES)


RunKind = Literal["script", "interactive", "child"]


def _json_kinds(annotation: Any) -> set[type]:
    """The scalar JSON kinds a field's annotation takes (int, float, bool), through ``X | None``."""
    args = getattr(annotation, "__args__", None)
    if args and getattr(annotation, "__origin__", None) is not Literal:
        return set().union(*(_json_kinds(a) for a in args))
    return {annotation} & {int, float, bool}


class Strict(BaseModel):
    """A request body. Unknown fields are refused, and so are values of another JSON type that pydantic's lax
    mode would convert (``false`` or ``"3"`` for a number, ``0`` for a boolean): the document calls them
    invalid. Integral floats (``3.0``) stay valid integers, as in JSON Schema."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _json_types(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for name, field in cls.model_fields.items():
            value = data.get(name)
            kinds = _json_kinds(field.annotation)
            if value is None or not kinds:
                continue
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if (bool in kinds and not isinstance(value, bool) and not (number and kinds - {bool})) or (
                kinds - {bool} and not number and not (isinstance(value, bool) and bool in kinds)
            ):
                want = " or ".join(sorted(k.__name__.replace("bool", "true/false") for k in kinds))
                raise ValueError(f"{name} must be {want}, not {json.dumps(value)[:40]}")
        return data


def _check_str_map(value: dict[str, Any] | None) -> dict[str, str] | None:
    if value is None:
        return None
    out: dict[str, str] = {}
    for key, item in value.items():
        if not _KEY.fullmatch(key):
            raise ValueError(f"key {key!r} must be 1-255 printable characters")
        if item is not None and not isinstance(item, str | int | float | bool):
            raise ValueError(f"value of {key!r} must be a string, number or boolean")
        text = "" if item is None else str(item)
        if len(text) > 5000:
            raise ValueError(f"value of {key!r} is longer than 5000 characters")
        out[key] = text
    return out


# Azure's identifiers, kept as labels so v1's config.json and Workspace(subscription_id, resource_group, name) work
AzureId = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f/\\]+$")]


class WorkspaceCreate(Strict):
    name: WorkspaceName
    description: str = Field(default="", max_length=5000)
    subscription_id: AzureId | None = None
    resource_group: AzureId | None = None
    location: AzureId | None = None


class WorkspaceUpdate(Strict):
    """Record Azure identifiers the workspace lacks (each is set once: another value is 409), or a description."""

    description: str | None = Field(default=None, max_length=5000)
    subscription_id: AzureId | None = None
    resource_group: AzureId | None = None
    location: AzureId | None = None


class Workspace(BaseModel):
    name: str
    description: str
    created_at: datetime
    subscription_id: str | None = None  # Azure's, when the workspace was named with them (a label here)
    resource_group: str | None = None
    location: str = "local"


class Experiment(BaseModel):
    id: str  # stable across a rename (reactivate(new_name=...)), as v1's experiment id
    name: str
    workspace: str
    created_at: datetime
    run_count: int  # top-level runs, the ones its run table lists
    child_run_count: int = 0  # runs under those (a sweep's trials, a pipeline's steps), at any depth
    tags: dict[str, str] = Field(default_factory=dict)
    archived_time: datetime | None = None  # set while archived: hidden from the default listing, as in v1


class ExperimentUpdate(Strict):
    """v1's ``Experiment.set_tags`` / ``tag`` (``tags`` are merged in) and ``remove_tags``."""

    tags: StrMap | None = None
    remove_tags: list[Annotated[str, Field(max_length=255)]] = Field(default_factory=list, max_length=500)

    _tags = field_validator("tags")(_check_str_map)


class LogFileList(BaseModel):
    """A run's log files by v1's names (``azureml-logs/70_driver_log.txt``, ...), for ``logFiles``."""

    items: list[str]


class ExperimentReactivate(Strict):
    """v1's ``Experiment.reactivate(new_name=None)``: with ``new_name`` the experiment comes back renamed."""

    new_name: ExperimentName | None = None


class WorkspaceList(BaseModel):
    items: list[Workspace]


class ExperimentList(BaseModel):
    items: list[Experiment]


class CondaSection(Strict):
    """v1's conda file as data: its conda packages are installed from PyPI (envbuild/conda.py maps the names)."""

    name: str | None = Field(default=None, max_length=255)
    channels: list[Annotated[str, Field(max_length=1024)]] = Field(default_factory=list, max_length=50)
    dependencies: list[Annotated[str, Field(max_length=1024)]] = Field(default_factory=list, max_length=500)
    pip: list[Annotated[str, Field(max_length=1024)]] = Field(default_factory=list, max_length=500)


class PythonSection(Strict):
    user_managed: StrictBool = True  # StrictBool: 0, 1 or "yes" are refused, as the document says
    interpreter_path: str | None = Field(default=None, max_length=1024)
    pip: list[Annotated[str, Field(max_length=1024)]] = Field(default_factory=list, max_length=500)
    conda_dependencies: CondaSection | None = None  # docs/environments.md


class EnvironmentSpec(Strict):
    name: str = Field(default="default", max_length=255)
    version: str | None = Field(default=None, max_length=64)
    python: PythonSection = Field(default_factory=PythonSection)
    env_vars: dict[str, str] = Field(default_factory=dict,
                                     json_schema_extra={"propertyNames": {"pattern": ENV_VAR_PATTERN}})
    docker_base_image: str | None = Field(default=None, max_length=512)
    # v1's DockerConfiguration(use_docker=True) / Environment.docker.enabled: the script runs in a container of
    # an image built from docker_base_image (a base image alone is for Docker web services). docs/docker-runs.md
    docker_enabled: StrictBool = False
    docker_shm_size: str | None = Field(default=None, pattern=r"^[1-9][0-9]{0,5}[bkmg]?$")
    # v1's Environment.docker.base_dockerfile: the run's base image is built from it (docs/environments.md)
    docker_base_dockerfile: str | None = Field(default=None, max_length=65536)
    python_version: str | None = Field(default=None, pattern=r"^3\.[0-9]{1,2}$")  # "3.11": found, never fetched

    @field_validator("env_vars")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not re.fullmatch(ENV_VAR_PATTERN[1:-1], key):
                raise ValueError(f"environment variable name {key!r} is not valid")
        return value


class DistributedConfig(Strict):
    """v1's ``PyTorchConfiguration`` / ``MpiConfiguration`` / ``TensorflowConfiguration``: ``process_count``
    processes of the script over ``node_count`` nodes, each with its rank's variables (docs/distributed.md)."""

    framework: Literal["PyTorch", "Mpi", "TensorFlow"]
    node_count: int = Field(default=1, ge=1, le=512)
    process_count: int = Field(default=1, ge=1, le=4096)  # in all, over every node
    communication_backend: str | None = Field(default=None, max_length=32)  # PyTorch: Nccl, Gloo, ...
    worker_count: int | None = Field(default=None, ge=0, le=4096)  # TensorFlow's worker tasks
    parameter_server_count: int | None = Field(default=None, ge=0, le=4096)  # and parameter servers

    def check_layout(self) -> None:
        """Cross-field rules the JSON schema cannot state: refused as bad input (400) when the run is submitted."""
        if self.process_count < self.node_count:
            raise InvalidInput(f"process_count {self.process_count} is less than node_count {self.node_count}: "
                               "every node runs at least one process",
                               hint="set process_count to at least node_count (docs/distributed.md)")
        if self.framework == "TensorFlow" and (self.worker_count or 0) + (self.parameter_server_count or 0) \
                != self.process_count:
            raise InvalidInput("a TensorFlow job's process_count is worker_count + parameter_server_count",
                               hint="TensorflowConfiguration(worker_count=N, parameter_server_count=M)")


DATA_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"  # v1: an input's name is a Python identifier
DataName = Annotated[str, Field(pattern=DATA_NAME_PATTERN)]


class DataInput(Strict):
    """A registered dataset a run reads (v1's ``dataset.as_named_input(name).as_mount()``): the agent lays its
    files out on the target before the script starts (``mount``/``download``), or the script reads it itself
    (``direct``: ``run.input_datasets[name]`` is the dataset)."""

    name: DataName
    dataset_id: str = Field(min_length=1, max_length=64)
    mode: Literal["mount", "download", "direct"] = "direct"
    path_on_compute: str | None = Field(default=None, max_length=1024)  # relative to the run's folder


class DataOutput(Strict):
    """A folder a run writes (v1's ``OutputFileDatasetConfig``), copied to ``destination`` on a datastore when
    the run ends (``{run-id}`` and ``{output-name}`` are filled in) and registered as a file dataset if asked."""

    name: DataName
    datastore: str = Field(default="workspaceblobstore", min_length=1, max_length=255)
    path: str = Field(default="dataset/{run-id}/{output-name}", min_length=1, max_length=1024)
    overwrite: StrictBool = True  # False (v1's as_upload default): a file already at the destination is a Conflict
    register_name: str | None = Field(default=None, min_length=1, max_length=255)
    register_description: str = Field(default="", max_length=5000)
    register_tags: StrMap = Field(default_factory=dict)

    _tags = field_validator("register_tags")(_check_str_map)


class RunConfig(Strict):
    script: str = Field(min_length=1, max_length=1024)
    arguments: list[Annotated[str, Field(max_length=8192)]] = Field(default_factory=list, max_length=1000)
    compute_target: str = Field(default="local", max_length=64)
    environment: EnvironmentSpec = Field(default_factory=EnvironmentSpec)
    max_run_duration_seconds: int | None = Field(default=None, ge=1, le=2**31 - 1)  # about 68 years; fits every store
    distributed: DistributedConfig | None = None  # v1's distributed_job_config (docs/distributed.md)
    inputs: list[DataInput] = Field(default_factory=list, max_length=100)  # datasets in the run (core/run_data.py)
    outputs: list[DataOutput] = Field(default_factory=list, max_length=100)


class GitInfo(BaseModel):
    model_config = ConfigDict(extra="allow")
    repository: str | None = None
    branch: str | None = None
    commit: str | None = None
    dirty: bool = False
    diff: str | None = Field(default=None, max_length=2 * 1024 * 1024)
    untracked: list[str] = Field(default_factory=list)
    diff_truncated: bool = False


class RunCreate(Strict):
    # a script run (the default kind) needs run_config and snapshot_id; an interactive one needs neither
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"properties": {"kind": {"const": "interactive"}}, "required": ["kind"]},
        {"properties": {"run_config": {"type": "object"}, "snapshot_id": {"type": "string"}},
         "required": ["run_config", "snapshot_id"]},
    ]})

    experiment: ExperimentName
    kind: Literal["script", "interactive"] = "script"
    snapshot_id: Sha256 | None = None
    run_config: RunConfig | None = None
    tags: StrMap = Field(default_factory=dict)
    properties: StrMap = Field(default_factory=dict)
    git: GitInfo | None = None
    display_name: str = Field(default="", max_length=255)
    description: str = Field(default="", max_length=5000)

    _tags = field_validator("tags", "properties")(_check_str_map)


class FolderRunCreate(Strict):
    """Submit a folder on the server (a path relative to the Jupyter root) as a script run."""

    # each name at most 255 characters, as file systems allow (a longer one once answered 500)
    folder: str = Field(default="", max_length=1024, pattern=r"^/*(?:[^/\x00]{1,255}(?:/+|$))*$")
    experiment: ExperimentName
    run_config: RunConfig
    tags: StrMap = Field(default_factory=dict)
    display_name: str = Field(default="", max_length=255)
    description: str = Field(default="", max_length=5000)

    _tags = field_validator("tags")(_check_str_map)


class ChildCreate(Strict):
    display_name: str = Field(default="", max_length=255)
    tags: StrMap = Field(default_factory=dict)
    properties: StrMap = Field(default_factory=dict)
    count: int = Field(default=1, ge=1, le=1000)

    _tags = field_validator("tags", "properties")(_check_str_map)


class RunUpdate(Strict):
    tags: StrMap | None = None
    remove_tags: list[str] = Field(default_factory=list)
    properties: StrMap | None = None
    display_name: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=5000)

    _tags = field_validator("tags", "properties")(_check_str_map)


class RunErrorFrame(Strict):
    """Where a failed script's exception was raised: its innermost frame."""

    file: str = Field(max_length=4096)
    line: int
    function: str = Field(max_length=1000)


class RunError(BaseModel):
    message: str = Field(max_length=10000)
    details: str | None = Field(default=None, max_length=100000)
    # A script that died of a Python exception: its type, message and last frame (the agent reads them from
    # the traceback in stderr), so the headline says what failed and where, as v1's error does.
    code: str | None = Field(default=None, max_length=100)
    exception_type: str | None = Field(default=None, max_length=1000)
    exception_message: str | None = Field(default=None, max_length=10000)
    frame: RunErrorFrame | None = None


class StatusUpdate(Strict):
    status: RunStatus
    error: RunError | None = None
    exit_code: int | None = None
    # the run's last journal records, stored before the status changes: an interactive run's complete() is then
    # one request instead of a flush and a status report (a batch refused whole leaves the status unchanged)
    journal: JournalBatch | None = None


class MetricColumn(BaseModel):
    """A run's metric as a listing column (``GET runs?metrics=loss``): its last, lowest and highest value."""

    last: float | None
    min: float | None
    max: float | None


class Run(BaseModel):
    id: str
    number: int  # v1's run.number: 1, 2, 3 per experiment for top-level runs; a child's place under its parent
    display_number: str  # the number as shown after "#": "4" for a top-level run, "4.1" for its first child
    experiment: str
    workspace: str
    parent_id: str | None
    root_id: str
    kind: RunKind
    display_name: str
    description: str
    status: RunStatus
    created_at: datetime
    start_time: datetime | None
    end_time: datetime | None
    duration_seconds: float | None
    heartbeat_at: datetime | None
    submitter: str
    compute_target: str | None
    run_config: RunConfig | None
    snapshot_id: str | None
    git: GitInfo | None
    error: RunError | None
    exit_code: int | None
    tags: dict[str, str]
    properties: dict[str, str]
    metric_columns: dict[str, MetricColumn | None] | None = None  # only when the listing asked for metrics=
    param_columns: dict[str, str | None] | None = None  # only when the listing asked for params=


class RunPage(BaseModel):
    items: list[Run]
    next_page_token: str | None
    total: int


class RunList(BaseModel):
    items: list[Run]


class SnapshotFile(Strict):
    path: str = Field(min_length=1, max_length=1024)
    sha256: Sha256
    size: int = Field(ge=0)
    mode: int = Field(default=0o644, ge=0, le=0o777)


class SnapshotCreate(Strict):
    files: list[SnapshotFile] = Field(max_length=100_000)


class Snapshot(BaseModel):
    id: str
    file_count: int
    total_size: int
    created_at: datetime
    files: list[SnapshotFile] | None = None


class HashList(Strict):
    hashes: list[Sha256] = Field(max_length=100_000)


class MissingBlobs(BaseModel):
    missing: list[str]


class BlobInfo(BaseModel):
    sha256: str
    size: int


class RunFile(Strict):
    path: str = Field(min_length=1, max_length=1024)
    sha256: Sha256
    size: int = Field(ge=0)


class RunFiles(Strict):
    files: list[RunFile] = Field(max_length=100_000)


class RunFileList(BaseModel):
    items: list[RunFile]


class JournalRecord(BaseModel):
    model_config = ConfigDict(extra="allow")
    seq: int = Field(ge=1)
    run_id: str
    t: float
    k: Literal["m", "l", "r", "tb", "i", "tag", "prop", "cm", "at", "pr", "rs"]
    n: str = Field(min_length=1, max_length=255)
    v: Any = None
    s: float | None = None
    d: str | None = None
    sha256: str | None = None
    path: str | None = None
    vt: Literal["f"] | None = None  # a scalar's v is a marker string for a non-finite float
    nf: int | None = None  # a nested v holds marker strings for non-finite floats


class JournalBatch(Strict):
    stream: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    # Each record is checked on its own (core/journal_check.py): one that is not a valid JournalRecord is
    # refused alone in JournalAck.rejected, so the document asks only for objects (a batch holding anything
    # else is refused whole) and a schema-valid batch is never refused for one of its records.
    records: list[JournalRecord] = Field(
        max_length=100_000,
        json_schema_extra={"items": {"type": "object", "description": "a JournalRecord: {seq, run_id, t, k, ...}; "
                                     "an invalid one is refused alone, in the answer's rejected"}},
    )


class JournalRejection(BaseModel):
    """One record of a journal batch the service refused (and will never store): the sender must not resend it."""

    index: int  # position of the record in the batch's ``records``
    seq: int | None  # its seq, or None when it had no usable one (missing, not an integer, >= 2**63)
    reason: str


class JournalAck(BaseModel):
    """``acked_seq`` covers every record stored or rejected; ``rejected`` lists the refused ones and why."""

    acked_seq: int
    rejected: list[JournalRejection] = []


MetricKind = Literal["scalar", "list", "row", "table", "image",
                     "confusion_matrix", "accuracy_table", "predictions", "residuals"]
# A scalar point's type (runtime/metric_values.py): float, int, bool, None, str.
ValueType = Literal["f", "i", "b", "n", "s"]


class ImageValue(BaseModel):
    """One value of an ``image`` metric in a history's ``values``: the stored file, by hash (and its run path)."""

    sha256: str | None  # None only for a record that named no file (kept, as every other value is)
    path: str | None = None


class MetricSummary(BaseModel):
    run_id: str
    name: str
    kind: MetricKind
    description: str
    count: int
    last_value: float | None
    last_step: float | None
    min: float | None
    max: float | None
    # What the series holds: one ValueType, "mixed", or None (not a scalar). ``last`` is the latest value as
    # logged (a non-finite float as "NaN" / "Infinity" / "-Infinity"; a string as itself when last_type is s).
    value_type: str | None = None
    last: Any = None
    last_type: ValueType | None = None


class MetricSummaryList(BaseModel):
    items: list[MetricSummary]


class MetricHistory(BaseModel):
    run_id: str
    name: str
    kind: MetricKind
    total: int
    downsampled: bool = False
    steps: list[float] | None = None
    values: list[Any]
    times: list[float] | None = None
    # Scalars: one ValueType per value when any is not a float; None means all floats, and then the strings
    # "NaN", "Infinity" and "-Infinity" are the non-finite ones. Other kinds: ``nonfinite`` lists the indices
    # of values in which those strings stand for non-finite floats (docs/runs-and-metrics.md).
    types: list[ValueType] | None = None
    nonfinite: list[int] | None = None


class MetricHistoryList(BaseModel):
    """Every metric of a run (and its descendants) with all its values: ``Run.get_metrics()`` in one call."""

    items: list[MetricHistory]


class LogLineIn(Strict):
    stream: str = Field(default="stdout", max_length=64)
    text: str = Field(max_length=65536)
    ts: float | None = None


class LogBatch(Strict):
    lines: list[LogLineIn] = Field(max_length=50_000)


class LogLine(BaseModel):
    id: int
    stream: str
    ts: float
    text: str


class LogPage(BaseModel):
    items: list[LogLine]
    last_id: int


class Heartbeat(BaseModel):
    status: RunStatus


class ItemCount(BaseModel):
    count: int


class ErrorBody(BaseModel):
    code: str
    message: str
    hint: str | None = None
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody
