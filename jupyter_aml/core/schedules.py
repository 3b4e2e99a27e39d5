"""Schedules of published pipelines (v1's ``Schedule``): on a recurrence, or when files are added or changed
under a datastore path. The loop runs in the workspace service, started and stopped with its other
background work, so a schedule fires whether or not a notebook is open.

Every schedule stores its next due time (``next_fire_at``: the next tick, or the next poll of its datastore
path). A due schedule is *claimed* in one transaction: a firing row keyed by (schedule, slot) is inserted
and the schedule moves to its next slot; a slot that already has a row is not fired again. So a restart
never fires one slot twice, and the run is submitted only after the claim is committed (a crash between the
two loses that one firing: at most once, never twice). A schedule whose ticks passed while the service was
down fires once when it comes back, for the earliest missed tick, then goes on from the next tick after
now: missed ticks are not replayed one by one.

A datastore trigger lists the path (jupyter_aml/data/, fsspec) each ``polling_interval`` minutes and fires
when a file was added or its fingerprint (size and mtime, or ETag) changed since the last poll; the first
poll, at creation, only records what is there. Deleted files do not fire, as in v1.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from jupyter_aml.core import pipeline_publish_models as pp
from jupyter_aml.core.pipeline_publish import SCHEDULE_ID, PublishService
from jupyter_aml.core.pipelines_graph import parameter_values
from jupyter_aml.core.schedules_recurrence import first_fire, next_fire, plan
from jupyter_aml.core.workspaces import WorkspaceService, as_utc, utcnow
from jupyter_aml.errors import AMLError, InvalidInput, NotFound
from jupyter_aml.store.tables import WorkspaceRow
from jupyter_aml.store.tables_pipeline_publish import PipelineScheduleRow, ScheduleFireRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
MAX_WATCHED_FILES = 100_000


@dataclass(frozen=True)
class Due:
    """A claimed firing: its row is committed; the run is still to be submitted."""

    fire_id: int
    schedule_id: str
    workspace: str
    slot: str


class ScheduleService:
    max_sleep_seconds = 30.0  # the longest the loop sleeps (a new or changed schedule wakes it at once)

    def __init__(self, publish: PublishService, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.publish = publish
        self.service = publish.service
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    # -- records -----------------------------------------------------------------------------------------
    def create(self, workspace: str, body: pp.ScheduleCreate, *, creator: str) -> pp.Schedule:
        if (body.pipeline_id is None) == (body.pipeline_endpoint_id is None):
            raise InvalidInput("give exactly one of pipeline_id and pipeline_endpoint_id",
                               hint="Schedule.create(ws, name, pipeline_id=published.id, ...)")
        if (body.recurrence is None) == (body.datastore is None):
            raise InvalidInput("give a recurrence or a datastore to watch (exactly one)",
                               hint="recurrence=ScheduleRecurrence(frequency='Hour', interval=1), or "
                                    "datastore=ds, path_on_datastore='incoming'")
        if body.path_on_datastore is not None and body.datastore is None:
            raise InvalidInput("path_on_datastore needs datastore=", hint="pass the datastore the path is on")
        now = self.clock()
        self._check_target(workspace, body.pipeline_id, body.pipeline_endpoint_id, body.pipeline_parameters)
        row = PipelineScheduleRow(
            id=str(uuid.uuid4()), name=body.name, description=body.description, status=pp.ACTIVE,
            experiment_name=body.experiment_name, pipeline_id=body.pipeline_id,
            pipeline_endpoint_id=body.pipeline_endpoint_id, polling_interval=body.polling_interval,
            pipeline_parameters=dict(body.pipeline_parameters), continue_on_step_failure=body.continue_on_step_failure,
            created_at=now, created_by=creator)
        if body.recurrence is not None:
            p, first = first_fire(body.recurrence, now)
            row.recurrence = body.recurrence.model_dump(mode="json", exclude_none=True)
            row.cron, row.next_fire_at = p.cron, first
            if body.recurrence.start_time is None:  # the interval counts from now: keep it
                row.recurrence["start_time"] = p.start.isoformat()
        else:
            assert body.datastore is not None
            self.service.datastores.get(workspace, body.datastore)
            row.datastore, row.path_on_datastore = body.datastore, body.path_on_datastore or ""
            row.data_state = self._listing(workspace, row.datastore, row.path_on_datastore, row.id)
            row.next_fire_at = now + timedelta(minutes=body.polling_interval)
        with self.service.db.session() as s:
            row.workspace_id = WorkspaceService.row(s, workspace).id
            s.add(row)
            s.flush()
            made = _schedule(row)
        self.wake()
        return made

    def _check_target(self, workspace: str, pipeline_id: str | None, endpoint_id: str | None,
                      parameters: dict[str, Any]) -> None:
        """The pipeline (or endpoint) exists and takes these parameters: a wrong one is refused now, not at
        every fire."""
        if endpoint_id is not None:
            _, _, pipeline_id = self.publish.endpoint_pipeline(workspace, endpoint_id, None)
        assert pipeline_id is not None
        request = pp.PipelineSubmitRequest.model_validate({"ExperimentName": "schedule-check",
                                                           "ParameterAssignments": parameters})
        parameter_values(self.publish.run_spec(workspace, pipeline_id, request))

    def list(self, workspace: str, *, active_only: bool = True, pipeline_id: str | None = None,
             pipeline_endpoint_id: str | None = None) -> pp.ScheduleList:
        with self.service.db.read() as s:
            ws = WorkspaceService.row(s, workspace)
            query = select(PipelineScheduleRow).where(PipelineScheduleRow.workspace_id == ws.id)
            if active_only:
                query = query.where(PipelineScheduleRow.status == pp.ACTIVE)
            if pipeline_id is not None:
                query = query.where(PipelineScheduleRow.pipeline_id == pipeline_id)
            if pipeline_endpoint_id is not None:
                query = query.where(PipelineScheduleRow.pipeline_endpoint_id == pipeline_endpoint_id)
            rows = s.scalars(query.order_by(PipelineScheduleRow.created_at, PipelineScheduleRow.id))
            return pp.ScheduleList(items=[_schedule(r) for r in rows])

    def get(self, workspace: str, schedule_id: str) -> pp.Schedule:
        with self.service.db.read() as s:
            return _schedule(_row(s, workspace, schedule_id))

    def update(self, workspace: str, schedule_id: str, body: pp.ScheduleUpdate) -> pp.Schedule:
        now = self.clock()
        current = self.get(workspace, schedule_id)
        if body.recurrence is not None and current.recurrence is None:
            raise InvalidInput("this schedule watches a datastore: it takes no recurrence",
                               hint="create another schedule with recurrence=")
        if body.path_on_datastore is not None and current.datastore_name is None:
            raise InvalidInput("this schedule has a recurrence: it watches no datastore path",
                               hint="create another schedule with datastore= and path_on_datastore=")
        if body.pipeline_parameters is not None:
            self._check_target(workspace, current.pipeline_id, current.pipeline_endpoint_id, body.pipeline_parameters)
        checked = first_fire(body.recurrence, now) if body.recurrence is not None else None
        with self.service.db.session() as s:
            row = _row(s, workspace, schedule_id)
            for field in ("name", "description", "polling_interval", "continue_on_step_failure"):
                if getattr(body, field) is not None:
                    setattr(row, field, getattr(body, field))
            if body.pipeline_parameters is not None:
                row.pipeline_parameters = dict(body.pipeline_parameters)
            if checked is not None and body.recurrence is not None:
                p, first = checked
                row.recurrence = body.recurrence.model_dump(mode="json", exclude_none=True)
                if body.recurrence.start_time is None:
                    row.recurrence["start_time"] = p.start.isoformat()
                row.cron, row.next_fire_at = p.cron, first
            if body.path_on_datastore is not None:
                row.path_on_datastore, row.data_state = body.path_on_datastore, None
            if body.status is not None and body.status != row.status:
                row.status = body.status
                if body.status == pp.ACTIVE:  # enabled: from the next slot after now, none replayed
                    row.next_fire_at = self._after(row, now)
            if body.polling_interval is not None and row.datastore is not None:
                row.next_fire_at = now + timedelta(minutes=row.polling_interval)
            s.flush()
            made = _schedule(row)
        self.wake()
        return made

    def fires(self, workspace: str, schedule_id: str) -> pp.ScheduleFireList:
        with self.service.db.read() as s:
            row = _row(s, workspace, schedule_id)
            fires = s.scalars(select(ScheduleFireRow).where(ScheduleFireRow.schedule_id == row.id)
                              .order_by(ScheduleFireRow.fired_at.desc(), ScheduleFireRow.id.desc()))
            return pp.ScheduleFireList(items=[pp.ScheduleFire(
                slot=f.slot, fired_at=as_utc(f.fired_at) or f.fired_at, run_id=f.run_id, error=f.error)
                for f in fires])

    # -- firing -------------------------------------------------------------------------------------------
    def _after(self, row: PipelineScheduleRow, now: datetime) -> datetime | None:
        if row.recurrence is not None:
            return next_fire(plan(pp.ScheduleRecurrenceSpec.model_validate(row.recurrence),
                                  as_utc(row.created_at) or now), now)
        return now + timedelta(minutes=row.polling_interval)

    def claim_due(self, now: datetime | None = None) -> builtins.list[Due]:
        """Claim every schedule due at ``now``: a firing row per slot, the schedule moved to its next slot,
        committed together. A slot already fired (another claim, before a restart) is not claimed again."""
        now = now or self.clock()
        with self.service.db.read() as s:
            due = list(s.execute(select(PipelineScheduleRow.id, WorkspaceRow.name)
                                 .join(WorkspaceRow, WorkspaceRow.id == PipelineScheduleRow.workspace_id)
                                 .where(PipelineScheduleRow.status == pp.ACTIVE,
                                        PipelineScheduleRow.next_fire_at <= now)).all())
        claimed = []
        for schedule_id, workspace in due:
            try:
                found = self._claim(schedule_id, workspace, now)
            except Exception:
                log.exception("schedule %s: could not claim its slot; trying again in a minute", schedule_id)
                with contextlib.suppress(Exception):  # not a hot loop on a schedule that cannot be claimed
                    self._defer(schedule_id, now + timedelta(minutes=1))
                continue
            if found is not None:
                claimed.append(found)
        return claimed

    def _defer(self, schedule_id: str, when: datetime) -> None:
        with self.service.db.session() as s:
            row = s.get(PipelineScheduleRow, schedule_id)
            if row is not None:
                row.next_fire_at = when

    def _claim(self, schedule_id: str, workspace: str, now: datetime) -> Due | None:
        with self.service.db.read() as s:
            row = s.get(PipelineScheduleRow, schedule_id)
            if row is None or row.status != pp.ACTIVE:
                return None
            datastore, path, state = row.datastore, row.path_on_datastore or "", row.data_state
        changed, listing = False, None
        if datastore is not None:
            try:
                listing = self._listing(workspace, datastore, path, schedule_id)
            except AMLError as exc:
                log.warning("schedule %s: cannot list %s/%s: %s", schedule_id, datastore, path, exc)
            else:
                changed = state is not None and any(state.get(k) != v for k, v in listing.items())
        try:
            with self.service.db.session() as s:
                row = s.get(PipelineScheduleRow, schedule_id)
                if row is None or row.status != pp.ACTIVE or row.next_fire_at is None or \
                        (as_utc(row.next_fire_at) or now) > now:
                    return None  # changed under us
                slot_time = as_utc(row.next_fire_at) or now
                fires = row.recurrence is not None or changed
                slot = (slot_time.isoformat() if row.recurrence is not None else "data:" + now.isoformat())[:64]
                row.next_fire_at = self._after(row, now)
                if listing is not None:
                    row.data_state = listing
                if not fires:
                    return None
                row.last_fire_at = now
                fire = ScheduleFireRow(schedule_id=schedule_id, slot=slot, fired_at=now)
                s.add(fire)
                s.flush()
                return Due(fire.id, schedule_id, workspace, slot)
        except IntegrityError:  # this slot has fired already: move on without firing it again
            with self.service.db.session() as s:
                row = s.get(PipelineScheduleRow, schedule_id)
                if row is not None:
                    row.next_fire_at = self._after(row, now)
            return None

    async def fire(self, due: Due) -> str | None:
        """Submit the claimed firing's run; its row gets the run id or why it could not start."""
        schedule = await asyncio.to_thread(self.get, due.workspace, due.schedule_id)
        request = pp.PipelineSubmitRequest.model_validate({
            "ExperimentName": schedule.experiment_name, "ParameterAssignments": schedule.pipeline_parameters,
            "Description": f"fired by schedule {schedule.name!r} for {due.slot}"})
        run_id, error = None, None
        try:
            if schedule.pipeline_endpoint_id is not None:
                made = await self.publish.submit_endpoint(
                    due.workspace, schedule.pipeline_endpoint_id, request, submitter=schedule.created_by,
                    extra={SCHEDULE_ID: schedule.id}, continue_on_step_failure=schedule.continue_on_step_failure)
            else:
                assert schedule.pipeline_id is not None
                made = await self.publish.submit_published(
                    due.workspace, schedule.pipeline_id, request, submitter=schedule.created_by,
                    extra={SCHEDULE_ID: schedule.id}, continue_on_step_failure=schedule.continue_on_step_failure)
            run_id = made.Id
        except Exception as exc:
            error = str(exc) or exc.__class__.__name__
            log.warning("schedule %s could not start its pipeline for %s: %s", schedule.id, due.slot, error)
        await asyncio.to_thread(self._record, due.fire_id, run_id, error)
        return run_id

    def _record(self, fire_id: int, run_id: str | None, error: str | None) -> None:
        with self.service.db.session() as s:
            fire = s.get(ScheduleFireRow, fire_id)
            if fire is not None:
                fire.run_id, fire.error = run_id, error

    async def run_once(self, now: datetime | None = None) -> builtins.list[str | None]:
        """Claim and fire everything due (the loop's one pass; tests call it with a fake clock)."""
        claimed = await asyncio.to_thread(self.claim_due, now)
        return [await self.fire(due) for due in claimed]

    def _listing(self, workspace: str, datastore: str, path: str, schedule_id: str) -> dict[str, str]:
        """path -> fingerprint of every file under the watched path (none yet: empty)."""
        from jupyter_aml.data import storage

        loc = self.service.datastores.location(workspace, datastore, actor=f"schedule {schedule_id}")
        try:
            files = storage.list_files(loc, path)
        except NotFound:
            return {}
        return {f.path: f"{f.size}:{f.fingerprint}" for f in files[:MAX_WATCHED_FILES]}

    # -- the loop -----------------------------------------------------------------------------------------
    def wake(self) -> None:
        loop_event = self._wake
        if loop_event is None or self._task is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed
            self._task.get_loop().call_soon_threadsafe(loop_event.set)

    def _delay(self) -> float:
        with self.service.db.read() as s:
            soonest = s.scalar(select(PipelineScheduleRow.next_fire_at)
                               .where(PipelineScheduleRow.status == pp.ACTIVE)
                               .order_by(PipelineScheduleRow.next_fire_at).limit(1))
        if soonest is None:
            return self.max_sleep_seconds
        wait = ((as_utc(soonest) or self.clock()) - self.clock()).total_seconds()
        return min(max(wait, 0.05), self.max_sleep_seconds)

    async def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.ensure_future(self._loop())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _loop(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            delay = self.max_sleep_seconds
            try:
                await self.run_once()
                delay = await asyncio.to_thread(self._delay)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the schedule loop's pass failed; trying again")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)


def _row(s: Session, workspace: str, schedule_id: str) -> PipelineScheduleRow:
    ws = WorkspaceService.row(s, workspace)
    row = s.get(PipelineScheduleRow, schedule_id)
    if row is None or row.workspace_id != ws.id:
        raise NotFound(f"no schedule {schedule_id!r} in workspace {workspace!r}",
                       hint="Schedule.list(ws, active_only=False) or `aml schedule list --all`")
    return row


def _schedule(row: PipelineScheduleRow) -> pp.Schedule:
    return pp.Schedule(
        id=row.id, name=row.name, description=row.description, status=row.status,
        experiment_name=row.experiment_name, pipeline_id=row.pipeline_id,
        pipeline_endpoint_id=row.pipeline_endpoint_id,
        recurrence=pp.ScheduleRecurrenceSpec.model_validate(row.recurrence) if row.recurrence else None,
        cron=row.cron, datastore_name=row.datastore, path_on_datastore=row.path_on_datastore,
        polling_interval=row.polling_interval, pipeline_parameters=dict(row.pipeline_parameters or {}),
        continue_on_step_failure=row.continue_on_step_failure,
        next_fire_at=as_utc(row.next_fire_at) if row.status == pp.ACTIVE else None,
        last_fire_at=as_utc(row.last_fire_at), created_at=as_utc(row.created_at) or row.created_at,
        created_by=row.created_by)
