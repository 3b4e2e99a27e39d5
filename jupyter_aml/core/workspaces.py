"""Workspaces and experiments: created on first use, listed, looked up by name."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jupyter_aml.core import models
from jupyter_aml.core.roles import OWNER
from jupyter_aml.errors import Conflict, InvalidInput, NotFound
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import ExperimentRow, MemberRow, RunRow, WorkspaceRow

_EXPERIMENT_NAME = re.compile(models.EXPERIMENT_PATTERN)

# v1's ViewType values (azureml.core.experiment.ViewType)
ACTIVE_ONLY, ARCHIVED_ONLY, ALL = "ActiveOnly", "ArchivedOnly", "All"
VIEW_TYPES = (ACTIVE_ONLY, ARCHIVED_ONLY, ALL)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite drops tzinfo on the way back; every timestamp we store is UTC."""
    return None if value is None else utc(value)


def utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


AZURE_IDS = ("subscription_id", "resource_group", "location")


def workspace_model(row: WorkspaceRow) -> models.Workspace:
    return models.Workspace(name=row.name, description=row.description, created_at=utc(row.created_at),
                            subscription_id=row.subscription_id, resource_group=row.resource_group,
                            location=row.location or "local")


def run_counts(s: Session, experiment_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Per experiment, (top-level runs, child runs at any depth): the one definition behind every count
    the studio and the CLI show, so "3 runs (+5 child runs)" agrees with the 3 rows of its run table."""
    ids = list(experiment_ids)
    out = dict.fromkeys(ids, (0, 0))
    if not ids:
        return out
    top = func.count().filter(RunRow.parent_id.is_(None))
    child = func.count().filter(RunRow.parent_id.is_not(None))
    query = select(RunRow.experiment_id, top, child).where(RunRow.experiment_id.in_(ids)).group_by(RunRow.experiment_id)
    for experiment_id, tops, children in s.execute(query):
        out[experiment_id] = (int(tops), int(children))
    return out


def experiment_model(row: ExperimentRow, workspace: str, s: Session,
                     counts: dict[int, tuple[int, int]] | None = None) -> models.Experiment:
    """The experiment as the API shows it; ``counts`` from ``run_counts`` saves a query per row of a listing."""
    s.flush()
    tops, children = (counts if counts is not None else run_counts(s, [row.id])).get(row.id, (0, 0))
    return models.Experiment(id=str(row.id), name=row.name, workspace=workspace, created_at=utc(row.created_at),
                             run_count=tops, child_run_count=children, tags=dict(row.tags or {}),
                             archived_time=as_utc(row.archived_at))


def _tag_term(spec: str) -> tuple[str, str | None]:
    key, sep, value = spec.partition("=")
    if not key:
        raise InvalidInput(f"tag filter {spec!r} is not valid", hint="use tag=key or tag=key=value")
    return key, (value if sep else None)


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
                row = WorkspaceRow(name=spec.name, description=spec.description, created_at=utcnow(),
                                   subscription_id=spec.subscription_id, resource_group=spec.resource_group,
                                   location=spec.location)
                s.add(row)
                s.flush()
                if owner is not None:
                    s.add(MemberRow(workspace_id=row.id, user=owner, role=OWNER, added_by=owner,
                                    added_at=row.created_at))
                return workspace_model(row)
        except IntegrityError:
            raise Conflict(f"workspace {spec.name!r} already exists", hint="use it, or pick another name") from None

    def update(self, name: str, spec: models.WorkspaceUpdate) -> models.Workspace:
        """Record the Azure identifiers it has none of yet; one that is set stays (another value: Conflict,
        nothing changed), as Azure's resource ids never change."""
        with self.db.session() as s:
            row = self.row(s, name)
            differ = [f"{k} {getattr(row, k)!r}" for k in AZURE_IDS
                      if getattr(spec, k) and getattr(row, k) and getattr(spec, k) != getattr(row, k)]
            if differ:
                raise Conflict(f"workspace {name!r} is recorded with {', '.join(differ)}",
                               hint="Azure identifiers are set once: use the recorded ones, or another workspace")
            for key in AZURE_IDS:
                if getattr(spec, key) and not getattr(row, key):
                    setattr(row, key, getattr(spec, key))
            if spec.description is not None:
                row.description = spec.description
            return workspace_model(row)

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

    # -- experiments (v1: Experiment.list, tags, archive / reactivate) ---------------------------------------
    def experiments(
        self, workspace: str, *, view_type: str | None = None, name: str | None = None, tags: Iterable[str] = ()
    ) -> list[models.Experiment]:
        """The workspace's experiments by name. ``view_type`` is v1's: ``ActiveOnly`` (the default: archived
        ones are hidden), ``ArchivedOnly`` or ``All``; ``tags`` terms are ``key`` or ``key=value``."""
        view_type = ACTIVE_ONLY if view_type is None else view_type
        if view_type not in VIEW_TYPES:
            raise InvalidInput(f"view_type {view_type!r} is not valid", hint="use " + ", ".join(VIEW_TYPES))
        if name is not None and not _EXPERIMENT_NAME.fullmatch(name):
            raise InvalidInput(f"experiment name {name!r} is not valid",
                               hint=models.EXPERIMENT_NAME_HINT)
        wanted = [_tag_term(t) for t in tags]
        with self.db.read() as s:
            ws = self.row(s, workspace)
            query = select(ExperimentRow).where(ExperimentRow.workspace_id == ws.id)
            if name is not None:
                query = query.where(ExperimentRow.name == name)
            if view_type == ACTIVE_ONLY:
                query = query.where(ExperimentRow.archived_at.is_(None))
            elif view_type == ARCHIVED_ONLY:
                query = query.where(ExperimentRow.archived_at.is_not(None))
            rows = list(s.scalars(query.order_by(ExperimentRow.name)))
            counts = run_counts(s, [r.id for r in rows])
            out = [experiment_model(r, ws.name, s, counts) for r in rows]
        return [e for e in out if all(k in e.tags and (v is None or e.tags[k] == v) for k, v in wanted)]

    def experiment(self, workspace: str, name: str) -> models.Experiment:
        with self.db.read() as s:
            ws = self.row(s, workspace)
            return experiment_model(self.experiment_row(s, ws, name, create=False), ws.name, s)

    def update_experiment(self, workspace: str, name: str, spec: models.ExperimentUpdate, *,
                          create: bool = False) -> models.Experiment:
        """Merge ``spec.tags`` into the experiment's tags, then drop ``spec.remove_tags`` (missing keys are no
        error, as v1's remove_tags); with ``create``, a missing experiment is created first."""
        with self.db.session() as s:
            ws = self.row(s, workspace)
            row = self.experiment_row(s, ws, name, create=create)
            tags = {**(row.tags or {}), **(spec.tags or {})}
            for key in spec.remove_tags:
                tags.pop(key, None)
            row.tags = tags
            return experiment_model(row, ws.name, s)

    def archive_experiment(self, workspace: str, name: str) -> models.Experiment:
        """Hide the experiment from the default listing; its runs stay readable (and archiving twice keeps the
        first time)."""
        with self.db.session() as s:
            ws = self.row(s, workspace)
            row = self.experiment_row(s, ws, name, create=False)
            if row.archived_at is None:
                row.archived_at = utcnow()
            return experiment_model(row, ws.name, s)

    def reactivate_experiment(self, workspace: str, name: str, new_name: str | None = None) -> models.Experiment:
        """Bring an archived experiment back, renamed to ``new_name`` if given (its id and runs stay)."""
        with self.db.session() as s:
            ws = self.row(s, workspace)
            row = self.experiment_row(s, ws, name, create=False)
            if row.archived_at is None:
                raise Conflict(f"experiment {name!r} is not archived", hint="only an archived experiment can be "
                               "reactivated; Experiment.list(ws, view_type=ViewType.ARCHIVED_ONLY) lists them")
            if new_name and new_name != row.name:
                if not _EXPERIMENT_NAME.fullmatch(new_name):
                    raise InvalidInput(f"experiment name {new_name!r} is not valid",
                                       hint=models.EXPERIMENT_NAME_HINT)
                taken = s.scalar(select(ExperimentRow.id).where(ExperimentRow.workspace_id == ws.id,
                                                                ExperimentRow.name == new_name))
                if taken is not None:
                    raise Conflict(f"experiment {new_name!r} already exists in workspace {ws.name!r}",
                                   hint="reactivate under another new_name")
                row.name = new_name
            row.archived_at = None
            return experiment_model(row, ws.name, s)

    @staticmethod
    def experiment_row(session: Session, ws: WorkspaceRow, name: str, *, create: bool) -> ExperimentRow:
        if not _EXPERIMENT_NAME.fullmatch(name or ""):  # fullmatch: "$" alone lets a trailing newline in
            raise InvalidInput(
                f"experiment name {name!r} is not valid",
                hint=models.EXPERIMENT_NAME_HINT,
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
