"""Who a run token speaks for: the run, its workspace and its snapshot, while the run may still act.

A token's signature proves which run it was minted for without the database (``core.tokens``); whether
that run exists and is still within its grace period after ending needs the store, so it lives here and
the server's authentication only calls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from jupyter_aml.core.tokens import RunTokens
from jupyter_aml.core.workspaces import as_utc, utcnow
from jupyter_aml.errors import Unauthorized
from jupyter_aml.statuses import is_terminal
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import ExperimentRow, RunRow, WorkspaceRow


@dataclass(frozen=True)
class RunPrincipal:
    """What a request with a run token may act as: one run of one workspace, and the snapshot it runs."""

    run_id: str
    workspace: str
    snapshot_id: str | None
    submitter: str = ""
    experiment: str = ""  # the run's experiment, by its current name (a reactivate may have renamed it)


class RunPrincipals:
    def __init__(self, db: Store, tokens: RunTokens, *, grace_seconds: float) -> None:
        self.db = db
        self.tokens = tokens
        self.grace = timedelta(seconds=grace_seconds)

    def run_id(self, token: str) -> str | None:
        """The run a bearer token was minted for, or None if it is not a valid run token (no database)."""
        return self.tokens.verify(token)

    def resolve(self, run_id: str) -> RunPrincipal:
        """The principal of a verified token's run; Unauthorized if the run is gone or ended too long ago."""
        with self.db.read() as s:
            found = s.execute(
                select(RunRow.id, RunRow.status, RunRow.end_time, RunRow.snapshot_id, RunRow.submitter,
                       WorkspaceRow.name, ExperimentRow.name.label("experiment"))
                .join(WorkspaceRow, WorkspaceRow.id == RunRow.workspace_id)
                .join(ExperimentRow, ExperimentRow.id == RunRow.experiment_id)
                .where(RunRow.id == run_id)
            ).first()
        if found is None:
            raise Unauthorized("the run token names a run that does not exist")
        ended = as_utc(found.end_time)
        if is_terminal(found.status) and ended is not None and utcnow() - ended > self.grace:
            raise Unauthorized(f"the token of run {run_id} expired when the run ended")
        return RunPrincipal(run_id=found.id, workspace=found.name, snapshot_id=found.snapshot_id,
                            submitter=found.submitter, experiment=found.experiment)
