"""v1's ``ScheduleRecurrence`` as a cron expression (croniter) plus its interval, and the next fire time.

A recurrence fires every ``interval`` ``frequency`` counted from its ``start_time`` (the first tick is the
start time itself when it is still ahead). The cron expression (six fields, seconds last, as croniter reads
them) gives the calendar pattern: which seconds, minutes, hours and week days; the interval then keeps every
``interval``-th minute, hour, day, week or month counted from the start, which cron alone cannot say (every
7 minutes from 10:03). Times are computed in the recurrence's time zone (an IANA name; default UTC), so a
daily 09:00 stays 09:00 across daylight-saving changes. Everything here is pure: callers pass the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from jupyter_aml.core.pipeline_publish_models import ScheduleRecurrenceSpec
from jupyter_aml.errors import InvalidInput

_DOW = {"Sunday": 0, "Monday": 1, "Tuesday": 2, "Wednesday": 3, "Thursday": 4, "Friday": 5, "Saturday": 6}
HORIZON = timedelta(days=366 * 5)  # a recurrence with no tick within five years is refused as impossible
_MAX_STEPS = 200_000


@dataclass(frozen=True)
class Plan:
    """A recurrence made concrete: its cron pattern, interval unit and anchor (the start, in its zone)."""

    cron: str
    unit: str  # Minute, Hour, Day, Week or Month: what ``interval`` counts
    interval: int
    start: datetime  # aware, in ``zone``
    zone: tzinfo

    def keeps(self, tick: datetime) -> bool:
        """Whether a cron tick is one of the interval's (every ``interval``-th unit from the start)."""
        if self.interval == 1:
            return True
        start, tick = self.start, tick.astimezone(self.zone)
        if self.unit == "Minute":
            count = int((tick - start).total_seconds() // 60)
        elif self.unit == "Hour":
            count = int((tick - start).total_seconds() // 3600)
        elif self.unit == "Day":
            count = (tick.date() - start.date()).days
        elif self.unit == "Week":
            count = ((tick.date() - timedelta(days=tick.weekday())) -
                     (start.date() - timedelta(days=start.weekday()))).days // 7
        else:
            count = (tick.year * 12 + tick.month) - (start.year * 12 + start.month)
        return count % self.interval == 0


def zone_of(name: str | None) -> tzinfo:
    if name is None or name.upper() in ("UTC", "Z", "COORDINATED UNIVERSAL TIME"):
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"time_zone {name!r} is not a time zone name known here",
                           hint="use an IANA name such as 'Europe/Paris' or 'America/Los_Angeles', or 'UTC' "
                                "(v1's Windows names, e.g. 'Pacific Standard Time', are not read)") from None


def plan(rec: ScheduleRecurrenceSpec, created_at: datetime) -> Plan:
    """The recurrence's cron pattern and anchor; a field given for a frequency that has no use for it is
    refused (v1: hours and minutes are for Day and Week, week_days for Week)."""
    zone = zone_of(rec.time_zone)
    if rec.start_time is None:
        start = created_at.astimezone(zone)
    elif rec.start_time.tzinfo is None:
        start = rec.start_time.replace(tzinfo=zone)
    else:
        start = rec.start_time.astimezone(zone)
    start = start.replace(microsecond=0)
    freq = rec.frequency
    if freq not in ("Day", "Week"):
        for field, value in (("hours", rec.hours), ("minutes", rec.minutes), ("time_of_day", rec.time_of_day)):
            if value:
                raise InvalidInput(f"a recurrence of frequency {freq!r} takes no {field}: it fires every "
                                   f"{rec.interval} {freq.lower()}(s) from its start_time",
                                   hint="hours, minutes and time_of_day are for frequency 'Day' or 'Week'")
    if rec.week_days and freq != "Week":
        raise InvalidInput(f"week_days is only for frequency 'Week', not {freq!r}",
                           hint="ScheduleRecurrence(frequency='Week', interval=1, week_days=['Monday'])")
    if rec.time_of_day and (rec.hours or rec.minutes):
        raise InvalidInput("give time_of_day or hours and minutes, not both",
                           hint="time_of_day='09:30', or hours=[9], minutes=[30]")
    sec = start.second
    if freq == "Minute":
        cron = f"* * * * * {sec}"
    elif freq == "Hour":
        cron = f"{start.minute} * * * * {sec}"
    elif freq == "Month":
        cron = f"{start.minute} {start.hour} {start.day} * * {sec}"
    else:
        if rec.time_of_day:
            hh, mm = rec.time_of_day.split(":")
            hours, minutes = [int(hh)], [int(mm)]
        else:
            hours, minutes = rec.hours or [start.hour], rec.minutes or [start.minute]
        if rec.time_of_day or rec.hours or rec.minutes:
            sec = 0
        days = "*"
        if freq == "Week":
            days = ",".join(str(_DOW[d]) for d in sorted(set(rec.week_days or []), key=lambda d: _DOW[d])) or \
                str((start.weekday() + 1) % 7)
        cron = f"{_field(minutes)} {_field(hours)} * * {days} {sec}"
    return Plan(cron=cron, unit=freq, interval=rec.interval, start=start, zone=zone)


def _field(values: list[int]) -> str:
    return ",".join(str(v) for v in sorted(set(values)))


def next_fire(p: Plan, after: datetime) -> datetime | None:
    """The first tick strictly after ``after`` and not before the start (UTC), or None within the horizon."""
    base = max(after.astimezone(p.zone), p.start - timedelta(seconds=1))
    ticks = croniter(p.cron, base)
    limit = after + HORIZON
    for _ in range(_MAX_STEPS):
        tick: datetime = ticks.get_next(datetime)
        if tick > limit.astimezone(p.zone):
            return None
        if tick >= p.start and p.keeps(tick):
            return tick.astimezone(timezone.utc)
    return None


def first_fire(rec: ScheduleRecurrenceSpec, now: datetime) -> tuple[Plan, datetime]:
    """Check a recurrence and give its first fire time after ``now``; one that never fires is refused."""
    p = plan(rec, now)
    first = next_fire(p, now)
    if first is None:
        raise InvalidInput(f"this recurrence never fires within five years of {now:%Y-%m-%d} (cron {p.cron!r}, every "
                           f"{p.interval} {p.unit.lower()}(s) from {p.start.isoformat()})",
                           hint="check start_time, interval and the day, hour and minute fields")
    return p, first
