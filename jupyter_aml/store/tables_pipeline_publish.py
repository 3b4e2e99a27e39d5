"""Tables of published pipelines, pipeline endpoints and schedules (core/pipeline_publish.py,
core/schedules.py). Imported at the end of store/tables.py, so ``Base.metadata`` always has them.

A published pipeline is an immutable copy of a pipeline's graph: only its status changes. A schedule's
firings are rows keyed by (schedule, slot), written in the same transaction that moves the schedule to its
next slot, so a restarted service never fires one slot twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jupyter_aml.store.tables import Base


class PublishedPipelineRow(Base):
    __tablename__ = "published_pipelines"
    __table_args__ = (Index("ix_published_pipelines_ws", "workspace_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16))
    graph: Mapped[dict[str, Any]] = mapped_column(JSON)  # the PipelineRunCreate it runs
    graph_id: Mapped[str] = mapped_column(String(64))
    continue_on_step_failure: Mapped[bool] = mapped_column(Boolean, default=False)
    source_run_id: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(320))


class PipelineEndpointRow(Base):
    __tablename__ = "pipeline_endpoints"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_pipeline_endpoints_name"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    default_version: Mapped[str] = mapped_column(String(64))
    version_count: Mapped[int] = mapped_column(Integer, default=0)  # the next version is its number
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(320))


class PipelineEndpointVersionRow(Base):
    __tablename__ = "pipeline_endpoint_versions"
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("pipeline_endpoints.id", ondelete="CASCADE"),
                                             primary_key=True)
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    pipeline_id: Mapped[str] = mapped_column(ForeignKey("published_pipelines.id", ondelete="CASCADE"))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PipelineScheduleRow(Base):
    __tablename__ = "pipeline_schedules"
    __table_args__ = (Index("ix_pipeline_schedules_due", "status", "next_fire_at"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    experiment_name: Mapped[str] = mapped_column(String(255))
    pipeline_id: Mapped[str | None] = mapped_column(ForeignKey("published_pipelines.id", ondelete="CASCADE"),
                                                    nullable=True)
    pipeline_endpoint_id: Mapped[str | None] = mapped_column(
        ForeignKey("pipeline_endpoints.id", ondelete="CASCADE"), nullable=True)
    recurrence: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    cron: Mapped[str | None] = mapped_column(String(255), nullable=True)
    datastore: Mapped[str | None] = mapped_column(String(255), nullable=True)
    path_on_datastore: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    polling_interval: Mapped[float] = mapped_column(Float, default=5.0)  # minutes
    data_state: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # path -> fingerprint
    pipeline_parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    continue_on_step_failure: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    next_fire_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_fire_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(320))


class ScheduleFireRow(Base):
    __tablename__ = "pipeline_schedule_fires"
    __table_args__ = (UniqueConstraint("schedule_id", "slot", name="uq_pipeline_schedule_fires_slot"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[str] = mapped_column(ForeignKey("pipeline_schedules.id", ondelete="CASCADE"))
    slot: Mapped[str] = mapped_column(String(64))
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    run_id: Mapped[str | None] = mapped_column(String(320), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
