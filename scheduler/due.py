"""When each job is due. Pure functions of (now, timezone, calendar, timers): no database, no
sleeping, so every timing rule is tested by handing in an instant.

A daily job has one slot per matching day at a local time of day. It is due from that time
until ``catch_up_hours`` later, so a scheduler that starts late (after a deploy, a crash or a
reboot) still posts; past the window the slot is *missed* and reported once instead of posting
stale news. Windows end at local midnight: a run belongs to the day it was scheduled for.

A quarter-hour job has a slot every ``every_minutes`` inside the working day on business days.
It needs no catch-up: the timer functions it calls look at the state of the ledger, so the
next slot does whatever a skipped one would have done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from commands.approval_rules import WEEKDAYS, Timers
from commands.calendar import BusinessCalendar


class DayKind(str, Enum):
    BUSINESS = "business"  # weekdays that are not public holidays
    STATEMENTS = "statements"  # the 15th, moved off a weekend (see BusinessCalendar)
    NTH_BUSINESS = "nth_business"  # the n-th business day of the month
    WEEKLY = "weekly"  # the first business day of the week from the team's digest weekday
    SUSPENSION_MEETING = "suspension_meeting"  # the same, from the suspension meeting's weekday


@dataclass(frozen=True)
class Days:
    """Which calendar days a job runs on."""

    kind: DayKind
    n: int = 0

    def matches(self, day: date, calendar: BusinessCalendar, timers: Timers | None = None) -> bool:
        if self.kind is DayKind.WEEKLY:
            return _first_business_day_from(day, WEEKDAYS.index((timers or Timers()).digest_weekday), calendar)
        if self.kind is DayKind.SUSPENSION_MEETING:
            return _first_business_day_from(day, WEEKDAYS.index((timers or Timers()).suspension_weekday), calendar)
        if self.kind is DayKind.BUSINESS:
            return calendar.is_business_day(day)
        if self.kind is DayKind.STATEMENTS:
            return day == calendar.statements_day(day.year, day.month)
        return day == calendar.nth_business_day_of_month(day.year, day.month, self.n)


BUSINESS_DAYS = Days(DayKind.BUSINESS)
STATEMENTS_DAY = Days(DayKind.STATEMENTS)
WEEKLY = Days(DayKind.WEEKLY)
SUSPENSION_MEETING = Days(DayKind.SUSPENSION_MEETING)


def _first_business_day_from(day: date, weekday: int, calendar: BusinessCalendar) -> bool:
    """``day`` is the first business day of its week on or after ``weekday`` (a Monday holiday
    moves a Monday digest to Tuesday; a week without one has none)."""
    if day.weekday() < weekday or not calendar.is_business_day(day):
        return False
    start = day - timedelta(days=day.weekday() - weekday)
    return all(not calendar.is_business_day(start + timedelta(days=n)) for n in range((day - start).days))


def nth_business_day(n: int) -> Days:
    if n < 1:
        raise ValueError("business days of the month count from 1")
    return Days(DayKind.NTH_BUSINESS, n)


@dataclass(frozen=True)
class Schedule:
    """When a job runs: at a local time of day read from the team's timers (``at``), or every
    ``every_minutes`` during the working day. Exactly one of the two is set."""

    days: Days
    at: Callable[[Timers], time] | None = None
    every_minutes: int | None = None

    def __post_init__(self) -> None:
        if (self.at is None) == (self.every_minutes is None):
            raise ValueError("a schedule has either a time of day or an interval")
        if self.every_minutes is not None and not 0 < self.every_minutes <= 60:
            raise ValueError("interval must be 1 to 60 minutes")


@dataclass(frozen=True)
class Slot:
    """One occurrence of a job. ``key`` and ``run_date`` are what the job_runs table is keyed on:
    the job name for daily jobs, ``name@HH:MM`` for a quarter-hour slot."""

    job: str
    key: str
    run_date: date
    scheduled_at: datetime


@dataclass(frozen=True)
class DueNow:
    due: tuple[Slot, ...]  # run these (if nobody has yet)
    missed: tuple[Slot, ...]  # their catch-up window closed today without a run


def due_now(
    now: datetime,
    *,
    tz: ZoneInfo,
    calendar: BusinessCalendar,
    timers: Timers,
    schedules: Iterable[tuple[str, Schedule]],
) -> DueNow:
    """The slots of ``schedules`` (job name, schedule) that are due at ``now``, and the daily
    slots of today whose catch-up window has closed."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(tz)
    today = local.date()
    due: list[Slot] = []
    missed: list[Slot] = []
    for name, schedule in schedules:
        if not schedule.days.matches(today, calendar, timers):
            continue
        if schedule.at is not None:
            slot = _daily_slot(name, today, schedule.at(timers), tz)
            window_end = min(slot.scheduled_at + timedelta(hours=timers.catch_up_hours), _midnight_after(today, tz))
            if slot.scheduled_at <= now < window_end:
                due.append(slot)
            elif now >= window_end:
                missed.append(slot)
        else:
            interval = _interval_slot(name, local, schedule.every_minutes or 60, timers)
            if interval is not None:
                due.append(interval)
    return DueNow(due=tuple(due), missed=tuple(missed))


def _daily_slot(name: str, day: date, at: time, tz: ZoneInfo) -> Slot:
    return Slot(job=name, key=name, run_date=day, scheduled_at=datetime.combine(day, at, tz))


def _midnight_after(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0, 0), tz)


def _interval_slot(name: str, local: datetime, minutes: int, timers: Timers) -> Slot | None:
    """The slot ``local`` falls in, if it lies inside the working day. Slots are aligned to the
    start of the working day, so keys are the same whichever instance computes them."""
    day = local.date()
    start = datetime.combine(day, timers.workday_start, local.tzinfo)
    end = datetime.combine(day, timers.workday_end, local.tzinfo)
    if not start <= local < end:
        return None
    index = int((local - start).total_seconds() // (minutes * 60))
    slot_at = start + timedelta(minutes=index * minutes)
    return Slot(job=name, key=f"{name}@{slot_at:%H:%M}", run_date=day, scheduled_at=slot_at)
