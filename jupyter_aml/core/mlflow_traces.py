"""MLflow traces (``@mlflow.trace``, ``mlflow.start_span``) in the workspace's store: one row per trace
(``mlflow_traces``, store/tables_mlflow.py says why a table), in its experiment and, when the client made it
inside a run, that run. Its info (metadata, tags, previews) is JSON in the row; its spans are the JSON the
client uploads afterwards (``traces.json``), kept in the row too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from jupyter_aml.core.workspaces import WorkspaceService
from jupyter_aml.errors import Conflict, NotFound
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import RunRow
from jupyter_aml.store.tables_mlflow import MlflowTraceRow as Row


@dataclass(frozen=True)
class TraceRecord:
    trace_id: str
    experiment_id: int  # the workspace's experiment id
    run_id: str | None
    request_time: int  # ms
    execution_duration: int | None  # ms
    state: str
    info: dict[str, Any]  # trace_metadata, tags, request_preview, response_preview, client_request_id, ...
    has_data: bool


def _record(row: Row) -> TraceRecord:
    return TraceRecord(row.trace_id, row.experiment_id, row.run_id, row.request_time, row.execution_duration,
                       row.state, dict(row.info), row.data is not None)


class MlflowTraces:
    def __init__(self, db: Store) -> None:
        self.db = db

    def create(self, workspace: str, rec: TraceRecord) -> TraceRecord:
        """A new trace; its id is the client's, so one already there is a conflict, never overwritten."""
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            if s.get(Row, rec.trace_id) is not None:
                raise Conflict(f"Trace with ID {rec.trace_id} already exists")
            if rec.run_id is not None:
                run = s.get(RunRow, rec.run_id)
                if run is None or run.workspace_id != ws.id:
                    raise NotFound(f"Run with id={rec.run_id} not found")
            row = Row(trace_id=rec.trace_id, workspace_id=ws.id, experiment_id=rec.experiment_id, run_id=rec.run_id,
                      request_time=rec.request_time, execution_duration=rec.execution_duration, state=rec.state,
                      info=rec.info, data=None)
            s.add(row)
            s.flush()
            return _record(row)

    def _row(self, s: Any, workspace: str, trace_id: str) -> Row:
        ws = WorkspaceService.row(s, workspace)
        row = s.get(Row, trace_id)
        if row is None or row.workspace_id != ws.id:
            raise NotFound(f"Trace with ID {trace_id} not found.")
        found: Row = row
        return found

    def get(self, workspace: str, trace_id: str) -> TraceRecord:
        with self.db.read() as s:
            return _record(self._row(s, workspace, trace_id))

    def run_of(self, trace_id: str) -> tuple[bool, str | None]:
        """(whether the trace exists, its run): what a run's token is checked against (ids are global)."""
        with self.db.read() as s:
            row = s.get(Row, trace_id)
            return (row is not None, row.run_id if row is not None else None)

    def update_info(self, workspace: str, trace_id: str, change: Callable[[dict[str, Any]], None]) -> TraceRecord:
        """Apply ``change`` to the trace's info in one write transaction (no lost update)."""
        with self.db.session() as s:
            row = self._row(s, workspace, trace_id)
            info = copy.deepcopy(row.info)  # a fresh value: SQLAlchemy sees no change to a JSON edited in place
            change(info)
            row.info = info
            return _record(row)

    def set_data(self, workspace: str, trace_id: str, data: str) -> None:
        with self.db.session() as s:
            self._row(s, workspace, trace_id).data = data

    def data(self, workspace: str, trace_id: str) -> str | None:
        with self.db.read() as s:
            return self._row(s, workspace, trace_id).data

    def of_experiments(self, workspace: str, experiment_ids: Iterable[int]) -> list[TraceRecord]:
        """The experiments' traces, newest first."""
        ids = list(set(experiment_ids))
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            rows = s.execute(select(Row.trace_id, Row.experiment_id, Row.run_id, Row.request_time,
                                    Row.execution_duration, Row.state, Row.info, Row.data.is_not(None))
                             .where(Row.workspace_id == ws.id, Row.experiment_id.in_(ids))
                             .order_by(Row.request_time.desc(), Row.trace_id))  # not the spans: a listing
            return [TraceRecord(t, e, r, at, d, st, dict(info), bool(has)) for t, e, r, at, d, st, info, has in rows]

    def delete(self, workspace: str, experiment_id: int, *, trace_ids: list[str] | None = None,
               max_timestamp: int | None = None, max_traces: int | None = None) -> int:
        """Delete the experiment's traces named, or those older than ``max_timestamp`` (oldest first, at most
        ``max_traces``); the count deleted."""
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            query = select(Row.trace_id).where(Row.workspace_id == ws.id, Row.experiment_id == experiment_id)
            if trace_ids is not None:
                query = query.where(Row.trace_id.in_(trace_ids))
            if max_timestamp is not None:
                query = query.where(Row.request_time <= max_timestamp)
            query = query.order_by(Row.request_time, Row.trace_id)
            if max_traces is not None:
                query = query.limit(max_traces)
            doomed = list(s.scalars(query))
            if doomed:
                s.execute(delete(Row).where(Row.trace_id.in_(doomed)))
            return len(doomed)


__all__ = ["MlflowTraces", "TraceRecord"]
