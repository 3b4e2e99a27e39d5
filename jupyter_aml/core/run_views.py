"""Runs as the rest of the service sees them: row lookup, and the ORM-to-model conversion every read uses.

Nothing outside ``core`` gets an ORM row: readers get ``models.Run``, the scheduler an ``ActiveRun``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from jupyter_aml.core import models
from jupyter_aml.core.events import EventSink, RunEvent, discard
from jupyter_aml.core.models import RunKind, RunStatus
from jupyter_aml.core.workspaces import as_utc, utc, utcnow
from jupyter_aml.errors import NotFound
from jupyter_aml.store.db import Store
from jupyter_aml.store.tables import ExperimentRow, RunPropertyRow, RunRow, RunTagRow, WorkspaceRow


def _among(column: Any, values: Sequence[Any]) -> Any:
    """``column = v`` for one value (a cached statement), ``IN (...)`` for more: an expanding IN is compiled
    anew for each call, a measurable part of reading back one run (its status change, its page)."""
    return column == values[0] if len(values) == 1 else column.in_(values)


def run_not_found(run_id: str, workspace: str) -> NotFound:
    """The one answer for a run that is missing or out of the caller's reach: the same words for both."""
    return NotFound(f"run {run_id!r} not found in workspace {workspace!r}", hint="check the id with `aml run list`")


@dataclass(frozen=True)
class ActiveRun:
    """What the run queue needs of a run that has not ended, detached from the store's session."""

    workspace: str
    id: str
    kind: RunKind
    status: RunStatus
    compute_target: str | None
    agent: dict[str, Any] | None  # what the compute backend recorded to find the run again after a restart

    @classmethod
    def of(cls, workspace: str, row: RunRow) -> ActiveRun:
        return cls(
            workspace=workspace,
            id=row.id,
            kind=cast(RunKind, row.kind),
            status=RunStatus(row.status),
            compute_target=row.compute_target,
            agent=dict(row.agent) if row.agent else None,
        )


class RunReader:
    """The part of the run service every other part builds on: the store, the event sink, and conversion."""

    def __init__(self, db: Store, events: EventSink = discard) -> None:
        self.db = db
        self.events = events

    @staticmethod
    def row(session: Session, workspace: str, run_id: str) -> RunRow:
        row = session.scalar(
            select(RunRow)
            .join(WorkspaceRow, WorkspaceRow.id == RunRow.workspace_id)
            .where(RunRow.id == run_id, WorkspaceRow.name == workspace)
        )
        if row is None:
            raise run_not_found(run_id, workspace)
        return row

    def get(self, workspace: str, run_id: str) -> models.Run:
        with self.db.read() as s:
            return self.to_models(s, [self.row(s, workspace, run_id)])[0]

    def to_models(self, s: Session, rows: Sequence[RunRow], *, workspace: str | None = None) -> list[models.Run]:
        """The rows as models; ``workspace``: the name of the one workspace all ``rows`` are in (what the
        caller looked them up by), so it is not read again."""
        if not rows:
            return []
        ids = [r.id for r in rows]
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        props: dict[str, dict[str, str]] = {i: {} for i in ids}
        # plain columns, not ORM objects: building entities was most of the time of a run listing
        for run_id, key, value in s.execute(
            select(RunTagRow.run_id, RunTagRow.key, RunTagRow.value).where(_among(RunTagRow.run_id, ids))
        ):
            tags[run_id][key] = value
        for run_id, key, value in s.execute(
            select(RunPropertyRow.run_id, RunPropertyRow.key, RunPropertyRow.value).where(
                _among(RunPropertyRow.run_id, ids)
            )
        ):
            props[run_id][key] = value
        exp_ids = list({r.experiment_id for r in rows})
        names = dict(s.execute(select(ExperimentRow.id, ExperimentRow.name)
                               .where(_among(ExperimentRow.id, exp_ids))).all())
        ws_ids = list({r.workspace_id for r in rows})
        if workspace is not None and len(ws_ids) == 1:
            ws_names = {ws_ids[0]: workspace}
        else:
            ws_names = dict(
                s.execute(select(WorkspaceRow.id, WorkspaceRow.name).where(_among(WorkspaceRow.id, ws_ids))).all()
            )
        now = utcnow()
        return [
            self.model_of(r, names[r.experiment_id], ws_names[r.workspace_id], tags[r.id], props[r.id], now)
            for r in rows
        ]

    @staticmethod
    def model_of(r: RunRow, experiment: str, workspace: str, tags: dict[str, str], properties: dict[str, str],
                 now: datetime | None = None) -> models.Run:
        """One row as a model, from names and key/values the caller has (a run it has just written needs no
        read-back)."""
        start, end = as_utc(r.start_time), as_utc(r.end_time)
        duration = r.duration_seconds
        if duration is None and start is not None:
            duration = ((end or now or utcnow()) - start).total_seconds()
        return models.Run(
            id=r.id,
            number=r.number,
            display_number=r.display_number or str(r.number),
            experiment=experiment,
            workspace=workspace,
            parent_id=r.parent_id,
            root_id=r.root_id,
            kind=cast(RunKind, r.kind),
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
            run_config=models.RunConfig.model_validate(r.run_config) if r.run_config is not None else None,
            snapshot_id=r.snapshot_id,
            git=models.GitInfo.model_validate(r.git) if r.git is not None else None,
            error=models.RunError.model_validate(r.error) if r.error is not None else None,
            exit_code=r.exit_code,
            tags=tags,
            properties=properties,
        )

    def _emit(self, run: models.Run) -> None:
        self.events(run.workspace, RunEvent(run=run))
