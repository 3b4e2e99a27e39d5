"""Runs: creation (experiments auto-created), the status lifecycle, tags/properties, children, listing."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from jupyter_aml.core import models
from jupyter_aml.core.events import EventSink, discard
from jupyter_aml.core.models import ACTIVE_STATUSES, RunStatus
from jupyter_aml.core.workspaces import WorkspaceService, as_utc, utc, utcnow
from jupyter_aml.errors import Conflict, InvalidInput, NotFound
from jupyter_aml.store.db import Database
from jupyter_aml.store.tables import (
    ExperimentRow,
    MetricSeriesRow,
    RunPropertyRow,
    RunRow,
    RunTagRow,
    SnapshotFileRow,
    WorkspaceRow,
)

S = RunStatus
# Allowed transitions. Re-reporting the current status is always a no-op.
TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    S.QUEUED: frozenset({S.PREPARING, S.STARTING, S.RUNNING, S.FAILED, S.CANCELED}),
    S.PREPARING: frozenset({S.STARTING, S.RUNNING, S.FAILED, S.CANCELED, S.NOT_RESPONDING}),
    S.STARTING: frozenset({S.RUNNING, S.FAILED, S.CANCELED, S.NOT_RESPONDING}),
    S.RUNNING: frozenset({S.FINALIZING, S.COMPLETED, S.FAILED, S.CANCELED, S.NOT_RESPONDING}),
    S.FINALIZING: frozenset({S.COMPLETED, S.FAILED, S.CANCELED, S.NOT_RESPONDING}),
    S.NOT_RESPONDING: frozenset({S.PREPARING, S.STARTING, S.RUNNING, S.FINALIZING, S.COMPLETED, S.FAILED, S.CANCELED}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELED: frozenset(),
}
STARTED = frozenset({S.RUNNING, S.FINALIZING, S.NOT_RESPONDING})
SORTS = {"created_at", "start_time", "duration", "status", "number", "display_name"}
MAX_PAGE = 500


def new_run_id(experiment: str) -> str:
    return f"{experiment}_{int(time.time())}_{secrets.token_hex(4)}"


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _page_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        kind, value = base64.urlsafe_b64decode(token.encode()).decode().split(":", 1)
        if kind != "o" or int(value) < 0:
            raise ValueError
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"page_token {token!r} is not valid", hint="pass next_page_token as returned") from None


def _kv(spec: str, what: str) -> tuple[str, str | None]:
    key, sep, value = spec.partition("=")
    if not key:
        raise InvalidInput(f"{what} filter {spec!r} is not valid", hint=f"use {what}=key or {what}=key=value")
    return key, (value if sep else None)


class RunService:
    def __init__(self, db: Database, events: EventSink = discard) -> None:
        self.db = db
        self.events = events

    # -- reading -------------------------------------------------------------------------------------
    @staticmethod
    def row(session: Session, workspace: str, run_id: str) -> RunRow:
        row = session.scalar(
            select(RunRow)
            .join(WorkspaceRow, WorkspaceRow.id == RunRow.workspace_id)
            .where(RunRow.id == run_id, WorkspaceRow.name == workspace)
        )
        if row is None:
            raise NotFound(
                f"run {run_id!r} not found in workspace {workspace!r}", hint="check the id with `aml run list`"
            )
        return row

    def get(self, workspace: str, run_id: str) -> models.Run:
        with self.db.read() as s:
            return self.to_models(s, [self.row(s, workspace, run_id)])[0]

    def get_row(self, workspace: str, run_id: str) -> RunRow:
        with self.db.read() as s:
            return self.row(s, workspace, run_id)

    def to_models(self, s: Session, rows: Sequence[RunRow]) -> list[models.Run]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        props: dict[str, dict[str, str]] = {i: {} for i in ids}
        # plain columns, not ORM objects: building entities was most of the time of a run listing
        for run_id, key, value in s.execute(
            select(RunTagRow.run_id, RunTagRow.key, RunTagRow.value).where(RunTagRow.run_id.in_(ids))
        ):
            tags[run_id][key] = value
        for run_id, key, value in s.execute(
            select(RunPropertyRow.run_id, RunPropertyRow.key, RunPropertyRow.value).where(
                RunPropertyRow.run_id.in_(ids)
            )
        ):
            props[run_id][key] = value
        exp_ids = {r.experiment_id for r in rows}
        names = dict(s.execute(select(ExperimentRow.id, ExperimentRow.name).where(ExperimentRow.id.in_(exp_ids))).all())
        ws_names = dict(s.execute(select(WorkspaceRow.id, WorkspaceRow.name)).all())
        now = utcnow()
        out = []
        for r in rows:
            start, end = as_utc(r.start_time), as_utc(r.end_time)
            duration = r.duration_seconds
            if duration is None and start is not None:
                duration = ((end or now) - start).total_seconds()
            out.append(
                models.Run(
                    id=r.id,
                    number=r.number,
                    experiment=names[r.experiment_id],
                    workspace=ws_names[r.workspace_id],
                    parent_id=r.parent_id,
                    root_id=r.root_id,
                    kind=r.kind,
                    display_name=r.display_name,
                    description=r.description,
                    status=RunStatus(r.status),
                    created_at=utc(r.created_at),
                    start_time=start,
                    end_time=end,
                    duration_seconds=duration,
                    heartbeat_at=as_utc(r.heartbeat_at),
                    submitter=r.submitter,
                    compute_target=r.compute_target,
                    run_config=r.run_config,
                    snapshot_id=r.snapshot_id,
                    git=r.git,
                    error=r.error,
                    exit_code=r.exit_code,
                    tags=tags[r.id],
                    properties=props[r.id],
                )
            )
        return out

    def find(
        self,
        workspace: str,
        *,
        experiment: str | None = None,
        statuses: Iterable[str] = (),
        tags: Iterable[str] = (),
        properties: Iterable[str] = (),
        parent_id: str | None = None,
        root_only: bool = False,
        sort: str = "-created_at",
        page_size: int = 50,
        page_token: str | None = None,
    ) -> models.RunPage:
        if not 1 <= page_size <= MAX_PAGE:
            raise InvalidInput(f"page_size {page_size} is out of range", hint=f"use 1..{MAX_PAGE}")
        offset = _page_offset(page_token)
        with self.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            conds: list[Any] = [RunRow.workspace_id == ws.id]
            if experiment:
                conds.append(
                    RunRow.experiment_id == WorkspaceService.experiment_row(s, ws, experiment, create=False).id
                )
            wanted = list(statuses)
            for status in wanted:
                if status not in RunStatus._value2member_map_:
                    raise InvalidInput(
                        f"status {status!r} is not a run status",
                        hint="use one of " + ", ".join(x.value for x in RunStatus),
                    )
            if wanted:
                conds.append(RunRow.status.in_(wanted))
            for table, specs, what in ((RunTagRow, tags, "tag"), (RunPropertyRow, properties, "property")):
                for spec in specs:
                    key, value = _kv(spec, what)
                    match = and_(table.run_id == RunRow.id, table.key == key)
                    if value is not None:
                        match = and_(match, table.value == value)
                    conds.append(exists().where(match))
            if parent_id:
                conds.append(RunRow.parent_id == parent_id)
            elif root_only:
                conds.append(RunRow.parent_id.is_(None))
            query: Select[Any] = select(RunRow).where(*conds)
            query = self._order(query, sort)
            total = s.scalar(select(func.count()).select_from(RunRow).where(*conds)) or 0
            rows = list(s.scalars(query.offset(offset).limit(page_size)))
            next_token = _page_token(offset + page_size) if offset + page_size < total else None
            return models.RunPage(items=self.to_models(s, rows), next_page_token=next_token, total=total)

    @staticmethod
    def _order(query: Select[Any], sort: str) -> Select[Any]:
        desc = sort.startswith("-")
        key = sort.lstrip("-")
        if key.startswith("metric:"):
            name = key.split(":", 1)[1]
            series = (
                select(MetricSeriesRow.last_value)
                .where(MetricSeriesRow.run_id == RunRow.id, MetricSeriesRow.name == name)
                .scalar_subquery()
            )
            column: Any = series
        elif key in SORTS:
            column = {"duration": RunRow.duration_seconds}.get(key, getattr(RunRow, key, None))
        else:
            raise InvalidInput(
                f"sort {sort!r} is not supported",
                hint="use created_at, start_time, duration, status, number or metric:NAME, with '-' for descending",
            )
        ordered = column.desc() if desc else column.asc()
        return query.order_by(ordered.nulls_last(), RunRow.id.desc() if desc else RunRow.id.asc())

    def children(self, workspace: str, run_id: str, *, recursive: bool = False) -> list[models.Run]:
        with self.db.read() as s:
            parent = self.row(s, workspace, run_id)
            cond = RunRow.path.startswith(parent.path) if recursive else RunRow.parent_id == parent.id
            rows = list(
                s.scalars(select(RunRow).where(cond, RunRow.id != parent.id).order_by(RunRow.created_at, RunRow.number))
            )
            return self.to_models(s, rows)

    def in_subtree(self, workspace: str, ancestor_id: str, run_ids: Iterable[str]) -> set[str]:
        """Which of ``run_ids`` are ``ancestor_id`` or its descendants."""
        ids = set(run_ids)
        with self.db.read() as s:
            root = self.row(s, workspace, ancestor_id)
            found = s.scalars(select(RunRow.id).where(RunRow.id.in_(ids), RunRow.path.startswith(root.path)))
            return set(found)

    # -- writing -------------------------------------------------------------------------------------
    def create(self, workspace: str, spec: models.RunCreate, *, submitter: str) -> models.Run:
        if spec.kind == "script" and (spec.run_config is None or spec.snapshot_id is None):
            raise InvalidInput(
                "a script run needs run_config and snapshot_id",
                hint="submit through ScriptRunConfig, which snapshots the source folder",
            )
        with self.db.session() as s:
            ws = WorkspaceService.row(s, workspace)
            if spec.kind == "script":
                assert spec.run_config is not None and spec.snapshot_id is not None
                self._check_script(s, spec.snapshot_id, spec.run_config.script)
            exp = WorkspaceService.experiment_row(s, ws, spec.experiment, create=True)
            row = self._new_row(
                s, ws, exp, parent=None, kind=spec.kind, display_name=spec.display_name, submitter=submitter
            )
            row.description = spec.description
            row.snapshot_id = spec.snapshot_id
            row.git = spec.git.model_dump() if spec.git else None
            if spec.run_config is not None:
                row.run_config = spec.run_config.model_dump()
                row.compute_target = spec.run_config.compute_target
            if spec.kind == "interactive":
                row.status, row.start_time, row.heartbeat_at = S.RUNNING.value, utcnow(), utcnow()
            self._write_kv(s, row.id, tags=spec.tags, properties=spec.properties)
            s.flush()
            run = self.to_models(s, [row])[0]
        self._emit(run)
        return run

    @staticmethod
    def _check_script(s: Session, snapshot_id: str, script: str) -> None:
        from jupyter_aml.snapshot.paths import validate_relpath

        path = validate_relpath(script)
        hit = s.scalar(
            select(SnapshotFileRow.path).where(SnapshotFileRow.snapshot_id == snapshot_id, SnapshotFileRow.path == path)
        )
        if hit is None:
            known = s.scalar(
                select(func.count()).select_from(SnapshotFileRow).where(SnapshotFileRow.snapshot_id == snapshot_id)
            )
            if not known:
                raise NotFound(f"snapshot {snapshot_id!r} not found", hint="upload the snapshot before submitting")
            raise InvalidInput(
                f"script {script!r} is not in the source directory snapshot",
                hint="check ScriptRunConfig(source_directory=..., script=...); the script path is "
                "relative to source_directory and must not be ignored by .amlignore/.gitignore",
            )

    def _new_row(
        self,
        s: Session,
        ws: WorkspaceRow,
        exp: ExperimentRow,
        *,
        parent: RunRow | None,
        kind: str,
        display_name: str,
        submitter: str,
    ) -> RunRow:
        locked = s.scalar(select(ExperimentRow).where(ExperimentRow.id == exp.id).with_for_update())
        assert locked is not None
        locked.run_count += 1
        run_id = new_run_id(exp.name)
        row = RunRow(
            id=run_id,
            workspace_id=ws.id,
            experiment_id=exp.id,
            number=locked.run_count,
            parent_id=parent.id if parent else None,
            root_id=parent.root_id if parent else run_id,
            path=f"{parent.path if parent else '/'}{run_id}/",
            kind=kind,
            display_name=display_name or run_id,
            description="",
            status=S.QUEUED.value,
            created_at=utcnow(),
            submitter=submitter,
            compute_target=parent.compute_target if parent else None,
        )
        s.add(row)
        return row

    def create_children(
        self, workspace: str, parent_id: str, spec: models.ChildCreate, *, submitter: str
    ) -> list[models.Run]:
        with self.db.session() as s:
            parent = self.row(s, workspace, parent_id)
            if S(parent.status).terminal:
                raise Conflict(f"run {parent_id!r} is {parent.status}; it cannot get new child runs")
            ws = s.get(WorkspaceRow, parent.workspace_id)
            exp = s.get(ExperimentRow, parent.experiment_id)
            assert ws is not None and exp is not None
            rows = []
            for index in range(spec.count):
                name = spec.display_name if spec.count == 1 else f"{spec.display_name or 'child'}_{index}"
                row = self._new_row(s, ws, exp, parent=parent, kind="child", display_name=name, submitter=submitter)
                row.status, row.start_time, row.heartbeat_at = S.RUNNING.value, utcnow(), utcnow()
                rows.append(row)
                s.flush()
                self._write_kv(s, row.id, tags=spec.tags, properties=spec.properties)
            s.flush()
            runs = self.to_models(s, rows)
        for run in runs:
            self._emit(run)
        return runs

    def update(self, workspace: str, run_id: str, spec: models.RunUpdate) -> models.Run:
        with self.db.session() as s:
            row = self.row(s, workspace, run_id)
            if spec.display_name is not None:
                row.display_name = spec.display_name
            if spec.description is not None:
                row.description = spec.description
            self._write_kv(s, run_id, tags=spec.tags or {}, properties=spec.properties or {})
            for key in spec.remove_tags:
                tag = s.get(RunTagRow, (run_id, key))
                if tag is not None:
                    s.delete(tag)
            s.flush()
            run = self.to_models(s, [row])[0]
        self._emit(run)
        return run

    @staticmethod
    def _write_kv(s: Session, run_id: str, *, tags: dict[str, Any], properties: dict[str, Any]) -> None:
        for key, value in tags.items():
            existing = s.get(RunTagRow, (run_id, key))
            if existing is None:
                s.add(RunTagRow(run_id=run_id, key=key, value=str(value)))
            else:
                existing.value = str(value)
        for key, value in properties.items():
            prop = s.get(RunPropertyRow, (run_id, key))
            if prop is None:
                s.add(RunPropertyRow(run_id=run_id, key=key, value=str(value)))
            elif prop.value != str(value):
                raise Conflict(
                    f"property {key!r} of run {run_id!r} is already {prop.value!r}",
                    hint="properties are immutable once set; use a tag for values that change",
                )

    def set_status(self, workspace: str, run_id: str, update: models.StatusUpdate) -> models.Run:
        with self.db.session() as s:
            row = self.row(s, workspace, run_id)
            changed = self._transition(row, update.status, error=update.error, exit_code=update.exit_code)
            rows = [row]
            if changed and update.status.terminal:
                rows += self._finish_descendants(s, row)
            s.flush()
            runs = self.to_models(s, rows)
        for run in runs:
            self._emit(run)
        return runs[0]

    def _finish_descendants(self, s: Session, row: RunRow) -> list[RunRow]:
        """A run that ends takes its still-active descendants with it (they cannot log any more)."""
        status = S(row.status)
        error = (
            None
            if status == S.COMPLETED
            else models.RunError(
                message=f"parent run {row.id} ended with status {status.value} while this run was active"
            )
        )
        finished = []
        for child in s.scalars(
            select(RunRow).where(
                RunRow.path.startswith(row.path),
                RunRow.id != row.id,
                RunRow.status.in_([x.value for x in ACTIVE_STATUSES]),
            )
        ):
            self._transition(child, status, error=error)
            finished.append(child)
        return finished

    @staticmethod
    def _transition(
        row: RunRow, new: RunStatus, *, error: models.RunError | None = None, exit_code: int | None = None
    ) -> bool:
        old = S(row.status)
        if new == old:
            return False
        if new not in TRANSITIONS[old]:
            raise Conflict(
                f"run {row.id!r} cannot go from {old.value} to {new.value}",
                hint="a run that has ended keeps its final status",
            )
        now = utcnow()
        row.status = new.value
        if new in STARTED and row.start_time is None:
            row.start_time = now
        if new in (S.PREPARING, S.STARTING, S.RUNNING):
            row.heartbeat_at = now
        if new.terminal:
            row.end_time = now
            start = as_utc(row.start_time)
            row.duration_seconds = (now - start).total_seconds() if start else 0.0
        if error is not None:
            row.error = error.model_dump()
        if exit_code is not None:
            row.exit_code = exit_code
        return True

    def heartbeat(self, workspace: str, run_id: str) -> RunStatus:
        with self.db.session() as s:
            row = self.row(s, workspace, run_id)
            now = utcnow()
            for active in s.scalars(
                select(RunRow).where(
                    RunRow.path.startswith(row.path), RunRow.status.in_([x.value for x in ACTIVE_STATUSES])
                )
            ):
                active.heartbeat_at = now
            revived = S(row.status) == S.NOT_RESPONDING
            if revived:
                row.status = S.RUNNING.value
            status = S(row.status)
            run = self.to_models(s, [row])[0] if revived else None
        if run is not None:
            self._emit(run)
        return status

    def set_agent(self, workspace: str, run_id: str, agent: dict[str, Any]) -> None:
        with self.db.session() as s:
            self.row(s, workspace, run_id).agent = agent

    def active_runs(self) -> list[tuple[str, RunRow]]:
        """(workspace name, run) for every run not in a terminal status."""
        with self.db.read() as s:
            rows = s.execute(
                select(WorkspaceRow.name, RunRow)
                .join(WorkspaceRow, WorkspaceRow.id == RunRow.workspace_id)
                .where(RunRow.status.in_([x.value for x in ACTIVE_STATUSES]))
            )
            return [(name, row) for name, row in rows]

    def mark_stale(self, *, not_responding_before: datetime, failed_before: datetime) -> list[models.Run]:
        """Heartbeat monitor: silent runs go NotResponding, then Failed."""
        changed: list[models.Run] = []
        with self.db.session() as s:
            silent = s.scalars(
                select(RunRow).where(
                    RunRow.status.in_(
                        [
                            S.RUNNING.value,
                            S.FINALIZING.value,
                            S.PREPARING.value,
                            S.STARTING.value,
                            S.NOT_RESPONDING.value,
                        ]
                    ),
                    RunRow.heartbeat_at < not_responding_before,
                )
            )
            rows = []
            for row in silent:
                beat = as_utc(row.heartbeat_at)
                assert beat is not None
                if beat < failed_before:
                    self._transition(
                        row,
                        S.FAILED,
                        error=models.RunError(message="the run stopped sending heartbeats and was marked Failed"),
                    )
                elif row.status != S.NOT_RESPONDING.value:
                    self._transition(row, S.NOT_RESPONDING)
                else:
                    continue
                rows.append(row)
            s.flush()
            changed = self.to_models(s, rows)
        for run in changed:
            self._emit(run)
        return changed

    def fail_orphan(self, workspace: str, run_id: str, message: str) -> models.Run:
        return self.set_status(
            workspace, run_id, models.StatusUpdate(status=S.FAILED, error=models.RunError(message=message))
        )

    def _emit(self, run: models.Run) -> None:
        self.events(run.workspace, {"type": "run", "run": run.model_dump(mode="json")})
