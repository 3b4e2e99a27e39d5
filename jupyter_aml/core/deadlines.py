"""``max_run_duration_seconds``: a run that runs longer is canceled by the service, with the reason.

The deadline is kept with the run: its start time (set when it first goes Running) plus the limit in its stored
run configuration. The scheduler's monitor asks for the overdue runs on every pass (core/scheduler.py), so a
deadline holds on every compute target and across a restart of the service. Queue time and environment
preparation do not count, as the run has not started yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from jupyter_aml.core.models import RunError, RunStatus
from jupyter_aml.core.workspaces import as_utc
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import RunRow, WorkspaceRow

_TIMED = [s.value for s in (RunStatus.RUNNING, RunStatus.FINALIZING, RunStatus.NOT_RESPONDING)]


@dataclass(frozen=True)
class Overdue:
    workspace: str
    run_id: str
    limit_seconds: int
    ran_seconds: float

    def error(self) -> RunError:
        return RunError(message=f"the run exceeded its max_run_duration_seconds of {self.limit_seconds} s (it ran "
                                f"{self.ran_seconds:.0f} s) and was canceled",
                        details="raise ScriptRunConfig(max_run_duration_seconds=...) or leave it out for no limit")


def overdue_runs(db: Store, now: datetime) -> list[Overdue]:
    """Script runs that have started and run longer than their ``max_run_duration_seconds``."""
    with db.read() as s:
        rows = s.execute(
            select(WorkspaceRow.name, RunRow.id, RunRow.start_time, RunRow.run_config)
            .join(WorkspaceRow, WorkspaceRow.id == RunRow.workspace_id)
            .where(RunRow.status.in_(_TIMED), RunRow.kind == "script", RunRow.start_time.is_not(None),
                   RunRow.run_config.is_not(None))
        ).all()
    found = []
    for workspace, run_id, start_time, run_config in rows:
        limit = (run_config or {}).get("max_run_duration_seconds")
        start = as_utc(start_time)
        if not limit or start is None:
            continue
        if now - start > timedelta(seconds=int(limit)):
            found.append(Overdue(workspace, run_id, int(limit), (now - start).total_seconds()))
    return found
