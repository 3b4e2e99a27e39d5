"""SQLAlchemy 2 tables of the workspace store.

Portable SQL only (SQLite by default, PostgreSQL next): no SQLite-specific types or statements.
Scalar metric points live in packed chunks (``MetricChunk``) rather than a row per point, so that a
1M-point history is a few hundred rows to read and ingest is an append to the open chunk.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class WorkspaceRow(Base):
    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Azure's identifiers (labels: v1's config.json and Workspace(subscription_id, resource_group, name))
    subscription_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    resource_group: Mapped[str | None] = mapped_column(String(255), nullable=True)
    location: Mapped[str | None] = mapped_column(String(255), nullable=True)


class ExperimentRow(Base):
    __tablename__ = "experiments"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_experiment_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    run_count: Mapped[int] = mapped_column(Integer, default=0)  # the top-level numbers handed out so far
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_experiment_created", "experiment_id", "created_at"),
        Index("ix_runs_workspace_created", "workspace_id", "created_at"),
        Index("ix_runs_workspace_status", "workspace_id", "status"),
        Index("ix_runs_parent", "parent_id"),
        Index("ix_runs_root", "root_id"),
    )
    id: Mapped[str] = mapped_column(String(320), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # top-level: 1, 2, 3 per experiment; a child: 1, 2 under its parent
    display_number: Mapped[str] = mapped_column(String(255), default="")  # as shown: "4", "4.1", "4.1.2"
    child_count: Mapped[int] = mapped_column(Integer, default=0)  # the numbers handed to its children so far
    parent_id: Mapped[str | None] = mapped_column(String(320), nullable=True)
    root_id: Mapped[str] = mapped_column(String(320))
    path: Mapped[str] = mapped_column(Text)  # "/root/child/grandchild/": ancestry for token scope checks
    kind: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    start_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)  # set when it ends
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    submitter: Mapped[str] = mapped_column(String(255), default="")
    compute_target: Mapped[str | None] = mapped_column(String(64), nullable=True)
    run_config: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    snapshot_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    git: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    agent: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RunTagRow(Base):
    __tablename__ = "run_tags"
    __table_args__ = (Index("ix_run_tags_kv", "key", "value"),)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class RunPropertyRow(Base):
    __tablename__ = "run_properties"
    __table_args__ = (Index("ix_run_props_kv", "key", "value"),)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class JournalCursorRow(Base):
    """Highest applied journal seq per (run, stream): makes journal delivery idempotent."""

    __tablename__ = "journal_cursors"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    stream: Mapped[str] = mapped_column(String(128), primary_key=True)
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class MetricSeriesRow(Base):
    __tablename__ = "metric_series"
    __table_args__ = (UniqueConstraint("run_id", "name", name="uq_metric_series"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # scalar | list | row | table | image
    description: Mapped[str] = mapped_column(Text, default="")
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_step: Mapped[float | None] = mapped_column(Float, nullable=True)
    min_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    # scalars: the type codes seen so far (one of f i b n s, or "mixed"); None for rows stored before types
    value_type: Mapped[str | None] = mapped_column(String(8), nullable=True)
    last_json: Mapped[str | None] = mapped_column(Text, nullable=True)  # the last value, wire-encoded JSON


class MetricChunkRow(Base):
    """Up to CHUNK_POINTS scalar points packed as little-endian float64 arrays.

    ``types`` (one uint8 code per point, core/metrics.py) is NULL while every point is a float; ``texts``
    maps a point's index in the chunk to its text (strings, and integers a float64 does not hold exactly).
    """

    __tablename__ = "metric_chunks"
    series_id: Mapped[int] = mapped_column(ForeignKey("metric_series.id", ondelete="CASCADE"), primary_key=True)
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    steps: Mapped[bytes] = mapped_column(LargeBinary)
    values: Mapped[bytes] = mapped_column(LargeBinary)
    times: Mapped[bytes] = mapped_column(LargeBinary)
    types: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    texts: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)


class MetricValueRow(Base):
    """Non-scalar metric values (lists, rows, tables, images) as JSON, in logging order."""

    __tablename__ = "metric_values"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("metric_series.id", ondelete="CASCADE"), index=True)
    ts: Mapped[float] = mapped_column(Float)
    payload: Mapped[dict[str, Any] | list[Any]] = mapped_column(JSON)
    # the payload holds "NaN" / "Infinity" / "-Infinity" strings that stand for non-finite floats
    nonfinite: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class LogLineRow(Base):
    __tablename__ = "log_lines"
    __table_args__ = (Index("ix_log_lines_run", "run_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(64))
    ts: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)


class RunFileRow(Base):
    __tablename__ = "run_files"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)


class SnapshotRow(Base):
    __tablename__ = "snapshots"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    file_count: Mapped[int] = mapped_column(Integer)
    total_size: Mapped[int] = mapped_column(BigInteger)


class SnapshotFileRow(Base):
    __tablename__ = "snapshot_files"
    snapshot_id: Mapped[str] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    mode: Mapped[int] = mapped_column(Integer)


# -- model registry, environments, deployments (web services), images ------------------------------------


class ModelRow(Base):
    """One version of a registered model: a logical container of content-addressed files."""

    __tablename__ = "models"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", "version", name="uq_model_version"),
        Index("ix_models_workspace_created", "workspace_id", "created_at"),
        Index("ix_models_run", "run_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(1024))  # the registered file or folder's own name
    description: Mapped[str] = mapped_column(Text, default="")
    framework: Mapped[str | None] = mapped_column(String(64), nullable=True)
    framework_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sample_input: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(320), nullable=True)  # lineage (kept if the run goes)
    experiment: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    file_count: Mapped[int] = mapped_column(Integer)
    total_size: Mapped[int] = mapped_column(BigInteger)


class ModelFileRow(Base):
    __tablename__ = "model_files"
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)


class ModelTagRow(Base):
    __tablename__ = "model_tags"
    __table_args__ = (Index("ix_model_tags_kv", "key", "value"),)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class ModelPropertyRow(Base):
    __tablename__ = "model_properties"
    __table_args__ = (Index("ix_model_props_kv", "key", "value"),)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class EnvironmentRow(Base):
    """A registered environment version; ``spec_hash`` identifies its definition (name and version aside)."""

    __tablename__ = "environments"
    __table_args__ = (UniqueConstraint("workspace_id", "name", "version", name="uq_environment_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    spec_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeploymentRow(Base):
    """A web service: the desired state (models, inference and deployment configuration) and what is live."""

    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_deployment_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    compute_type: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    revision: Mapped[int] = mapped_column(Integer, default=0)  # the revision taking traffic (0: none yet)
    model_ids: Mapped[list[int]] = mapped_column(JSON)  # of that revision, in the order given
    inference_config: Mapped[dict[str, Any]] = mapped_column(JSON)
    deployment_config: Mapped[dict[str, Any]] = mapped_column(JSON)
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # an update in progress
    operation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # the last create/update
    port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    primary_key: Mapped[str] = mapped_column(String(512))  # sealed (core/service_keys.py)
    secondary_key: Mapped[str] = mapped_column(String(512))
    image_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tags: Mapped[dict[str, str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeploymentModelRow(Base):
    """Which model versions a deployment uses (live or being rolled out): a version in use cannot be deleted."""

    __tablename__ = "deployment_models"
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True, index=True)


class EndpointStatRow(Base):
    """Request telemetry of a deployment per minute: counts by outcome and a latency histogram."""

    __tablename__ = "endpoint_stats"
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"), primary_key=True)
    minute: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # unix time // 60
    requests: Mapped[int] = mapped_column(Integer, default=0)
    errors_4xx: Mapped[int] = mapped_column(Integer, default=0)
    errors_5xx: Mapped[int] = mapped_column(Integer, default=0)
    latency_sum: Mapped[float] = mapped_column(Float, default=0.0)
    latency_hist: Mapped[list[int]] = mapped_column(JSON)


class ComputeRow(Base):
    """A compute created in a workspace (an AmlCompute cluster or a ComputeInstance): its provisioning settings
    as given and the state its backend last reported."""

    __tablename__ = "computes"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_compute_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(32))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)  # the ComputeCreate fields, as given
    state: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ImageRow(Base):
    """A scoring image built from an environment, model files and scoring code, tagged by their joint hash."""

    __tablename__ = "images"
    __table_args__ = (UniqueConstraint("workspace_id", "content_hash", name="uq_image_hash"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(String(64))
    tag: Mapped[str] = mapped_column(String(255))
    docker_id: Mapped[str] = mapped_column(String(128))
    base_image: Mapped[str] = mapped_column(String(512))
    environment: Mapped[dict[str, Any]] = mapped_column(JSON)
    model_ids: Mapped[list[int]] = mapped_column(JSON)
    snapshot_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ModelNameRow(Base):
    """The version counter of a model name: versions are never reused, even after a delete."""

    __tablename__ = "model_names"
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    last_version: Mapped[int] = mapped_column(Integer, default=0)


class MemberRow(Base):
    """A user's role in a workspace: one role per user (Azure's role assignment at workspace scope)."""

    __tablename__ = "workspace_members"
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    user: Mapped[str] = mapped_column(String(255), primary_key=True)
    role: Mapped[str] = mapped_column(String(64))
    added_by: Mapped[str] = mapped_column(String(255))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CustomRoleRow(Base):
    """A workspace's own role: allowed action patterns minus excluded ones."""

    __tablename__ = "workspace_roles"
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    actions: Mapped[list[str]] = mapped_column(JSON)
    not_actions: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ActivityRow(Base):
    """The activity log: append-only (database triggers refuse UPDATE and DELETE). It keeps the workspace's
    name rather than a foreign key, so the record of a deleted workspace outlives it."""

    __tablename__ = "activity"
    __table_args__ = (Index("ix_activity_workspace", "workspace", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    workspace: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    target_kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class UserTokenRow(Base):
    """A named user's API token for ``aml serve``: only its SHA-256 is kept, so the table leaks no token."""

    __tablename__ = "user_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(String(255), default="")
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SecretRow(Base):
    """A secret of a workspace's key vault (core/keyvault.py): the value sealed with the master key, never plain.
    ``name_key`` is the name in lower case: Azure Key Vault's names are case-insensitive."""

    __tablename__ = "workspace_secrets"
    __table_args__ = (UniqueConstraint("workspace_id", "name_key", name="uq_secret_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(127))
    name_key: Mapped[str] = mapped_column(String(127))
    value: Mapped[str] = mapped_column(Text)  # SecretBox.seal(...): "fernet:..."
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DatasetRow(Base):
    """A registered dataset version (core/datasets.py): its definition and the fingerprint of the files it
    pointed at when registered, never a copy of them. The profile is computed once per version and kept."""

    __tablename__ = "datasets"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", "version", name="uq_dataset_version"),
        Index("ix_datasets_workspace_name", "workspace_id", "name"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a GUID, as v1's dataset ids
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    definition_sha256: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    file_count: Mapped[int] = mapped_column(Integer)
    total_size: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    profile: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    profile_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    profiled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DatasetRunRow(Base):
    """Lineage, both ways: a dataset version a run read (``input``, under its ``as_named_input`` name) or wrote
    (``output``). Filled by the datasets-in-runs work; here so that it needs no second migration."""

    __tablename__ = "dataset_runs"
    __table_args__ = (Index("ix_dataset_runs_run", "run_id"),)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)  # "input" | "output"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)  # one version may be two inputs of a run


class DatastoreRow(Base):
    """A registered datastore (core/datastores.py): where its files are, never its credentials, which are the
    key-vault secret ``datastore-<name>`` when ``has_secret``. ``name_key`` is the name in lower case: v1's
    datastore names are case-insensitive. One row per workspace has ``is_default``."""

    __tablename__ = "datastores"
    __table_args__ = (UniqueConstraint("workspace_id", "name_key", name="uq_datastore_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))  # workspaceblobstore | local | s3 | azure_blob
    config: Mapped[dict[str, Any]] = mapped_column(JSON)  # path, bucket_name, endpoint_url, ...: no secret
    has_secret: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PipelineRunRow(Base):
    """A pipeline run's graph (core/pipelines.py): the steps, parameters and options as submitted, so the
    service can resume driving it after a restart. Which step ran as which child run is read from the children
    (their ``azureml.pipeline.step`` property), so nothing here changes while the pipeline runs."""

    __tablename__ = "pipeline_runs"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    graph: Mapped[dict[str, Any]] = mapped_column(JSON)  # the PipelineRunCreate, parameter values resolved
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PipelineReuseRow(Base):
    """A step run under its reuse key (core/pipelines_reuse.py): a later step with the same key, whose run
    ended Completed, is reused instead of run again."""

    __tablename__ = "pipeline_reuse"
    __table_args__ = (Index("ix_pipeline_reuse_key", "workspace_id", "reuse_key"),)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    reuse_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# Tables that live in their own modules, imported here so that Base.metadata (migrations, the schema check)
# always has them: min/max rollups of full scalar chunks (core/metric_rollups.py); MLflow's logged models, run
# inputs and traces; published pipelines, pipeline endpoints and schedules.
from jupyter_aml.store import tables_metric_rollups as _metric_rollups  # noqa: E402, F401
from jupyter_aml.store import tables_mlflow as _mlflow  # noqa: E402, F401
from jupyter_aml.store import tables_pipeline_publish as _pipeline_publish  # noqa: E402, F401
