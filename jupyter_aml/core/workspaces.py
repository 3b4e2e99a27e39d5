"""Workspaces and experiments: created on first use, listed, looked up by name."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jupyter_aml.core import models
from jupyter_aml.core.roles import OWNER
from jupyter_aml.errors import Conflict, InvalidInput, NotFound
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import ExperimentRow, MemberRow, WorkspaceRow

_EXPERIMENT_NAME = re.compile(models.EXPERIMENT_PATTERN)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite drops tzinfo on the way back; every timestamp we store is UTC."""
    return None if value is None else utc(value)


def utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def workspace_model(row: WorkspaceRow) -> models.Workspace:
    return models.Workspace(name=row.name, description=row.description, created_at=utc(row.created_at))


def workspace_not_found(name: str) -> NotFound:
    """The one answer for a workspace that is missing or that the caller has no role in: the same words, so
    the answer does not disclose which."""
    return NotFound(f"workspace {name!r} not found",
                    hint="create it with `aml workspace create NAME` or Workspace.create(name); if it is someone "
                    "else's, ask its Owner to add you")


class WorkspaceService:
    def __init__(self, db: Store) -> None:
        self.db = db

    def create(self, spec: models.WorkspaceCreate, *, owner: str | None = None) -> models.Workspace:
        """Create a workspace; ``owner`` (its creator) becomes its Owner in the same transaction."""
        try:
            with self.db.session() as s:
                row = WorkspaceRow(name=spec.name, description=spec.description, created_at=utcnow())
                s.add(row)
                s.flush()
                if owner is not None:
                    s.add(MemberRow(workspace_id=row.id, user=owner, role=OWNER, added_by=owner,
                                    added_at=row.created_at))
                return workspace_model(row)
        except IntegrityError:
            raise Conflict(f"workspace {spec.name!r} already exists", hint="use it, or pick another name") from None

    def get_or_create(self, name: str) -> models.Workspace:
        try:
            return self.get(name)
        except NotFound:
            try:
                return self.create(models.WorkspaceCreate(name=name))
            except Conflict:  # created concurrently
                return self.get(name)

    def get(self, name: str) -> models.Workspace:
        with self.db.read() as s:
            return workspace_model(self.row(s, name))

    def all(self) -> list[models.Workspace]:
        with self.db.read() as s:
            return [workspace_model(r) for r in s.scalars(select(WorkspaceRow).order_by(WorkspaceRow.name))]

    @staticmethod
    def row(session: Session, name: str) -> WorkspaceRow:
        row = session.scalar(select(WorkspaceRow).where(WorkspaceRow.name == name))
        if row is None:
            raise workspace_not_found(name)
        return row

    def experiments(self, workspace: str) -> list[models.Experiment]:
        with self.db.read() as s:
            ws = self.row(s, workspace)
            rows = s.scalars(
                select(ExperimentRow).where(ExperimentRow.workspace_id == ws.id).order_by(ExperimentRow.name)
            )
            return [
                models.Experiment(name=r.name, workspace=ws.name, created_at=utc(r.created_at), run_count=r.run_count)
                for r in rows
            ]

    @staticmethod
    def experiment_row(session: Session, ws: WorkspaceRow, name: str, *, create: bool) -> ExperimentRow:
        if not _EXPERIMENT_NAME.fullmatch(name or ""):  # fullmatch: "$" alone lets a trailing newline in
            raise InvalidInput(
                f"experiment name {name!r} is not valid",
                hint="use letters, digits, '_', '-' or '.', starting with a letter or digit",
            )
        query = select(ExperimentRow).where(ExperimentRow.workspace_id == ws.id, ExperimentRow.name == name)
        row = session.scalar(query)
        if row is None:
            if not create:
                raise NotFound(f"experiment {name!r} not found in workspace {ws.name!r}")
            row = ExperimentRow(workspace_id=ws.id, name=name, created_at=utcnow(), run_count=0)
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:
                row = session.scalar(query)
                assert row is not None
        return row
