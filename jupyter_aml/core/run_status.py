"""The run status lifecycle: allowed transitions, heartbeats, the stale-run monitor's marks, active runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jupyter_aml.core import models
from jupyter_aml.core.models import ACTIVE_STATUSES, RunStatus
from jupyter_aml.core.run_views import ActiveRun, RunReader
from jupyter_aml.core.workspaces import as_utc, utcnow
from jupyter_aml.errors import Conflict
from jupyter_aml.store.tables import RunRow, WorkspaceRow

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
_ACTIVE = [x.value for x in ACTIVE_STATUSES]
_BEATING = [x for x in _ACTIVE if x != S.QUEUED.value]  # a queued run has no agent to send heartbeats yet


def transition(
    row: RunRow, new: RunStatus, *, error: models.RunError | None = None, exit_code: int | None = None
) -> bool:
    """Move ``row`` to ``new`` (times, error, exit code); False when it already was there."""
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


class RunLifecycle(RunReader):
    def set_status(self, workspace: str, run_id: str, update: models.StatusUpdate) -> models.Run:
        with self.db.session() as s:
            row = self.row(s, workspace, run_id)
            changed = transition(row, update.status, error=update.error, exit_code=update.exit_code)
            rows = [row]
            if changed and update.status.terminal and row.child_count:  # a run never given a child has none
                rows += self._finish_descendants(s, row)
            s.flush()
            runs = self.to_models(s, rows, workspace=workspace)
        for run in runs:
            self._emit(run)
        return runs[0]

    @staticmethod
    def _finish_descendants(s: Session, row: RunRow) -> list[RunRow]:
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
            select(RunRow).where(RunRow.path.startswith(row.path), RunRow.id != row.id, RunRow.status.in_(_ACTIVE))
        ):
            transition(child, status, error=error)
            finished.append(child)
        return finished

    def heartbeat(self, workspace: str, run_id: str) -> RunStatus:
        with self.db.session() as s:
            row = self.row(s, workspace, run_id)
            now = utcnow()
            for active in s.scalars(select(RunRow).where(RunRow.path.startswith(row.path), RunRow.status.in_(_ACTIVE))):
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

    def active_runs(self) -> list[ActiveRun]:
        """Every run not in a terminal status, for the run queue's reconciliation after a restart."""
        with self.db.read() as s:
            rows = s.execute(
                select(WorkspaceRow.name, RunRow)
                .join(WorkspaceRow, WorkspaceRow.id == RunRow.workspace_id)
                .where(RunRow.status.in_(_ACTIVE))
            )
            return [ActiveRun.of(name, row) for name, row in rows]

    def active_run(self, run_id: str) -> ActiveRun | None:
        """The run if it has not ended (in any workspace: the run queue knows runs by id)."""
        with self.db.read() as s:
            found = s.execute(
                select(WorkspaceRow.name, RunRow)
                .join(WorkspaceRow, WorkspaceRow.id == RunRow.workspace_id)
                .where(RunRow.id == run_id, RunRow.status.in_(_ACTIVE))
            ).first()
            return ActiveRun.of(found[0], found[1]) if found else None

    def mark_stale(self, *, not_responding_before: datetime, failed_before: datetime) -> list[models.Run]:
        """Heartbeat monitor: silent runs go NotResponding, then Failed."""
        with self.db.session() as s:
            silent = s.scalars(
                select(RunRow).where(
                    RunRow.status.in_(_BEATING),
                    RunRow.heartbeat_at < not_responding_before,
                )
            )
            rows = []
            for row in silent:
                beat = as_utc(row.heartbeat_at)
                assert beat is not None
                if beat < failed_before:
                    transition(
                        row,
                        S.FAILED,
                        error=models.RunError(message="the run stopped sending heartbeats and was marked Failed"),
                    )
                elif row.status != S.NOT_RESPONDING.value:
                    transition(row, S.NOT_RESPONDING)
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
