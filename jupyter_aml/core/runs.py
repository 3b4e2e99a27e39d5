"""Runs: creation (experiments auto-created), child runs and edits; ``RunService`` is the whole run API.

Child runs are bounded per top-level run (``ServiceSettings.max_child_runs_per_run``, counted over the whole
tree, since a run's token reaches its subtree): a batch that would pass the quota is refused whole.

The other parts live by what they do: ``run_views`` (lookup and conversion), ``run_queries`` (the paged
listing, children), ``run_status`` (the lifecycle and heartbeats).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from jupyter_aml.core import models
from jupyter_aml.core.models import RunStatus
from jupyter_aml.core.run_logs import RunLogs
from jupyter_aml.core.run_queries import MAX_PAGE, SORTS, RunQueries
from jupyter_aml.core.run_status import TRANSITIONS, RunLifecycle
from jupyter_aml.core.run_views import ActiveRun
from jupyter_aml.core.settings import MAX_CHILD_RUNS_PER_RUN
from jupyter_aml.core.workspaces import WorkspaceService, utcnow
from jupyter_aml.errors import Conflict, InvalidInput, NotFound, QuotaExceeded
from jupyter_aml.store.tables import (
    ActivityRow,
    ExperimentRow,
    RunPropertyRow,
    RunRow,
    RunTagRow,
    SnapshotFileRow,
    WorkspaceRow,
)

__all__ = ["MAX_PAGE", "SORTS", "TRANSITIONS", "ActiveRun", "RunService", "new_run_id"]

S = RunStatus


def new_run_id(experiment: str) -> str:
    """v1's ``<experiment>_<epoch seconds>_<8 hex>``; a space of the experiment's name is '_' in the id."""
    return f"{experiment.replace(' ', '_')}_{int(time.time())}_{secrets.token_hex(4)}"


class RunService(RunQueries, RunLifecycle, RunLogs):
    """Runs of every workspace: the queries and lifecycle come from its bases, creation is here."""

    # The service sets it from ServiceSettings.max_child_runs_per_run; read at each call, so it can change live.
    max_child_runs_per_run: int = MAX_CHILD_RUNS_PER_RUN

    # -- writing -------------------------------------------------------------------------------------
    def create(
        self, workspace: str, spec: models.RunCreate, *, submitter: str, parent_id: str | None = None,
        activity: dict[str, Any] | None = None,
    ) -> models.Run:
        """A new run; with ``parent_id``, a child of that run in its experiment (HyperDrive's script children).
        ``activity``: the activity-log row of the request (``Sharing.record``'s fields, the run's id as its
        target), written in the same transaction: the run and its record exist together or not at all."""
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
            parent = self._parent_of_new(s, workspace, parent_id, exp) if parent_id else None
            row = self._new_row(
                s, ws, exp, parent=parent, kind=spec.kind, display_name=spec.display_name, submitter=submitter
            )
            row.description = spec.description
            row.snapshot_id = spec.snapshot_id
            row.git = spec.git.model_dump() if spec.git else None
            if spec.run_config is not None:
                row.run_config = spec.run_config.model_dump()
                row.compute_target = spec.run_config.compute_target
            if spec.kind == "interactive":
                row.status, row.start_time, row.heartbeat_at = S.RUNNING.value, utcnow(), utcnow()
            self._write_kv(s, row.id, tags=spec.tags, properties=spec.properties, new=True)
            if activity is not None:
                s.execute(insert(ActivityRow), [{**activity, "target": row.id, "time": utcnow()}])
            s.flush()
            # built from what was just written: reading the run back was 4 more statements per creation
            run = self.model_of(row, exp.name, ws.name, {k: str(v) for k, v in spec.tags.items()},
                                {k: str(v) for k, v in spec.properties.items()})
        self._emit(run)
        return run

    def _parent_of_new(self, s: Session, workspace: str, parent_id: str, exp: ExperimentRow) -> RunRow:
        parent = self.row(s, workspace, parent_id)
        if S(parent.status).terminal:
            raise Conflict(f"run {parent_id!r} is {parent.status}; it cannot get new child runs")
        if parent.experiment_id != exp.id:
            raise InvalidInput(f"a child run is in its parent's experiment, not {exp.name!r}")
        self._check_child_quota(s, parent, 1)
        return parent

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
        number, shown = self._next_number(s, exp, parent)
        run_id = new_run_id(exp.name)
        row = RunRow(
            id=run_id,
            workspace_id=ws.id,
            experiment_id=exp.id,
            number=number,
            display_number=shown,
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

    @staticmethod
    def _next_number(s: Session, exp: ExperimentRow, parent: RunRow | None) -> tuple[int, str]:
        """The new run's number and how it is shown. Top-level runs count up per experiment without gaps
        (#1, #2, #3, as v1's run numbers); a child counts under its parent (#4.1, #4.2, and #4.1.1 below
        that), so a sweep's hundred children do not push the next top-level run to #105. The counter row is
        locked, so two submissions never get one number."""
        if parent is None:
            # one atomic UPDATE (a row lock on PostgreSQL) instead of a locking re-read of the experiment
            bump = (update(ExperimentRow).where(ExperimentRow.id == exp.id)
                    .values(run_count=ExperimentRow.run_count + 1).execution_options(synchronize_session=False))
            if s.get_bind().dialect.update_returning:
                number = s.execute(bump.returning(ExperimentRow.run_count)).scalar_one()
            else:  # a SQLite older than 3.35: no RETURNING
                s.execute(bump)
                number = s.execute(select(ExperimentRow.run_count).where(ExperimentRow.id == exp.id)).scalar_one()
            set_committed_value(exp, "run_count", number)  # the session's copy, without making it dirty
            return number, str(number)
        holder = s.scalar(select(RunRow).where(RunRow.id == parent.id).with_for_update())
        assert holder is not None
        holder.child_count += 1
        return holder.child_count, f"{holder.display_number or holder.number}.{holder.child_count}"

    def create_children(
        self, workspace: str, parent_id: str, spec: models.ChildCreate, *, submitter: str
    ) -> list[models.Run]:
        with self.db.session() as s:
            parent = self.row(s, workspace, parent_id)
            if S(parent.status).terminal:
                raise Conflict(f"run {parent_id!r} is {parent.status}; it cannot get new child runs")
            self._check_child_quota(s, parent, spec.count)
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
                self._write_kv(s, row.id, tags=spec.tags, properties=spec.properties, new=True)
            s.flush()
            runs = self.to_models(s, rows)
        for run in runs:
            self._emit(run)
        return runs

    def _check_child_quota(self, s: Session, parent: RunRow, count: int) -> None:
        """Refuse the whole batch if the tree would pass the quota. Write sessions never interleave (see
        store.dialects), so no concurrent batch can slip in between this count and the inserts."""
        quota = self.max_child_runs_per_run
        in_tree = (RunRow.root_id == parent.root_id, RunRow.id != RunRow.root_id)
        existing = s.scalar(select(func.count()).select_from(RunRow).where(*in_tree)) or 0
        if existing + count > quota:
            raise QuotaExceeded(
                f"top-level run {parent.root_id!r} already has {existing} child runs (at any depth) and the quota is "
                f"{quota} per top-level run, so {count} more cannot be created; none of them were",
                hint="finish this run and start a new top-level one, or have the workspace's operator raise "
                "max_child_runs_per_run (c.AMLExtension.max_child_runs_per_run)",
                details={"quota": quota, "existing": existing, "requested": count, "root_id": parent.root_id},
            )

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
    def _write_kv(s: Session, run_id: str, *, tags: dict[str, Any], properties: dict[str, Any],
                  new: bool = False) -> None:
        """Set tags, and properties that are not set yet. ``new``: the run was made in this session and has
        none, so there is nothing to read first (a lookup per key was most of a 10-tag run's creation)."""
        if new:
            s.flush()  # the run's row first: no relationship() tells the unit of work to order them
            # bulk INSERTs (one executemany per table), no ORM objects: nothing in this session reads them back
            if tags:
                s.execute(insert(RunTagRow), [{"run_id": run_id, "key": k, "value": str(v)} for k, v in tags.items()])
            if properties:
                s.execute(insert(RunPropertyRow),
                          [{"run_id": run_id, "key": k, "value": str(v)} for k, v in properties.items()])
            return
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
