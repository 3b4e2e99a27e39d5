"""Compute records: the computes created in each workspace, their settings as given and their last state.

Only the records live here; ``core/computes.py`` makes them true on a backend and reports states back with
``set_state``. A name is unique per workspace, and a name that a configured target (``local``) already uses
is refused, so a run's ``compute_target`` names one compute only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jupyter_aml.core.compute_models import ComputeCreate, ComputeUpdate
from jupyter_aml.core.events import ComputeEvent, EventSink, discard
from jupyter_aml.core.workspaces import WorkspaceService, utc, utcnow
from jupyter_aml.errors import Conflict, NotFound
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import ComputeRow, WorkspaceRow


@dataclass(frozen=True)
class ComputeRecord:
    workspace: str
    spec: ComputeCreate
    state: str
    error: str | None
    created_by: str
    created_at: datetime

    @property
    def name(self) -> str:
        return self.spec.name


def compute_not_found(workspace: str, name: str, known: list[str]) -> NotFound:
    return NotFound(f"compute target {name!r} not found in workspace {workspace!r}",
                    hint=("available compute targets: " + ", ".join(sorted(known))) if known else
                    "create one with ComputeTarget.create(ws, name, config) or `aml compute create`")


def _record(workspace: str, row: ComputeRow) -> ComputeRecord:
    spec = ComputeCreate.model_validate({**row.spec, "name": row.name, "type": row.type})
    return ComputeRecord(workspace=workspace, spec=spec, state=row.state, error=row.error,
                         created_by=row.created_by, created_at=utc(row.created_at))


class ComputeRecords:
    def __init__(self, db: Store, events: EventSink = discard) -> None:
        self.db = db
        self._publish = events

    def create(self, workspace: str, spec: ComputeCreate, *, created_by: str) -> ComputeRecord:
        now = utcnow()
        body = spec.model_dump(mode="json", exclude={"name", "type"})
        try:
            with self.db.session() as s:
                ws = WorkspaceService.row(s, workspace)
                row = ComputeRow(workspace_id=ws.id, name=spec.name, type=spec.type, spec=body, state="Creating",
                                 error=None, created_by=created_by, created_at=now, updated_at=now)
                s.add(row)
                s.flush()
                record = _record(workspace, row)
        except IntegrityError:
            raise Conflict(f"compute target {spec.name!r} already exists in workspace {workspace!r}",
                           hint="use ComputeTarget(ws, name) to get it, or pick another name") from None
        self._publish(workspace, ComputeEvent(action="changed", name=spec.name))
        return record

    def get(self, workspace: str, name: str) -> ComputeRecord:
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            row = s.scalar(select(ComputeRow).where(ComputeRow.workspace_id == ws.id, ComputeRow.name == name))
            if row is None:
                known = list(s.scalars(select(ComputeRow.name).where(ComputeRow.workspace_id == ws.id)))
                raise compute_not_found(workspace, name, known)
            return _record(workspace, row)

    def all(self, workspace: str | None = None) -> list[ComputeRecord]:
        """One workspace's computes by name, or every workspace's (the service's start)."""
        with self.db.read() as s:
            query = select(WorkspaceRow.name, ComputeRow).join(WorkspaceRow, WorkspaceRow.id == ComputeRow.workspace_id)
            if workspace is not None:
                query = query.where(WorkspaceRow.id == WorkspaceService.row(s, workspace).id)
            return [_record(ws_name, row) for ws_name, row in s.execute(query.order_by(ComputeRow.name))]

    def update(self, workspace: str, name: str, change: ComputeUpdate) -> ComputeRecord:
        """Apply the fields given; the result is validated as a whole (max_nodes >= min_nodes)."""
        with self.db.session() as s:
            row = self._row(s, workspace, name)
            merged = {**row.spec, **change.model_dump(mode="json", exclude_unset=True, exclude_none=True)}
            spec = ComputeCreate.model_validate({**merged, "name": row.name, "type": row.type})
            row.spec = spec.model_dump(mode="json", exclude={"name", "type"})
            row.updated_at = utcnow()
            record = _record(workspace, row)
        self._publish(workspace, ComputeEvent(action="changed", name=name))
        return record

    def set_state(self, workspace: str, name: str, state: str, error: str | None) -> None:
        """What the backend reports; a record deleted meanwhile is left deleted."""
        with self.db.session() as s:
            try:
                row = self._row(s, workspace, name)
            except NotFound:
                return
            if (row.state, row.error) == (state, error):
                return
            row.state, row.error, row.updated_at = state, error, utcnow()

    def delete(self, workspace: str, name: str) -> None:
        with self.db.session() as s:
            s.delete(self._row(s, workspace, name))
        self._publish(workspace, ComputeEvent(action="deleted", name=name))

    def _row(self, s: Session, workspace: str, name: str) -> ComputeRow:
        ws = WorkspaceService.row(s, workspace)
        row: ComputeRow | None = s.scalar(
            select(ComputeRow).where(ComputeRow.workspace_id == ws.id, ComputeRow.name == name))
        if row is None:
            raise compute_not_found(workspace, name, [])
        return row
