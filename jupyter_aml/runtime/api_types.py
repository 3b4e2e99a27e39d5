# ruff: noqa: E501
"""GENERATED FILE - do not edit by hand: ``python scripts/gen_api_types_py.py``.

Request and response shapes of the jupyter-aml REST API as TypedDicts, and its routes as path
templates, generated from the server's OpenAPI document (itself generated from the pydantic models in
``jupyter_aml/core``). Stdlib only, for the run runtime. tests/runtime/test_api_types.py fails when this
file is out of date.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

RunStatus = Literal['Queued', 'Preparing', 'Starting', 'Running', 'Finalizing', 'Completed', 'Failed', 'Canceled', 'NotResponding']

class _AccessRequired(TypedDict):
    user: str
    role: str | None
    actions: list[str]


class Access(_AccessRequired, total=False):
    """The caller's own access to a workspace: the role and the concrete actions it grants (an administrator"""
    admin: bool


class ActionInfo(TypedDict):
    name: str
    description: str


class ActionList(TypedDict):
    items: list[ActionInfo]


class Activity(TypedDict):
    id: int
    time: str
    user: str
    action: str
    target_kind: str
    target: str
    detail: dict[str, Any]


class ActivityPage(TypedDict):
    items: list[Activity]
    next_cursor: str | None


class _AzureBlobDatastoreCreateRequired(TypedDict):
    name: str
    kind: Literal['azure_blob']
    container_name: str
    account_name: str


class AzureBlobDatastoreCreate(_AzureBlobDatastoreCreateRequired, total=False):
    """An Azure Blob container through adlfs (refused, naming the package, while adlfs is not installed)."""
    description: str
    overwrite: bool
    create_if_not_exists: bool
    skip_validation: bool
    account_key: str
    sas_token: str
    protocol: Literal['https'] | None
    endpoint: str | None


class BlobInfo(TypedDict):
    sha256: str
    size: int


class ChildCreate(TypedDict, total=False):
    display_name: str
    tags: dict[str, str | float | bool | None]
    properties: dict[str, str | float | bool | None]
    count: int


class _ColumnProfileRequired(TypedDict):
    name: str
    type: str
    arrow_type: str
    count: int
    missing: int


class ColumnProfile(_ColumnProfileRequired, total=False):
    min: Any
    max: Any
    mean: float | None


class _ColumnTypeSpecRequired(TypedDict):
    type: Literal['string', 'long', 'float', 'bool', 'datetime']


class ColumnTypeSpec(_ColumnTypeSpecRequired, total=False):
    formats: list[str]


class _ComputeRequired(TypedDict):
    name: str
    type: str
    max_concurrent_runs: int


class Compute(_ComputeRequired, total=False):
    """A compute as listed: its record, merged with what its backend reports now."""
    origin: Literal['workspace', 'config']
    state: str
    error: str | None
    vm_size: str | None
    vcpus: float | None
    memory_gb: float | None
    min_nodes: int | None
    max_nodes: int | None
    idle_seconds_before_scaledown: int | None
    idle_time_before_shutdown_minutes: int | None
    vm_priority: str | None
    scheduler_address: str | None
    cluster_class: str | None
    image: str | None
    environment: str | None
    when_stopped: str | None
    active_runs: int
    queued_runs: int
    nodes: list[ComputeNode]
    queue: list[QueuedRun]
    description: str
    tags: dict[str, str | float | bool | None]
    created_by: str | None
    created_at: str | None


class _ComputeCreateRequired(TypedDict):
    name: str
    type: Literal['AmlCompute', 'ComputeInstance']


class ComputeCreate(_ComputeCreateRequired, total=False):
    """``ComputeTarget.create(ws, name, config)``: the fields of v1's two provisioning configurations."""
    vm_size: str
    description: str
    tags: dict[str, str | float | bool | None]
    min_nodes: int
    max_nodes: int
    idle_seconds_before_scaledown: int
    vm_priority: Literal['dedicated', 'lowpriority']
    scheduler_address: str | None
    cluster_class: str | None
    cluster_kwargs: dict[str, Any]
    idle_time_before_shutdown_minutes: int | None
    image: str | None
    environment: str | None
    max_concurrent_runs: int
    when_stopped: Literal['start', 'refuse']


class ComputeEvent(TypedDict):
    """A compute changed (state, nodes, queue, settings) or was deleted: clients fetch it again."""
    type: Literal['compute']
    action: Literal['changed', 'deleted']
    name: str


class ComputeList(TypedDict):
    items: list[Compute]


class _ComputeNodeRequired(TypedDict):
    name: str
    state: Literal['idle', 'busy', 'starting', 'leaving', 'unusable']


class ComputeNode(_ComputeNodeRequired, total=False):
    run_ids: list[str]


class ComputeUpdate(TypedDict, total=False):
    """``AmlCompute.update(min_nodes=, max_nodes=, idle_seconds_before_scaledown=)``; unset fields stay."""
    min_nodes: int | None
    max_nodes: int | None
    idle_seconds_before_scaledown: int | None
    description: str | None
    tags: dict[str, str | float | bool | None] | None


class CondaSection(TypedDict, total=False):
    """v1's conda file as data: its conda packages are installed from PyPI (envbuild/conda.py maps the names)."""
    name: str | None
    channels: list[str]
    dependencies: list[str]
    pip: list[str]


class DataCollectionSpec(TypedDict, total=False):
    """Model data collection of a service with ``collect_model_data`` (docs/data-collection.md): the share of"""
    sample_rate: float
    max_record_bytes: int
    max_day_bytes: int


class _DataInputRequired(TypedDict):
    name: str
    dataset_id: str


class DataInput(_DataInputRequired, total=False):
    """A registered dataset a run reads (v1's ``dataset.as_named_input(name).as_mount()``): the agent lays its"""
    mode: Literal['mount', 'download', 'direct']
    path_on_compute: str | None


class _DataOutputRequired(TypedDict):
    name: str


class DataOutput(_DataOutputRequired, total=False):
    """A folder a run writes (v1's ``OutputFileDatasetConfig``), copied to ``destination`` on a datastore when"""
    datastore: str
    path: str
    overwrite: bool
    register_name: str | None
    register_description: str
    register_tags: dict[str, str | float | bool | None]


class _DatasetRequired(TypedDict):
    id: str
    name: str
    version: int
    workspace: str
    kind: Literal['file', 'tabular']
    definition: DatasetDefinition
    description: str
    tags: dict[str, str]
    fingerprint: str
    file_count: int
    total_size: int
    created_by: str
    created_at: str


class Dataset(_DatasetRequired, total=False):
    existing: bool
    data_changed: bool


class _DatasetCreateRequired(TypedDict):
    name: str
    definition: DatasetDefinition


class DatasetCreate(_DatasetCreateRequired, total=False):
    """Register a dataset: ``create_new_version`` false (v1's default) refuses a name already registered; true"""
    description: str
    tags: dict[str, str | float | bool | None]
    create_new_version: bool


class _DatasetDefinitionRequired(TypedDict):
    kind: Literal['file', 'tabular']
    paths: list[DatasetPath]


class DatasetDefinition(_DatasetDefinitionRequired, total=False):
    """What a dataset is: its kind, its paths, how its files are read, and its transformations (steps such as"""
    reader: ReaderSpec | None
    transformations: list[dict[str, Any]]


class DatasetDeleted(TypedDict):
    deleted: str
    versions: int


class DatasetList(TypedDict):
    items: list[Dataset]


class DatasetPath(TypedDict, total=False):
    """One path of a dataset: a glob on a datastore (``{"datastore": "workspaceblobstore", "path":"""
    datastore: str | None
    path: str | None
    url: str | None
    optional: bool


class DatasetPreview(TypedDict):
    """The first rows, read by the service: a tabular dataset's rows, or a file dataset's files (path, size)."""
    name: str
    version: int
    columns: list[PreviewColumn]
    rows: list[list[Any]]
    row_count: int


class DatasetProfile(TypedDict):
    name: str
    version: int
    row_count: int
    column_count: int
    columns: list[ColumnProfile]
    fingerprint: str
    computed_at: str


class DatasetUpdate(TypedDict, total=False):
    """Change a version's description and tags in place (v1's ``update``, ``add_tags``, ``remove_tags``); its"""
    description: str | None
    tags: dict[str, str | float | bool | None] | None
    add_tags: dict[str, str | float | bool | None]
    remove_tags: list[str]


class _DatastoreRequired(TypedDict):
    name: str
    kind: str
    datastore_type: str
    is_default: bool
    location: str
    has_credentials: bool
    created_by: str
    created_at: str


class Datastore(_DatastoreRequired, total=False):
    """A registered datastore as every caller sees it: where it is, never its credentials."""
    description: str
    path: str | None
    bucket_name: str | None
    prefix: str | None
    endpoint_url: str | None
    region: str | None
    container_name: str | None
    account_name: str | None
    protocol: str | None
    endpoint: str | None


class DatastoreFile(TypedDict):
    path: str
    size: int
    fingerprint: str


class DatastoreFileList(TypedDict):
    items: list[DatastoreFile]


class DatastoreList(TypedDict):
    items: list[Datastore]
    default: str


class DatastoreUpload(TypedDict):
    path: str
    size: int
    written: bool


class DeploymentConfigSpec(TypedDict, total=False):
    """How the service runs. ``local``: replica processes on this machine; ``docker``: containers; other names:"""
    compute_type: str
    port: int | None
    collect_model_data: bool
    data_collection: DataCollectionSpec
    replicas: int
    auth_enabled: bool
    scoring_timeout_ms: int
    max_request_bytes: int
    max_concurrent_requests_per_container: int
    startup_timeout_seconds: int
    cpu_cores: float | None
    memory_gb: float | None
    autoscale_enabled: bool
    autoscale_min_replicas: int
    autoscale_max_replicas: int
    autoscale_target_utilization: int
    autoscale_refresh_seconds: float
    replica_overrun_limit_seconds: float
    max_batch_size: int
    max_batch_wait_ms: int


class _DeploymentCreateRequired(TypedDict):
    name: str
    models: list[str]
    inference_config: InferenceConfigSpec


class DeploymentCreate(_DeploymentCreateRequired, total=False):
    deployment_config: DeploymentConfigSpec
    description: str
    tags: dict[str, str | float | bool | None]
    overwrite: bool


class DeploymentUpdate(TypedDict, total=False):
    models: list[str] | None
    inference_config: InferenceConfigSpec | None
    replicas: int | None
    scoring_timeout_ms: int | None
    max_request_bytes: int | None
    auth_enabled: bool | None
    description: str | None
    tags: dict[str, str | float | bool | None] | None
    autoscale_enabled: bool | None
    autoscale_min_replicas: int | None
    autoscale_max_replicas: int | None
    autoscale_target_utilization: int | None
    autoscale_refresh_seconds: float | None
    replica_overrun_limit_seconds: float | None


class _DistributedConfigRequired(TypedDict):
    framework: Literal['PyTorch', 'Mpi', 'TensorFlow']


class DistributedConfig(_DistributedConfigRequired, total=False):
    """v1's ``PyTorchConfiguration`` / ``MpiConfiguration`` / ``TensorflowConfiguration``: ``process_count``"""
    node_count: int
    process_count: int
    communication_backend: str | None
    worker_count: int | None
    parameter_server_count: int | None


class _EndpointTestRequestRequired(TypedDict):
    body: str


class EndpointTestRequest(_EndpointTestRequestRequired, total=False):
    """A request to send to the service's scoring URI, as a client would (with the chosen key)."""
    key: Literal['primary', 'secondary']


class _EndpointTestResultRequired(TypedDict):
    status: int
    body: str
    elapsed_ms: float


class EndpointTestResult(_EndpointTestResultRequired, total=False):
    """What the scoring URI answered. Errors of the service are data here (status 4xx/5xx), not API errors;"""
    content_type: str | None
    request_id: str | None
    truncated: bool
    error: str | None


class _EnvironmentBuildRequired(TypedDict):
    environment: str
    python: str
    venv_hash: str | None
    built: bool
    seconds: float
    log: list[str]


class EnvironmentBuild(_EnvironmentBuildRequired, total=False):
    """The outcome of building (or finding already built) an environment's Python interpreter."""
    image: str | None


class EnvironmentDefinition(TypedDict, total=False):
    """An environment to register: the run environment spec plus the Python version it needs."""
    name: str
    version: str | None
    python: PythonSection
    env_vars: dict[str, str]
    docker_base_image: str | None
    docker_enabled: bool
    docker_shm_size: str | None
    docker_base_dockerfile: str | None
    python_version: str | None


class EnvironmentList(TypedDict):
    items: list[RegisteredEnvironment]


class EnvironmentSpec(TypedDict, total=False):
    name: str
    version: str | None
    python: PythonSection
    env_vars: dict[str, str]
    docker_base_image: str | None
    docker_enabled: bool
    docker_shm_size: str | None
    docker_base_dockerfile: str | None
    python_version: str | None


class _ErrorBodyRequired(TypedDict):
    code: str
    message: str


class ErrorBody(_ErrorBodyRequired, total=False):
    hint: str | None
    details: Any


class ErrorResponse(TypedDict):
    error: ErrorBody


class _ExperimentRequired(TypedDict):
    id: str
    name: str
    workspace: str
    created_at: str
    run_count: int


class Experiment(_ExperimentRequired, total=False):
    child_run_count: int
    tags: dict[str, str]
    archived_time: str | None


class ExperimentList(TypedDict):
    items: list[Experiment]


class ExperimentReactivate(TypedDict, total=False):
    """v1's ``Experiment.reactivate(new_name=None)``: with ``new_name`` the experiment comes back renamed."""
    new_name: str | None


class ExperimentUpdate(TypedDict, total=False):
    """v1's ``Experiment.set_tags`` / ``tag`` (``tags`` are merged in) and ``remove_tags``."""
    tags: dict[str, str | float | bool | None] | None
    remove_tags: list[str]


class FilesEvent(TypedDict):
    type: Literal['files']
    run_id: str
    paths: list[str]


class _FolderRunCreateRequired(TypedDict):
    experiment: str
    run_config: RunConfig


class FolderRunCreate(_FolderRunCreateRequired, total=False):
    """Submit a folder on the server (a path relative to the Jupyter root) as a script run."""
    folder: str
    tags: dict[str, str | float | bool | None]
    display_name: str
    description: str


class _GcReportRequired(TypedDict):
    stored: int
    referenced: int
    recent: int
    removed: int
    removed_bytes: int
    stale_uploads: int
    dry_run: bool


class GcReport(_GcReportRequired, total=False):
    images_removed: int
    images_in_use: int


class GcRequest(TypedDict, total=False):
    grace_seconds: float
    dry_run: bool
    images: bool


class GitInfo(TypedDict, total=False):
    repository: str | None
    branch: str | None
    commit: str | None
    dirty: bool
    diff: str | None
    untracked: list[str]
    diff_truncated: bool


class HashList(TypedDict):
    hashes: list[str]


class Heartbeat(TypedDict):
    status: RunStatus


class Image(TypedDict):
    id: str
    tag: str
    workspace: str
    docker_id: str
    base_image: str
    models: list[str]
    snapshot_id: str | None
    size: int
    created_at: str


class ImageList(TypedDict):
    items: list[Image]


class _ImageValueRequired(TypedDict):
    sha256: str | None


class ImageValue(_ImageValueRequired, total=False):
    """One value of an ``image`` metric in a history's ``values``: the stored file, by hash (and its run path)."""
    path: str | None


class _InferenceConfigRequired(TypedDict):
    entry_script: str
    snapshot_id: str
    environment: EnvironmentDefinition
    environment_hash: str


class InferenceConfig(_InferenceConfigRequired, total=False):
    """The resolved scoring code and environment of a revision (what ``InferenceConfigSpec`` resolved to)."""
    environment_ref: str | None


class _InferenceConfigSpecRequired(TypedDict):
    entry_script: str
    snapshot_id: str


class InferenceConfigSpec(_InferenceConfigSpecRequired, total=False):
    """The scoring code (a snapshot of ``source_directory``) and the environment it runs in."""
    environment: EnvironmentDefinition | None
    environment_ref: str | None


class ItemCount(TypedDict):
    count: int


class _JournalAckRequired(TypedDict):
    acked_seq: int


class JournalAck(_JournalAckRequired, total=False):
    """``acked_seq`` covers every record stored or rejected; ``rejected`` lists the refused ones and why."""
    rejected: list[JournalRejection]


class JournalBatch(TypedDict):
    stream: str
    records: list[dict[str, Any]]


class _JournalRecordRequired(TypedDict):
    seq: int
    run_id: str
    t: float
    k: Literal['m', 'l', 'r', 'tb', 'i', 'tag', 'prop', 'cm', 'at', 'pr', 'rs']
    n: str


class JournalRecord(_JournalRecordRequired, total=False):
    v: Any
    s: float | None
    d: str | None
    sha256: str | None
    path: str | None
    vt: Literal['f'] | None
    nf: int | None


class JournalRejection(TypedDict):
    """One record of a journal batch the service refused (and will never store): the sender must not resend it."""
    index: int
    seq: int | None
    reason: str


class LineageEntry(TypedDict):
    """A dataset version a run read (``input``) or wrote (``output``), under the run's name for it."""
    run_id: str
    dataset_id: str
    dataset_name: str
    dataset_version: int
    direction: Literal['input', 'output']
    name: str


class LineageList(TypedDict):
    items: list[LineageEntry]


class _LocalDatastoreCreateRequired(TypedDict):
    name: str
    kind: Literal['local']
    path: str


class LocalDatastoreCreate(_LocalDatastoreCreateRequired, total=False):
    """A folder on the service's machine: absolute, existing (or made with create_if_not_exists)."""
    description: str
    overwrite: bool
    create_if_not_exists: bool
    skip_validation: bool


class LogBatch(TypedDict):
    lines: list[LogLineIn]


class LogEvent(TypedDict):
    type: Literal['log']
    run_id: str
    lines: list[LogLine]


class LogFileList(TypedDict):
    """A run's log files by v1's names (``azureml-logs/70_driver_log.txt``, ...), for ``logFiles``."""
    items: list[str]


class LogLine(TypedDict):
    id: int
    stream: str
    ts: float
    text: str


class _LogLineInRequired(TypedDict):
    text: str


class LogLineIn(_LogLineInRequired, total=False):
    stream: str
    ts: float | None


class LogPage(TypedDict):
    items: list[LogLine]
    last_id: int


class Member(TypedDict):
    user: str
    role: str
    added_by: str
    added_at: str


class MemberList(TypedDict):
    items: list[Member]


class MemberSet(TypedDict):
    role: str


class MetricColumn(TypedDict):
    """A run's metric as a listing column (``GET runs?metrics=loss``): its last, lowest and highest value."""
    last: float | None
    min: float | None
    max: float | None


class _MetricEventRequired(TypedDict):
    type: Literal['metric']
    run_id: str
    name: str
    total: int
    steps: list[float]
    values: list[Any]
    times: list[float]


class MetricEvent(_MetricEventRequired, total=False):
    """Scalar points as stored: the same columns and steps as the metric's history."""
    types: list[Literal['f', 'i', 'b', 'n', 's']] | None


class _MetricHistoryRequired(TypedDict):
    run_id: str
    name: str
    kind: Literal['scalar', 'list', 'row', 'table', 'image', 'confusion_matrix', 'accuracy_table', 'predictions', 'residuals']
    total: int
    values: list[Any]


class MetricHistory(_MetricHistoryRequired, total=False):
    downsampled: bool
    steps: list[float] | None
    times: list[float] | None
    types: list[Literal['f', 'i', 'b', 'n', 's']] | None
    nonfinite: list[int] | None


class MetricHistoryList(TypedDict):
    """Every metric of a run (and its descendants) with all its values: ``Run.get_metrics()`` in one call."""
    items: list[MetricHistory]


class _MetricSummaryRequired(TypedDict):
    run_id: str
    name: str
    kind: Literal['scalar', 'list', 'row', 'table', 'image', 'confusion_matrix', 'accuracy_table', 'predictions', 'residuals']
    description: str
    count: int
    last_value: float | None
    last_step: float | None
    min: float | None
    max: float | None


class MetricSummary(_MetricSummaryRequired, total=False):
    value_type: str | None
    last: Any
    last_type: Literal['f', 'i', 'b', 'n', 's'] | None


class MetricSummaryList(TypedDict):
    items: list[MetricSummary]


class MissingBlobs(TypedDict):
    missing: list[str]


class _ModelRequired(TypedDict):
    id: str
    name: str
    version: int
    workspace: str
    path: str
    description: str
    framework: str | None
    framework_version: str | None
    run_id: str | None
    experiment: str | None
    created_by: str
    created_at: str
    file_count: int
    total_size: int
    tags: dict[str, str]
    properties: dict[str, str]


class Model(_ModelRequired, total=False):
    sample_input: Any
    run_number: str | None
    deployments: list[str]


class _ModelCreateRequired(TypedDict):
    name: str


class ModelCreate(_ModelCreateRequired, total=False):
    """Register a model version from uploaded blobs (``files``) or from a run's files (``run_id`` + ``run_path``)."""
    path: str | None
    description: str
    tags: dict[str, str | float | bool | None]
    properties: dict[str, str | float | bool | None]
    framework: str | None
    framework_version: str | None
    sample_input: Any
    files: list[ModelFile] | None
    run_id: str | None
    run_path: str | None


class ModelEvent(TypedDict):
    """A model version was registered, updated (tags, properties, description) or deleted."""
    type: Literal['model']
    action: Literal['registered', 'updated', 'deleted']
    name: str
    version: int


class ModelFile(TypedDict):
    path: str
    sha256: str
    size: int


class ModelFileList(TypedDict):
    items: list[RunFile]


class ModelList(TypedDict):
    items: list[Model]


class ModelUpdate(TypedDict, total=False):
    tags: dict[str, str | float | bool | None] | None
    remove_tags: list[str]
    properties: dict[str, str | float | bool | None] | None
    description: str | None


class _OperationRequired(TypedDict):
    kind: Literal['create', 'update', 'restart']
    status: Literal['Running', 'Succeeded', 'Failed']
    revision: int
    started_at: str


class Operation(_OperationRequired, total=False):
    ended_at: str | None
    error: ServiceError | None


class _PipelineEdgeRequired(TypedDict):
    source: str
    target: str


class PipelineEdge(_PipelineEdgeRequired, total=False):
    """``source`` runs before ``target``: it writes the data ``target`` reads (``data``: the PipelineData /"""
    data: list[str]
    run_after: bool


class PipelineEndpoint(TypedDict):
    id: str
    name: str
    description: str
    status: str
    default_version: str
    endpoint: str
    endpoint_path: str
    versions: list[PipelineEndpointVersion]
    created_at: str
    updated_at: str
    created_by: str


class _PipelineEndpointAddRequired(TypedDict):
    pipeline_id: str


class PipelineEndpointAdd(_PipelineEndpointAddRequired, total=False):
    """``add(pipeline)`` / ``add_default(pipeline)``: the next version; adding a pipeline that is already a"""
    set_default: bool


class _PipelineEndpointCreateRequired(TypedDict):
    name: str
    pipeline_id: str


class PipelineEndpointCreate(_PipelineEndpointCreateRequired, total=False):
    """``PipelineEndpoint.publish(ws, name, description, pipeline)``: version "0" is ``pipeline_id``."""
    description: str


class PipelineEndpointList(TypedDict):
    items: list[PipelineEndpoint]


class PipelineEndpointUpdate(TypedDict, total=False):
    """``set_default_version``, ``disable`` / ``enable`` / ``archive``, or a new description."""
    default_version: str | None
    status: Literal['Active', 'Disabled', 'Archived'] | None
    description: str | None


class PipelineEndpointVersion(TypedDict):
    """v1's ``PipelineIdVersion``: which published pipeline a version of an endpoint is."""
    version: str
    pipeline_id: str
    pipeline_name: str
    pipeline_status: str
    is_default: bool
    added_at: str


class PipelineGraph(TypedDict):
    """A pipeline run's steps (in an order they may run) and the edges between them. Static: the graph is"""
    run_id: str
    steps: list[str]
    edges: list[PipelineEdge]


class PipelineParameterSpec(TypedDict):
    """v1's ``PipelineParameter(name, default_value)``: its type is the default's (bool, int, float or str)."""
    name: str
    default_value: bool | int | float | str


class _PipelineRunCreateRequired(TypedDict):
    experiment: str
    steps: list[PipelineStepSpec]


class PipelineRunCreate(_PipelineRunCreateRequired, total=False):
    """Submit a pipeline: create its parent run and its graph, then the service drives the steps."""
    parameters: list[PipelineParameterSpec]
    parameter_assignments: dict[str, Any]
    continue_on_step_failure: bool
    regenerate_outputs: bool
    description: str
    display_name: str
    tags: dict[str, str | float | bool | None]


class PipelineRunInfo(TypedDict):
    run: Run
    steps: list[PipelineStepState]
    parameters: dict[str, Any]
    continue_on_step_failure: bool
    regenerate_outputs: bool


class PipelineRunPage(TypedDict):
    items: list[PipelineRunSummary]
    next_page_token: str | None
    total: int


class PipelineRunSummary(TypedDict):
    run: Run
    steps: StepCounts


class _PipelineStepSpecRequired(TypedDict):
    name: str
    snapshot_id: str
    run_config: RunConfig


class PipelineStepSpec(_PipelineStepSpecRequired, total=False):
    """One step: a script run (``run_config`` says what runs where, with its own outputs and any registered"""
    kind: Literal['python', 'command']
    inputs: list[StepInput]
    run_after: list[str]
    allow_reuse: bool
    params: dict[str, str]


class _PipelineStepStateRequired(TypedDict):
    name: str
    status: str
    run_id: str | None
    depends_on: list[str]
    compute_target: str
    allow_reuse: bool


class PipelineStepState(_PipelineStepStateRequired, total=False):
    """One step of a pipeline run: NotStarted until its inputs are ready, Skipped when a step it depends on"""
    reused_from: str | None
    reuse_key: str | None
    reuse_parts: dict[str, Any]
    outputs: list[StepOutputLocation]


class _PipelineSubmitRequestRequired(TypedDict):
    ExperimentName: str


class PipelineSubmitRequest(_PipelineSubmitRequestRequired, total=False):
    """v1's REST body: POST it to a published pipeline's or pipeline endpoint's URL with the workspace's"""
    ParameterAssignments: dict[str, bool | int | float | str]
    PipelineVersion: str | None
    DisplayName: str
    Description: str | None
    Tags: dict[str, str | float | bool | None]


class _PipelineSubmittedRequired(TypedDict):
    Id: str
    Status: str
    ExperimentName: str
    PipelineId: str


class PipelineSubmitted(_PipelineSubmittedRequired, total=False):
    """v1's answer to a REST invoke: the new pipeline run, ``Id`` first."""
    PipelineEndpointId: str | None
    PipelineVersion: str | None
    ScheduleId: str | None


class PipelineValidation(TypedDict):
    """What ``pipeline.validate()`` gets: the steps in the order they may run (nothing is created)."""
    order: list[str]


class PreviewColumn(TypedDict):
    name: str
    type: str


class _PublishedPipelineRequired(TypedDict):
    id: str
    name: str
    description: str
    version: str
    status: str
    endpoint: str
    endpoint_path: str
    graph_id: str
    total_run_steps: int
    continue_on_step_failure: bool
    parameters: list[PipelineParameterSpec]
    steps: list[str]
    created_at: str
    created_by: str


class PublishedPipeline(_PublishedPipelineRequired, total=False):
    """v1's ``PublishedPipeline``: an immutable copy of a pipeline (its steps, snapshots and parameters with"""
    source_run_id: str | None


class _PublishedPipelineCreateRequired(TypedDict):
    name: str


class PublishedPipelineCreate(_PublishedPipelineCreateRequired, total=False):
    """Publish a pipeline: ``spec`` (what ``pipeline.publish`` sends: the submit body of the pipeline; its"""
    description: str
    version: str | None
    continue_on_step_failure: bool | None
    spec: PipelineRunCreate | None
    run_id: str | None


class PublishedPipelineList(TypedDict):
    items: list[PublishedPipeline]


class PublishedPipelineUpdate(TypedDict):
    """``disable()`` / ``enable()``: a disabled pipeline keeps its id and URL and refuses to run (409)."""
    status: Literal['Active', 'Disabled']


class PythonSection(TypedDict, total=False):
    user_managed: bool
    interpreter_path: str | None
    pip: list[str]
    conda_dependencies: CondaSection | None


class QueuedRun(TypedDict):
    run_id: str
    workspace: str
    position: int
    reason: str


class ReaderSpec(TypedDict, total=False):
    """How a tabular dataset's files are read: v1's ``from_delimited_files`` / ``from_parquet_files`` /"""
    format: Literal['delimited', 'parquet', 'json_lines']
    separator: str
    header: Literal['ALL_FILES_HAVE_SAME_HEADERS', 'ONLY_FIRST_FILE_HAS_HEADERS', 'COMBINE_ALL_FILES_HEADERS', 'NO_HEADERS']
    encoding: Literal['utf8', 'utf-8', 'utf8bom', 'iso88591', 'latin1', 'ascii', 'utf16', 'utf32', 'windows1252']
    infer_column_types: bool
    set_column_types: dict[str, ColumnTypeSpec]
    support_multi_line: bool
    empty_as_string: bool
    include_path: bool
    partition_format: str | None
    invalid_lines: Literal['error', 'drop']


class _RegenerateKeyRequired(TypedDict):
    key_type: Literal['Primary', 'Secondary']


class RegenerateKey(_RegenerateKeyRequired, total=False):
    key_value: str | None


class RegisteredEnvironment(TypedDict):
    name: str
    version: int
    workspace: str
    spec_hash: str
    spec: EnvironmentDefinition
    created_at: str


class _ReplicaViewRequired(TypedDict):
    index: int
    revision: int
    state: Literal['starting', 'ready', 'suspect', 'draining', 'dead']
    inflight: int
    restarts: int
    served: int
    pid: int | None
    port: int | None


class ReplicaView(_ReplicaViewRequired, total=False):
    """One live replica process or container of the revision taking traffic."""
    overdue: int


class Role(TypedDict):
    name: str
    builtin: bool
    actions: list[str]
    not_actions: list[str]
    description: str


class RoleList(TypedDict):
    items: list[Role]


class _RoleSetRequired(TypedDict):
    actions: list[str]


class RoleSet(_RoleSetRequired, total=False):
    not_actions: list[str]
    description: str


class _RunRequired(TypedDict):
    id: str
    number: int
    display_number: str
    experiment: str
    workspace: str
    parent_id: str | None
    root_id: str
    kind: Literal['script', 'interactive', 'child']
    display_name: str
    description: str
    status: RunStatus
    created_at: str
    start_time: str | None
    end_time: str | None
    duration_seconds: float | None
    heartbeat_at: str | None
    submitter: str
    compute_target: str | None
    run_config: RunConfig | None
    snapshot_id: str | None
    git: GitInfo | None
    error: RunError | None
    exit_code: int | None
    tags: dict[str, str]
    properties: dict[str, str]


class Run(_RunRequired, total=False):
    metric_columns: dict[str, MetricColumn | None] | None
    param_columns: dict[str, str | None] | None


class _RunConfigRequired(TypedDict):
    script: str


class RunConfig(_RunConfigRequired, total=False):
    arguments: list[str]
    compute_target: str
    environment: EnvironmentSpec
    max_run_duration_seconds: int | None
    distributed: DistributedConfig | None
    inputs: list[DataInput]
    outputs: list[DataOutput]


class _RunCreateRequired(TypedDict):
    experiment: str


class RunCreate(_RunCreateRequired, total=False):
    kind: Literal['script', 'interactive']
    snapshot_id: str | None
    run_config: RunConfig | None
    tags: dict[str, str | float | bool | None]
    properties: dict[str, str | float | bool | None]
    git: GitInfo | None
    display_name: str
    description: str


class _RunErrorRequired(TypedDict):
    message: str


class RunError(_RunErrorRequired, total=False):
    details: str | None
    code: str | None
    exception_type: str | None
    exception_message: str | None
    frame: RunErrorFrame | None


class RunErrorFrame(TypedDict):
    """Where a failed script's exception was raised: its innermost frame."""
    file: str
    line: int
    function: str


class RunEvent(TypedDict):
    """A run was created or changed (status, tags, display name...): the whole run, as GET returns it."""
    type: Literal['run']
    run: Run


class RunFile(TypedDict):
    path: str
    sha256: str
    size: int


class RunFileList(TypedDict):
    items: list[RunFile]


class RunFiles(TypedDict):
    files: list[RunFile]


class _RunInputRequired(TypedDict):
    name: str
    mode: Literal['mount', 'download', 'direct']
    dataset_id: str
    dataset_name: str
    dataset_version: int
    kind: Literal['file', 'tabular']
    dataset: Dataset


class RunInput(_RunInputRequired, total=False):
    """One dataset a run reads: which version, how, and (for ``mount``/``download``) its files."""
    path_on_compute: str | None
    files: list[RunInputFile]


class _RunInputFileRequired(TypedDict):
    path: str
    size: int


class RunInputFile(_RunInputFileRequired, total=False):
    url: str | None


class RunInputList(TypedDict):
    items: list[RunInput]


class RunList(TypedDict):
    items: list[Run]


class _RunModelCreateRequired(TypedDict):
    name: str
    run_path: str


class RunModelCreate(_RunModelCreateRequired, total=False):
    """Register a file or folder of the run in the URL (``run_path``, e.g. ``outputs/model.pkl``) as a model"""
    path: str | None
    description: str
    tags: dict[str, str | float | bool | None]
    properties: dict[str, str | float | bool | None]
    framework: str | None
    framework_version: str | None
    sample_input: Any


class RunOutputFiles(TypedDict):
    """The files a run wrote into an output's folder, already uploaded as blobs (as ``./outputs`` is)."""
    files: list[RunFile]


class RunOutputWritten(TypedDict):
    name: str
    datastore: str
    path: str
    files: int


class RunPage(TypedDict):
    items: list[Run]
    next_page_token: str | None
    total: int


class RunUpdate(TypedDict, total=False):
    tags: dict[str, str | float | bool | None] | None
    remove_tags: list[str]
    properties: dict[str, str | float | bool | None] | None
    display_name: str | None
    description: str | None


class _S3DatastoreCreateRequired(TypedDict):
    name: str
    kind: Literal['s3']
    bucket_name: str


class S3DatastoreCreate(_S3DatastoreCreateRequired, total=False):
    """An S3-compatible bucket (AWS, MinIO, Ceph, ...): both keys or neither (anonymous access)."""
    description: str
    overwrite: bool
    create_if_not_exists: bool
    skip_validation: bool
    prefix: str | None
    endpoint_url: str | None
    region: str | None
    access_key_id: str
    secret_access_key: str


class ScalingEvent(TypedDict):
    """A change of the replica count (autoscaling) or a replica replaced by the hung-replica guard."""
    t: str
    kind: Literal['scale_up', 'scale_down', 'replaced']
    from_replicas: int
    to_replicas: int
    message: str


class Schedule(TypedDict):
    id: str
    name: str
    description: str
    status: str
    experiment_name: str
    pipeline_id: str | None
    pipeline_endpoint_id: str | None
    recurrence: ScheduleRecurrenceSpec | None
    cron: str | None
    datastore_name: str | None
    path_on_datastore: str | None
    polling_interval: float
    pipeline_parameters: dict[str, Any]
    continue_on_step_failure: bool | None
    next_fire_at: str | None
    last_fire_at: str | None
    created_at: str
    created_by: str


class _ScheduleCreateRequired(TypedDict):
    name: str
    experiment_name: str


class ScheduleCreate(_ScheduleCreateRequired, total=False):
    """``Schedule.create``: a recurrence, or a datastore path that is polled for added or changed files"""
    description: str
    pipeline_id: str | None
    pipeline_endpoint_id: str | None
    recurrence: ScheduleRecurrenceSpec | None
    datastore: str | None
    path_on_datastore: str | None
    polling_interval: float
    pipeline_parameters: dict[str, Any]
    continue_on_step_failure: bool | None


class ScheduleFire(TypedDict):
    """One firing: the slot it was for (a tick, or a datastore change), and the run it started or why not."""
    slot: str
    fired_at: str
    run_id: str | None
    error: str | None


class ScheduleFireList(TypedDict):
    items: list[ScheduleFire]


class ScheduleList(TypedDict):
    items: list[Schedule]


class _ScheduleRecurrenceSpecRequired(TypedDict):
    frequency: Literal['Minute', 'Hour', 'Day', 'Week', 'Month']
    interval: int


class ScheduleRecurrenceSpec(_ScheduleRecurrenceSpecRequired, total=False):
    """v1's ``ScheduleRecurrence``: every ``interval`` ``frequency`` from ``start_time`` (naive: in"""
    start_time: str | None
    time_zone: str | None
    hours: list[int] | None
    minutes: list[int] | None
    week_days: list[Literal['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']] | None
    time_of_day: str | None


class ScheduleUpdate(TypedDict, total=False):
    """``schedule.update(...)``, ``disable()``, ``enable()``: only the fields given change."""
    name: str | None
    description: str | None
    status: Literal['Active', 'Disabled'] | None
    recurrence: ScheduleRecurrenceSpec | None
    polling_interval: float | None
    pipeline_parameters: dict[str, Any] | None
    path_on_datastore: str | None
    continue_on_step_failure: bool | None


class SecretInfo(TypedDict):
    name: str


class SecretList(TypedDict):
    """The names in a workspace's key vault, sorted: never a value."""
    items: list[SecretInfo]


class SecretNameList(TypedDict):
    """The names a set or a delete touched (never a value)."""
    names: list[str]


class _SecretNamesRequired(TypedDict):
    names: list[str]


class SecretNames(_SecretNamesRequired, total=False):
    """Which secrets to read (at most 100 names); every value read is in the activity log."""
    missing_ok: bool


class SecretSet(TypedDict):
    """The value of one secret (PUT secrets/{name}); not empty, at most 25,600 characters."""
    value: str


class SecretValues(TypedDict):
    """Secret values by the names asked for (null: not found, with missing_ok): the one answer that holds"""
    secrets: dict[str, str | None]


class SecretsSet(TypedDict):
    """Several secrets set in one transaction: all of them, or none."""
    secrets: dict[str, Any]


class _ServiceErrorRequired(TypedDict):
    message: str


class ServiceError(_ServiceErrorRequired, total=False):
    """Why a web service or its last rollout failed (an error body, or just a message)."""
    code: str | None
    hint: str | None
    details: Any


class ServiceKeys(TypedDict):
    primary_key: str
    secondary_key: str


class ServiceLogs(TypedDict):
    lines: list[str]


class _SnapshotRequired(TypedDict):
    id: str
    file_count: int
    total_size: int
    created_at: str


class Snapshot(_SnapshotRequired, total=False):
    files: list[SnapshotFile] | None


class SnapshotCreate(TypedDict):
    files: list[SnapshotFile]


class _SnapshotFileRequired(TypedDict):
    path: str
    sha256: str
    size: int


class SnapshotFile(_SnapshotFileRequired, total=False):
    mode: int


class _StatusUpdateRequired(TypedDict):
    status: RunStatus


class StatusUpdate(_StatusUpdateRequired, total=False):
    error: RunError | None
    exit_code: int | None
    journal: JournalBatch | None


class StepCounts(TypedDict):
    """How far a pipeline run got: ``completed`` includes ``reused`` steps, ``running`` those started, not ended."""
    total: int
    completed: int
    reused: int
    running: int
    failed: int
    not_started: int
    skipped: int


class _StepInputRequired(TypedDict):
    name: str
    source: str


class StepInput(_StepInputRequired, total=False):
    """Data a step reads that another step of the pipeline writes: the output named ``source`` (a"""
    mode: Literal['mount', 'download']


class StepOutputLocation(TypedDict):
    """Where a step's output is on its datastore (for ``StepRun.get_output_data``)."""
    name: str
    datastore: str
    path_on_datastore: str


class StorageLocation(TypedDict):
    """The fsspec location of a datastore, credentials included: what a client that reads the store itself"""
    name: str
    protocol: str
    root: str
    options: dict[str, Any]
    reachable_from: Literal['anywhere', 'service-host']


class _TelemetryRequired(TypedDict):
    name: str
    requests: int
    errors_4xx: int
    errors_5xx: int
    latency_ms_p50: float | None
    latency_ms_p90: float | None
    latency_ms_p99: float | None
    points: list[TelemetryPoint]


class Telemetry(_TelemetryRequired, total=False):
    data_collection: dict[str, int] | None
    events: list[ScalingEvent]
    batching: dict[str, int] | None


class TelemetryPoint(TypedDict):
    t: str
    requests: int
    errors_4xx: int
    errors_5xx: int
    latency_ms_mean: float | None
    latency_ms_p50: float | None
    latency_ms_p90: float | None
    latency_ms_p99: float | None


class _VmSizeRequired(TypedDict):
    name: str
    vCPUs: float
    memoryGB: float


class VmSize(_VmSizeRequired, total=False):
    """One row of ``AmlCompute.supported_vmsizes(ws)``: v1's size name and the limits it sets per node."""
    gpus: int
    family: str
    custom: bool


class VmSizeList(TypedDict):
    items: list[VmSize]


class _WebserviceRequired(TypedDict):
    name: str
    workspace: str
    compute_type: str
    state: Literal['Transitioning', 'Healthy', 'Unhealthy', 'Failed']
    revision: int
    models: list[str]
    scoring_uri: str | None
    swagger_uri: str | None
    port: int | None
    auth_enabled: bool
    inference_config: InferenceConfig
    deployment_config: DeploymentConfigSpec
    image_id: str | None
    operation: Operation | None
    error: ServiceError | None
    tags: dict[str, str]
    description: str
    created_by: str
    created_at: str
    updated_at: str


class Webservice(_WebserviceRequired, total=False):
    pending_models: list[str] | None
    replicas: list[ReplicaView]


class WebserviceEvent(TypedDict):
    """A web service changed (state, revision, replicas, settings) or was deleted."""
    type: Literal['webservice']
    action: Literal['changed', 'deleted']
    name: str


class WebserviceList(TypedDict):
    items: list[Webservice]


class _WorkspaceRequired(TypedDict):
    name: str
    description: str
    created_at: str


class Workspace(_WorkspaceRequired, total=False):
    subscription_id: str | None
    resource_group: str | None
    location: str


class _WorkspaceCreateRequired(TypedDict):
    name: str


class WorkspaceCreate(_WorkspaceCreateRequired, total=False):
    description: str
    subscription_id: str | None
    resource_group: str | None
    location: str | None


class WorkspaceList(TypedDict):
    items: list[Workspace]


class WorkspaceUpdate(TypedDict, total=False):
    """Record Azure identifiers the workspace lacks (each is set once: another value is 409), or a description."""
    description: str | None
    subscription_id: str | None
    resource_group: str | None
    location: str | None


AMLEvent = RunEvent | LogEvent | MetricEvent | FilesEvent | ModelEvent | WebserviceEvent | ComputeEvent
DatastoreCreate = LocalDatastoreCreate | S3DatastoreCreate | AzureBlobDatastoreCreate

# -- routes: the path templates the service serves, per method ------------------------------
GetPath = Literal[
    '/actions',
    '/events',
    '/health',
    '/openapi.json',
    '/workspaces',
    '/workspaces/{workspace}',
    '/workspaces/{workspace}/access',
    '/workspaces/{workspace}/activity',
    '/workspaces/{workspace}/blobs/{sha256}',
    '/workspaces/{workspace}/computes',
    '/workspaces/{workspace}/computes/{name}',
    '/workspaces/{workspace}/dataset-ids/{dataset_id}',
    '/workspaces/{workspace}/datasets',
    '/workspaces/{workspace}/datasets/{name}/lineage',
    '/workspaces/{workspace}/datasets/{name}/versions',
    '/workspaces/{workspace}/datasets/{name}/versions/{dataset_version}',
    '/workspaces/{workspace}/datasets/{name}/versions/{dataset_version}/preview',
    '/workspaces/{workspace}/datasets/{name}/versions/{dataset_version}/profile',
    '/workspaces/{workspace}/datastores',
    '/workspaces/{workspace}/datastores/{name}',
    '/workspaces/{workspace}/datastores/{name}/file',
    '/workspaces/{workspace}/datastores/{name}/files',
    '/workspaces/{workspace}/datastores/{name}/location',
    '/workspaces/{workspace}/endpoints',
    '/workspaces/{workspace}/endpoints/{name}',
    '/workspaces/{workspace}/endpoints/{name}/keys',
    '/workspaces/{workspace}/endpoints/{name}/logs',
    '/workspaces/{workspace}/endpoints/{name}/swagger',
    '/workspaces/{workspace}/endpoints/{name}/telemetry',
    '/workspaces/{workspace}/environments',
    '/workspaces/{workspace}/environments/{name}',
    '/workspaces/{workspace}/environments/{name}/versions/{version}',
    '/workspaces/{workspace}/experiments',
    '/workspaces/{workspace}/experiments/{name}',
    '/workspaces/{workspace}/images',
    '/workspaces/{workspace}/members',
    '/workspaces/{workspace}/models',
    '/workspaces/{workspace}/models/{name}',
    '/workspaces/{workspace}/models/{name}/versions/{version}',
    '/workspaces/{workspace}/models/{name}/versions/{version}/files',
    '/workspaces/{workspace}/pipelines/endpoints',
    '/workspaces/{workspace}/pipelines/endpoints/{endpoint}',
    '/workspaces/{workspace}/pipelines/published',
    '/workspaces/{workspace}/pipelines/published/{pipeline_id}',
    '/workspaces/{workspace}/pipelines/runs',
    '/workspaces/{workspace}/pipelines/runs/{run_id}',
    '/workspaces/{workspace}/pipelines/runs/{run_id}/graph',
    '/workspaces/{workspace}/pipelines/schedules',
    '/workspaces/{workspace}/pipelines/schedules/{schedule_id}',
    '/workspaces/{workspace}/pipelines/schedules/{schedule_id}/runs',
    '/workspaces/{workspace}/roles',
    '/workspaces/{workspace}/runs',
    '/workspaces/{workspace}/runs/{run_id}',
    '/workspaces/{workspace}/runs/{run_id}/children',
    '/workspaces/{workspace}/runs/{run_id}/files',
    '/workspaces/{workspace}/runs/{run_id}/files/content',
    '/workspaces/{workspace}/runs/{run_id}/inputs',
    '/workspaces/{workspace}/runs/{run_id}/inputs/{name}/file',
    '/workspaces/{workspace}/runs/{run_id}/lineage',
    '/workspaces/{workspace}/runs/{run_id}/logfiles',
    '/workspaces/{workspace}/runs/{run_id}/logfiles/content',
    '/workspaces/{workspace}/runs/{run_id}/logs',
    '/workspaces/{workspace}/runs/{run_id}/metric-values',
    '/workspaces/{workspace}/runs/{run_id}/metrics',
    '/workspaces/{workspace}/runs/{run_id}/metrics/{name}',
    '/workspaces/{workspace}/secrets',
    '/workspaces/{workspace}/snapshots/{snapshot_id}',
    '/workspaces/{workspace}/snapshots/{snapshot_id}/zip',
    '/workspaces/{workspace}/vm-sizes',
]
PostPath = Literal[
    '/gc',
    '/workspaces',
    '/workspaces/{workspace}/PipelineRuns/PipelineEndpointSubmit/Id/{endpoint_id}',
    '/workspaces/{workspace}/PipelineRuns/PipelineSubmit/{pipeline_id}',
    '/workspaces/{workspace}/blobs/missing',
    '/workspaces/{workspace}/computes',
    '/workspaces/{workspace}/computes/{name}/restart',
    '/workspaces/{workspace}/computes/{name}/start',
    '/workspaces/{workspace}/computes/{name}/stop',
    '/workspaces/{workspace}/datasets',
    '/workspaces/{workspace}/datastores',
    '/workspaces/{workspace}/datastores/{name}/default',
    '/workspaces/{workspace}/endpoints',
    '/workspaces/{workspace}/endpoints/{name}/keys/regenerate',
    '/workspaces/{workspace}/endpoints/{name}/test',
    '/workspaces/{workspace}/environments',
    '/workspaces/{workspace}/environments/{name}/versions/{version}/build',
    '/workspaces/{workspace}/experiments/{name}/archive',
    '/workspaces/{workspace}/experiments/{name}/reactivate',
    '/workspaces/{workspace}/models',
    '/workspaces/{workspace}/pipelines/endpoints',
    '/workspaces/{workspace}/pipelines/endpoints/{endpoint}/versions',
    '/workspaces/{workspace}/pipelines/published',
    '/workspaces/{workspace}/pipelines/runs',
    '/workspaces/{workspace}/pipelines/schedules',
    '/workspaces/{workspace}/pipelines/validate',
    '/workspaces/{workspace}/runs',
    '/workspaces/{workspace}/runs/from-folder',
    '/workspaces/{workspace}/runs/{run_id}/cancel',
    '/workspaces/{workspace}/runs/{run_id}/children',
    '/workspaces/{workspace}/runs/{run_id}/files',
    '/workspaces/{workspace}/runs/{run_id}/heartbeat',
    '/workspaces/{workspace}/runs/{run_id}/journal',
    '/workspaces/{workspace}/runs/{run_id}/logs',
    '/workspaces/{workspace}/runs/{run_id}/models',
    '/workspaces/{workspace}/runs/{run_id}/outputs/{name}',
    '/workspaces/{workspace}/runs/{run_id}/secret-values',
    '/workspaces/{workspace}/runs/{run_id}/status',
    '/workspaces/{workspace}/secret-values',
    '/workspaces/{workspace}/secrets',
    '/workspaces/{workspace}/snapshots',
]
PutPath = Literal[
    '/workspaces/{workspace}/blobs/{sha256}',
    '/workspaces/{workspace}/datastores/{name}/file',
    '/workspaces/{workspace}/experiments/{name}',
    '/workspaces/{workspace}/members/{user}',
    '/workspaces/{workspace}/roles/{name}',
    '/workspaces/{workspace}/secrets/{name}',
]
PatchPath = Literal[
    '/workspaces/{workspace}',
    '/workspaces/{workspace}/computes/{name}',
    '/workspaces/{workspace}/datasets/{name}/versions/{dataset_version}',
    '/workspaces/{workspace}/endpoints/{name}',
    '/workspaces/{workspace}/experiments/{name}',
    '/workspaces/{workspace}/models/{name}/versions/{version}',
    '/workspaces/{workspace}/pipelines/endpoints/{endpoint}',
    '/workspaces/{workspace}/pipelines/published/{pipeline_id}',
    '/workspaces/{workspace}/pipelines/schedules/{schedule_id}',
    '/workspaces/{workspace}/runs/{run_id}',
]
DeletePath = Literal[
    '/workspaces/{workspace}/computes/{name}',
    '/workspaces/{workspace}/datasets/{name}',
    '/workspaces/{workspace}/datastores/{name}',
    '/workspaces/{workspace}/endpoints/{name}',
    '/workspaces/{workspace}/members/{user}',
    '/workspaces/{workspace}/models/{name}/versions/{version}',
    '/workspaces/{workspace}/roles/{name}',
    '/workspaces/{workspace}/secrets/{name}',
]

QUERY_PARAMETERS: dict[tuple[str, str], tuple[str, ...]] = {
    ('GET', '/actions'): (),
    ('GET', '/events'): ('workspace', 'run_id'),
    ('POST', '/gc'): (),
    ('GET', '/health'): (),
    ('GET', '/openapi.json'): (),
    ('GET', '/workspaces'): (),
    ('POST', '/workspaces'): (),
    ('GET', '/workspaces/{workspace}'): (),
    ('PATCH', '/workspaces/{workspace}'): (),
    ('POST', '/workspaces/{workspace}/PipelineRuns/PipelineEndpointSubmit/Id/{endpoint_id}'): (),
    ('POST', '/workspaces/{workspace}/PipelineRuns/PipelineSubmit/{pipeline_id}'): (),
    ('GET', '/workspaces/{workspace}/access'): (),
    ('GET', '/workspaces/{workspace}/activity'): ('after', 'limit'),
    ('POST', '/workspaces/{workspace}/blobs/missing'): (),
    ('GET', '/workspaces/{workspace}/blobs/{sha256}'): (),
    ('PUT', '/workspaces/{workspace}/blobs/{sha256}'): (),
    ('GET', '/workspaces/{workspace}/computes'): (),
    ('POST', '/workspaces/{workspace}/computes'): (),
    ('GET', '/workspaces/{workspace}/computes/{name}'): (),
    ('PATCH', '/workspaces/{workspace}/computes/{name}'): (),
    ('DELETE', '/workspaces/{workspace}/computes/{name}'): ('force',),
    ('POST', '/workspaces/{workspace}/computes/{name}/restart'): (),
    ('POST', '/workspaces/{workspace}/computes/{name}/start'): (),
    ('POST', '/workspaces/{workspace}/computes/{name}/stop'): (),
    ('GET', '/workspaces/{workspace}/dataset-ids/{dataset_id}'): (),
    ('GET', '/workspaces/{workspace}/datasets'): (),
    ('POST', '/workspaces/{workspace}/datasets'): (),
    ('DELETE', '/workspaces/{workspace}/datasets/{name}'): (),
    ('GET', '/workspaces/{workspace}/datasets/{name}/lineage'): (),
    ('GET', '/workspaces/{workspace}/datasets/{name}/versions'): (),
    ('GET', '/workspaces/{workspace}/datasets/{name}/versions/{dataset_version}'): (),
    ('PATCH', '/workspaces/{workspace}/datasets/{name}/versions/{dataset_version}'): (),
    ('GET', '/workspaces/{workspace}/datasets/{name}/versions/{dataset_version}/preview'): ('rows',),
    ('GET', '/workspaces/{workspace}/datasets/{name}/versions/{dataset_version}/profile'): (),
    ('GET', '/workspaces/{workspace}/datastores'): (),
    ('POST', '/workspaces/{workspace}/datastores'): (),
    ('GET', '/workspaces/{workspace}/datastores/{name}'): (),
    ('DELETE', '/workspaces/{workspace}/datastores/{name}'): (),
    ('POST', '/workspaces/{workspace}/datastores/{name}/default'): (),
    ('GET', '/workspaces/{workspace}/datastores/{name}/file'): ('path',),
    ('PUT', '/workspaces/{workspace}/datastores/{name}/file'): ('path', 'overwrite'),
    ('GET', '/workspaces/{workspace}/datastores/{name}/files'): ('pattern',),
    ('GET', '/workspaces/{workspace}/datastores/{name}/location'): (),
    ('GET', '/workspaces/{workspace}/endpoints'): (),
    ('POST', '/workspaces/{workspace}/endpoints'): (),
    ('GET', '/workspaces/{workspace}/endpoints/{name}'): (),
    ('PATCH', '/workspaces/{workspace}/endpoints/{name}'): (),
    ('DELETE', '/workspaces/{workspace}/endpoints/{name}'): (),
    ('GET', '/workspaces/{workspace}/endpoints/{name}/keys'): (),
    ('POST', '/workspaces/{workspace}/endpoints/{name}/keys/regenerate'): (),
    ('GET', '/workspaces/{workspace}/endpoints/{name}/logs'): ('lines',),
    ('GET', '/workspaces/{workspace}/endpoints/{name}/swagger'): (),
    ('GET', '/workspaces/{workspace}/endpoints/{name}/telemetry'): ('minutes',),
    ('POST', '/workspaces/{workspace}/endpoints/{name}/test'): (),
    ('GET', '/workspaces/{workspace}/environments'): ('name', 'latest'),
    ('POST', '/workspaces/{workspace}/environments'): (),
    ('GET', '/workspaces/{workspace}/environments/{name}'): (),
    ('GET', '/workspaces/{workspace}/environments/{name}/versions/{version}'): (),
    ('POST', '/workspaces/{workspace}/environments/{name}/versions/{version}/build'): (),
    ('GET', '/workspaces/{workspace}/experiments'): ('view_type', 'name', 'tag'),
    ('GET', '/workspaces/{workspace}/experiments/{name}'): (),
    ('PUT', '/workspaces/{workspace}/experiments/{name}'): (),
    ('PATCH', '/workspaces/{workspace}/experiments/{name}'): (),
    ('POST', '/workspaces/{workspace}/experiments/{name}/archive'): (),
    ('POST', '/workspaces/{workspace}/experiments/{name}/reactivate'): (),
    ('GET', '/workspaces/{workspace}/images'): (),
    ('GET', '/workspaces/{workspace}/members'): (),
    ('PUT', '/workspaces/{workspace}/members/{user}'): (),
    ('DELETE', '/workspaces/{workspace}/members/{user}'): (),
    ('GET', '/workspaces/{workspace}/models'): ('name', 'tag', 'property', 'run_id', 'latest'),
    ('POST', '/workspaces/{workspace}/models'): (),
    ('GET', '/workspaces/{workspace}/models/{name}'): (),
    ('GET', '/workspaces/{workspace}/models/{name}/versions/{version}'): (),
    ('PATCH', '/workspaces/{workspace}/models/{name}/versions/{version}'): (),
    ('DELETE', '/workspaces/{workspace}/models/{name}/versions/{version}'): (),
    ('GET', '/workspaces/{workspace}/models/{name}/versions/{version}/files'): (),
    ('GET', '/workspaces/{workspace}/pipelines/endpoints'): ('include_disabled',),
    ('POST', '/workspaces/{workspace}/pipelines/endpoints'): (),
    ('GET', '/workspaces/{workspace}/pipelines/endpoints/{endpoint}'): (),
    ('PATCH', '/workspaces/{workspace}/pipelines/endpoints/{endpoint}'): (),
    ('POST', '/workspaces/{workspace}/pipelines/endpoints/{endpoint}/versions'): (),
    ('GET', '/workspaces/{workspace}/pipelines/published'): ('include_disabled',),
    ('POST', '/workspaces/{workspace}/pipelines/published'): (),
    ('GET', '/workspaces/{workspace}/pipelines/published/{pipeline_id}'): (),
    ('PATCH', '/workspaces/{workspace}/pipelines/published/{pipeline_id}'): (),
    ('GET', '/workspaces/{workspace}/pipelines/runs'): ('experiment', 'status', 'page_size', 'page_token'),
    ('POST', '/workspaces/{workspace}/pipelines/runs'): (),
    ('GET', '/workspaces/{workspace}/pipelines/runs/{run_id}'): (),
    ('GET', '/workspaces/{workspace}/pipelines/runs/{run_id}/graph'): (),
    ('GET', '/workspaces/{workspace}/pipelines/schedules'): ('include_disabled', 'pipeline_id', 'pipeline_endpoint_id'),
    ('POST', '/workspaces/{workspace}/pipelines/schedules'): (),
    ('GET', '/workspaces/{workspace}/pipelines/schedules/{schedule_id}'): (),
    ('PATCH', '/workspaces/{workspace}/pipelines/schedules/{schedule_id}'): (),
    ('GET', '/workspaces/{workspace}/pipelines/schedules/{schedule_id}/runs'): (),
    ('POST', '/workspaces/{workspace}/pipelines/validate'): (),
    ('GET', '/workspaces/{workspace}/roles'): (),
    ('PUT', '/workspaces/{workspace}/roles/{name}'): (),
    ('DELETE', '/workspaces/{workspace}/roles/{name}'): (),
    ('GET', '/workspaces/{workspace}/runs'): ('experiment', 'status', 'tag', 'property', 'parent_id', 'root_only', 'sort', 'page_size', 'page_token', 'filter', 'order_by', 'metrics', 'params'),
    ('POST', '/workspaces/{workspace}/runs'): (),
    ('POST', '/workspaces/{workspace}/runs/from-folder'): (),
    ('GET', '/workspaces/{workspace}/runs/{run_id}'): (),
    ('PATCH', '/workspaces/{workspace}/runs/{run_id}'): (),
    ('POST', '/workspaces/{workspace}/runs/{run_id}/cancel'): (),
    ('GET', '/workspaces/{workspace}/runs/{run_id}/children'): ('recursive',),
    ('POST', '/workspaces/{workspace}/runs/{run_id}/children'): (),
    ('GET', '/workspaces/{workspace}/runs/{run_id}/files'): ('prefix',),
    ('POST', '/workspaces/{workspace}/runs/{run_id}/files'): (),
    ('GET', '/workspaces/{workspace}/runs/{run_id}/files/content'): ('path',),
    ('POST', '/workspaces/{workspace}/runs/{run_id}/heartbeat'): (),
    ('GET', '/workspaces/{workspace}/runs/{run_id}/inputs'): (),
    ('GET', '/workspaces/{workspace}/runs/{run_id}/inputs/{name}/file'): ('path',),
    ('POST', '/workspaces/{workspace}/runs/{run_id}/journal'): (),
    ('GET', '/workspaces/{workspace}/runs/{run_id}/lineage'): (),
    ('GET', '/workspaces/{workspace}/runs/{run_id}/logfiles'): (),
    ('GET', '/workspaces/{workspace}/runs/{run_id}/logfiles/content'): ('name',),
    ('GET', '/workspaces/{workspace}/runs/{run_id}/logs'): ('after', 'limit', 'stream'),
    ('POST', '/workspaces/{workspace}/runs/{run_id}/logs'): (),
    ('GET', '/workspaces/{workspace}/runs/{run_id}/metric-values'): ('recursive',),
    ('GET', '/workspaces/{workspace}/runs/{run_id}/metrics'): ('recursive',),
    ('GET', '/workspaces/{workspace}/runs/{run_id}/metrics/{name}'): ('max_points',),
    ('POST', '/workspaces/{workspace}/runs/{run_id}/models'): (),
    ('POST', '/workspaces/{workspace}/runs/{run_id}/outputs/{name}'): (),
    ('POST', '/workspaces/{workspace}/runs/{run_id}/secret-values'): (),
    ('POST', '/workspaces/{workspace}/runs/{run_id}/status'): (),
    ('POST', '/workspaces/{workspace}/secret-values'): (),
    ('GET', '/workspaces/{workspace}/secrets'): (),
    ('POST', '/workspaces/{workspace}/secrets'): (),
    ('PUT', '/workspaces/{workspace}/secrets/{name}'): (),
    ('DELETE', '/workspaces/{workspace}/secrets/{name}'): (),
    ('POST', '/workspaces/{workspace}/snapshots'): (),
    ('GET', '/workspaces/{workspace}/snapshots/{snapshot_id}'): (),
    ('GET', '/workspaces/{workspace}/snapshots/{snapshot_id}/zip'): (),
    ('GET', '/workspaces/{workspace}/vm-sizes'): (),
}
