"""Tables of what MLflow's API keeps beside the workspace's runs (jupyter_aml/mlflow_api, core/mlflow_*.py).
Imported at the end of store/tables.py, so ``Base.metadata`` always has them.

- ``mlflow_logged_models``: MLflow 3 logged models, one record per model, in its source run (the files are
  the run's ``outputs/mlflow-models/<id>``). A table, not run tags, so that the studio and v1's
  ``run.get_tags()`` do not show them as the run's tags.
- ``mlflow_run_inputs``: ``runs/log-inputs``: the datasets (name, digest, source, schema, profile, input tags)
  and logged models a run read, as MLflow describes them. MLflow's datasets are descriptions (a pandas frame's
  digest and schema), not files on a datastore, so they are not the workspace's registered datasets.
- ``mlflow_traces``: traces (``@mlflow.trace``, ``mlflow.start_span``): one row per trace, in its experiment
  and, when it was made inside a run, that run. A table rather than run files because a trace need not have a
  run (the default outside ``start_run``), is listed and deleted per experiment by time and count, and its
  tags change after it is written. Its spans are the JSON the client uploads, kept in the row (no blob:
  nothing of a trace would then hold a blob against the blob collector).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jupyter_aml.store.tables import Base


class MlflowLoggedModelRow(Base):
    __tablename__ = "mlflow_logged_models"
    __table_args__ = (Index("ix_mlflow_logged_models_run", "run_id"),)
    model_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # "m-<32 hex>": random, so global
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    data: Mapped[str] = mapped_column(Text)  # JSON: name, status, tags, params, times (mlflow_api/logged_models.py)


class MlflowRunInputRow(Base):
    __tablename__ = "mlflow_run_inputs"
    __table_args__ = (
        UniqueConstraint("run_id", "kind", "name", "digest", name="uq_mlflow_run_inputs"),
        Index("ix_mlflow_run_inputs_run", "run_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # "dataset" | "model"
    name: Mapped[str] = mapped_column(String(500))  # a dataset's name, or the logged model's id
    digest: Mapped[str] = mapped_column(String(36), default="")
    source_type: Mapped[str] = mapped_column(String(255), default="")
    source: Mapped[str] = mapped_column(Text, default="")
    dataset_schema: Mapped[str | None] = mapped_column(Text, nullable=True)
    profile: Mapped[str | None] = mapped_column(Text, nullable=True)
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # the input's tags (mlflow.data.context)


class MlflowTraceRow(Base):
    __tablename__ = "mlflow_traces"
    __table_args__ = (
        Index("ix_mlflow_traces_experiment", "experiment_id", "request_time"),
        Index("ix_mlflow_traces_run", "run_id"),
    )
    trace_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the client's "tr-<32 hex>"
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), nullable=True)
    request_time: Mapped[int] = mapped_column(BigInteger)  # ms since the epoch
    execution_duration: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # ms
    state: Mapped[str] = mapped_column(String(32))  # OK | ERROR | IN_PROGRESS
    info: Mapped[dict[str, Any]] = mapped_column(JSON)  # MLflow's TraceInfoV3 fields but the ids and times
    data: Mapped[str | None] = mapped_column(Text, nullable=True)  # the spans (traces.json), once uploaded
