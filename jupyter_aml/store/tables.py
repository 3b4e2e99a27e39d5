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


class ExperimentRow(Base):
    __tablename__ = "experiments"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_experiment_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    run_count: Mapped[int] = mapped_column(Integer, default=0)


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
    number: Mapped[int] = mapped_column(Integer)
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


class MetricChunkRow(Base):
    """Up to CHUNK_POINTS scalar points packed as little-endian float64 arrays."""

    __tablename__ = "metric_chunks"
    series_id: Mapped[int] = mapped_column(ForeignKey("metric_series.id", ondelete="CASCADE"), primary_key=True)
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    steps: Mapped[bytes] = mapped_column(LargeBinary)
    values: Mapped[bytes] = mapped_column(LargeBinary)
    times: Mapped[bytes] = mapped_column(LargeBinary)


class MetricValueRow(Base):
    """Non-scalar metric values (lists, rows, tables, images) as JSON, in logging order."""

    __tablename__ = "metric_values"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("metric_series.id", ondelete="CASCADE"), index=True)
    ts: Mapped[float] = mapped_column(Float)
    payload: Mapped[dict[str, Any] | list[Any]] = mapped_column(JSON)


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
