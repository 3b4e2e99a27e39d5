"""Schedules with a fake clock: v1's recurrences as cron plus interval (core/schedules_recurrence.py), and the
claims of core/schedules.py on a real store (SQLite, or PostgreSQL under --database=postgresql): one firing
per slot, none twice across a restart, a missed stretch of ticks fired once, datastore changes fired once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from jupyter_aml.core import pipeline_publish_models as pp
from jupyter_aml.core.pipeline_publish import PublishService
from jupyter_aml.core.schedules import ScheduleService
from jupyter_aml.core.schedules_recurrence import first_fire, next_fire, plan
from jupyter_aml.core.service import AMLService
from jupyter_aml.core.settings import ServiceSettings
from jupyter_aml.core.workspaces import WorkspaceService, as_utc, utcnow
from jupyter_aml.errors import InvalidInput, ValidationError
from jupyter_aml.store.tables_pipeline_publish import PublishedPipelineRow, ScheduleFireRow

T0 = datetime(2026, 3, 27, 10, 3, 0, tzinfo=timezone.utc)  # a Friday, two days before Paris goes to summer time


def rec(**kw) -> pp.ScheduleRecurrenceSpec:
    return pp.ScheduleRecurrenceSpec.model_validate(kw)


def fires(r: pp.ScheduleRecurrenceSpec, after: datetime, count: int, created: datetime = T0) -> list[datetime]:
    p, out, at = plan(r, created), [], after
    for _ in range(count):
        nxt = next_fire(p, at)
        assert nxt is not None
        out.append(nxt)
        at = nxt
    return out


def test_every_seven_minutes_counts_from_the_start_not_the_hour() -> None:
    r = rec(frequency="Minute", interval=7, start_time=T0.isoformat())
    assert plan(r, T0).cron == "* * * * * 0"
    assert [f.strftime("%H:%M") for f in fires(r, T0 - timedelta(hours=1), 4)] == ["10:03", "10:10", "10:17", "10:24"]
    assert fires(r, T0 + timedelta(minutes=55), 1)[0].strftime("%H:%M") == "10:59"  # 10:03 + 8 * 7 min


def test_a_future_start_is_the_first_tick_to_the_second() -> None:
    start = T0 + timedelta(seconds=2.5)
    p, first = first_fire(rec(frequency="Minute", interval=1, start_time=start.isoformat()), T0)
    assert first == start.replace(microsecond=0)
    assert next_fire(p, first) == first + timedelta(minutes=1)


def test_hourly_daily_weekly_and_monthly() -> None:
    hourly = rec(frequency="Hour", interval=2, start_time="2026-03-27T10:15:00Z")
    assert [f.strftime("%d %H:%M") for f in fires(hourly, T0, 3)] == ["27 10:15", "27 12:15", "27 14:15"]
    # a daily 09:30 in Paris stays 09:30 local across the change to summer time (UTC 08:30, then 07:30)
    daily = rec(frequency="Day", interval=1, hours=[9], minutes=[30], time_zone="Europe/Paris",
                start_time="2026-03-27T00:00:00")
    assert plan(daily, T0).cron == "30 9 * * * 0"
    assert [f.strftime("%d %H:%M") for f in fires(daily, T0, 3)] == ["28 08:30", "29 07:30", "30 07:30"]
    weekly = rec(frequency="Week", interval=2, week_days=["Monday", "Friday"], time_of_day="18:00",
                 start_time="2026-03-23T00:00:00Z")  # the week of Monday 23 March, then every other week
    assert plan(weekly, T0).cron == "0 18 * * 1,5 0"
    assert [f.strftime("%a %d %H:%M") for f in fires(weekly, T0, 3)] == [
        "Fri 27 18:00", "Mon 06 18:00", "Fri 10 18:00"]
    monthly = rec(frequency="Month", interval=1, start_time="2026-01-31T06:00:00Z")
    assert [f.strftime("%m-%d") for f in fires(monthly, T0, 3)] == ["03-31", "05-31", "07-31"]  # no 30-day months


@pytest.mark.parametrize(("kw", "said"), [
    ({"frequency": "Minute", "interval": 5, "hours": [3]}, "takes no hours"),
    ({"frequency": "Day", "interval": 1, "week_days": ["Monday"]}, "week_days is only for frequency 'Week'"),
    ({"frequency": "Day", "interval": 1, "time_of_day": "09:00", "hours": [9]}, "not both"),
    ({"frequency": "Hour", "interval": 1, "time_zone": "Mars/Olympus"}, "not a time zone name"),
    ({"frequency": "Month", "interval": 1, "start_time": "2040-01-01T00:00:00Z"}, "never fires"),
])
def test_an_impossible_or_inconsistent_recurrence_is_refused_with_the_reason(kw, said) -> None:
    with pytest.raises(InvalidInput, match=said):
        first_fire(rec(**kw), T0)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(tmp_path, database_url):
    service = AMLService(ServiceSettings(root=tmp_path / "root", database_url=database_url))
    service.workspaces.get_or_create("w")
    graph = pp.PipelineRunCreate.model_validate({
        "experiment": "published-pipeline", "parameters": [{"name": "rows", "default_value": 3}],
        "steps": [{"name": "a", "snapshot_id": "0" * 64, "run_config": {"script": "a.py"}}]}).model_dump(mode="json")
    pipeline_id = str(uuid.uuid4())
    with service.db.session() as s:
        s.add(PublishedPipelineRow(id=pipeline_id, workspace_id=WorkspaceService.row(s, "w").id, name="p",
                                   description="", version="", status="Active", graph=graph, graph_id="g",
                                   continue_on_step_failure=False, created_at=utcnow(), created_by="ann"))
    yield service, pipeline_id
    service.close()


def _schedules(service: AMLService, clock: Clock) -> ScheduleService:
    return ScheduleService(PublishService(service, None), clock=clock)  # type: ignore[arg-type]  # no runs here


def test_one_firing_per_slot_none_twice_after_a_restart_and_a_missed_stretch_once(store) -> None:
    service, pipeline_id = store
    clock = Clock(T0 - timedelta(minutes=1))
    first = _schedules(service, clock)
    made = first.create("w", pp.ScheduleCreate(
        name="every5", experiment_name="sched", pipeline_id=pipeline_id, pipeline_parameters={"rows": 4},
        recurrence=rec(frequency="Minute", interval=5, start_time=T0.isoformat())), creator="ann")
    assert made.next_fire_at == T0 and made.cron == "* * * * * 0"
    assert first.claim_due(T0 - timedelta(seconds=1)) == []
    claimed = first.claim_due(T0)
    assert [d.slot for d in claimed] == [T0.isoformat()]
    assert first.claim_due(T0) == []  # the same moment again: nothing
    restarted = _schedules(service, clock)  # a new service process on the same store
    assert restarted.claim_due(T0 + timedelta(seconds=30)) == []
    assert restarted.get("w", made.id).next_fire_at == T0 + timedelta(minutes=5)
    # down from 10:04 to 10:20: the ticks of 10:08, 10:13 and 10:18 fire once, as the earliest, then 10:23
    late = restarted.claim_due(T0 + timedelta(minutes=17))
    assert [d.slot for d in late] == [(T0 + timedelta(minutes=5)).isoformat()]
    assert restarted.get("w", made.id).next_fire_at == T0 + timedelta(minutes=20)
    # a slot that has a firing row already (claimed before a crash) is never claimed again
    with service.db.session() as s:
        s.add(ScheduleFireRow(schedule_id=made.id, slot=(T0 + timedelta(minutes=20)).isoformat(),
                              fired_at=T0 + timedelta(minutes=20)))
    assert restarted.claim_due(T0 + timedelta(minutes=20)) == []
    assert restarted.get("w", made.id).next_fire_at == T0 + timedelta(minutes=25)
    # disabled: nothing is due; enabled again: from the next tick after now, nothing replayed
    restarted.update("w", made.id, pp.ScheduleUpdate(status="Disabled"))
    assert restarted.claim_due(T0 + timedelta(hours=1)) == []
    clock.now = T0 + timedelta(hours=1, seconds=1)
    again = restarted.update("w", made.id, pp.ScheduleUpdate(status="Active"))
    assert again.next_fire_at == T0 + timedelta(hours=1, minutes=5)  # 10:03 + 13 * 5 min
    assert [f.slot for f in restarted.fires("w", made.id).items] == [
        (T0 + timedelta(minutes=20)).isoformat(), (T0 + timedelta(minutes=5)).isoformat(), T0.isoformat()]


def test_a_datastore_path_fires_once_per_change_and_not_for_deletions(store) -> None:
    service, pipeline_id = store
    clock = Clock(T0)
    schedules = _schedules(service, clock)
    folder = service.datastores.blob_root("w") / "incoming"
    folder.mkdir(parents=True)
    (folder / "old.csv").write_text("a\n")
    made = schedules.create("w", pp.ScheduleCreate(
        name="watch", experiment_name="sched", pipeline_id=pipeline_id, datastore="workspaceblobstore",
        path_on_datastore="incoming", polling_interval=2), creator="ann")
    assert made.next_fire_at == T0 + timedelta(minutes=2) and made.cron is None
    assert schedules.claim_due(T0 + timedelta(minutes=2)) == []  # what was there at creation does not fire
    (folder / "new.csv").write_text("b\n")
    assert schedules.claim_due(T0 + timedelta(minutes=3)) == []  # not polled before its interval
    assert len(schedules.claim_due(T0 + timedelta(minutes=4))) == 1
    assert schedules.claim_due(T0 + timedelta(minutes=6)) == []  # no change since
    (folder / "old.csv").write_text("a longer line\n")  # changed
    assert len(schedules.claim_due(T0 + timedelta(minutes=8))) == 1
    (folder / "new.csv").unlink()
    assert schedules.claim_due(T0 + timedelta(minutes=10)) == []


def test_a_schedule_is_refused_before_it_is_stored(store) -> None:
    service, pipeline_id = store
    schedules = _schedules(service, Clock(T0))
    with pytest.raises(ValidationError, match="not parameters of this pipeline"):
        schedules.create("w", pp.ScheduleCreate(name="x", experiment_name="e", pipeline_id=pipeline_id,
                                                pipeline_parameters={"nope": 1},
                                                recurrence=rec(frequency="Hour", interval=1)), creator="ann")
    with pytest.raises(InvalidInput, match="exactly one"):
        schedules.create("w", pp.ScheduleCreate(name="x", experiment_name="e", pipeline_id=pipeline_id),
                         creator="ann")
    assert schedules.list("w", active_only=False).items == []


def test_a_schedule_that_cannot_be_claimed_waits_a_minute_instead_of_spinning(store) -> None:
    from jupyter_aml.store.tables_pipeline_publish import PipelineScheduleRow

    service, pipeline_id = store
    schedules = _schedules(service, Clock(T0))
    made = schedules.create("w", pp.ScheduleCreate(name="x", experiment_name="e", pipeline_id=pipeline_id,
                                                   recurrence=rec(frequency="Hour", interval=1)), creator="ann")
    with service.db.session() as s:  # a row this version cannot read (e.g. written by a newer one)
        s.get(PipelineScheduleRow, made.id).recurrence = {"frequency": "Fortnight", "interval": 1}
    due = T0 + timedelta(hours=1)
    assert schedules.claim_due(due) == []
    with service.db.read() as s:
        assert as_utc(s.get(PipelineScheduleRow, made.id).next_fire_at) == due + timedelta(minutes=1)
