"""When jobs are due, as pure functions of an instant: weekends and holidays, the catch-up
window, the statements-day rule, the 6th business day and the quarter-hour timers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from commands.approval_rules import Timers
from commands.calendar import BusinessCalendar
from scheduler.due import (
    BUSINESS_DAYS,
    STATEMENTS_DAY,
    DueNow,
    Schedule,
    due_now,
    nth_business_day,
)
from scheduler.jobs import JOBS

CHICAGO = ZoneInfo("America/Chicago")
US = BusinessCalendar("US")
TIMERS = Timers()  # daily_list_at 08:00, catch_up_hours 4, working day 09:00-17:00


def at(day: date, hh: int, mm: int = 0, tz: ZoneInfo = CHICAGO) -> datetime:
    return datetime.combine(day, time(hh, mm), tz)


def plan(now: datetime, timers: Timers = TIMERS) -> DueNow:
    return due_now(now, tz=CHICAGO, calendar=US, timers=timers, schedules=[(job.name, job.schedule) for job in JOBS])


def due_keys(now: datetime, timers: Timers = TIMERS) -> set[str]:
    return {slot.key for slot in plan(now, timers).due}


MONDAY = date(2026, 11, 23)


def test_daily_list_is_due_at_eight_not_a_minute_before() -> None:
    assert "daily_lists" not in due_keys(at(MONDAY, 7, 59))
    slot = next(s for s in plan(at(MONDAY, 8, 0)).due if s.key == "daily_lists")
    assert slot.run_date == MONDAY
    assert slot.scheduled_at == at(MONDAY, 8, 0)


def test_a_utc_instant_is_read_in_the_team_timezone() -> None:
    # 14:00 UTC on 23 Nov is 08:00 in Chicago (CST, UTC-6).
    assert "daily_lists" in due_keys(at(MONDAY, 14, 0, ZoneInfo("UTC")))
    assert "daily_lists" not in due_keys(at(MONDAY, 13, 59, ZoneInfo("UTC")))


@pytest.mark.parametrize(
    "day, why",
    [
        (date(2026, 11, 28), "Saturday"),
        (date(2026, 11, 29), "Sunday"),
        (date(2026, 11, 26), "Thanksgiving"),
        (date(2026, 12, 25), "Christmas"),
    ],
)
def test_no_daily_list_on_weekends_and_holidays(day: date, why: str) -> None:
    now = at(day, 8, 0)
    assert not plan(now).due, why
    assert not plan(at(day, 14, 0)).missed, f"{why} is not a missed day, just not a work day"


def test_the_friday_after_thanksgiving_is_a_business_day() -> None:
    assert "daily_lists" in due_keys(at(date(2026, 11, 27), 8, 0))


@pytest.mark.parametrize(
    "hh, mm, state",
    [
        (8, 0, "due"),
        (11, 0, "due"),
        (11, 59, "due"),
        (12, 0, "missed"),
        (13, 0, "missed"),
    ],
)
def test_catch_up_window(hh: int, mm: int, state: str) -> None:
    result = plan(at(MONDAY, hh, mm))
    due = {s.key for s in result.due}
    missed = {s.key for s in result.missed}
    assert ("daily_lists" in due) == (state == "due")
    assert ("daily_lists" in missed) == (state == "missed")


def test_catch_up_window_comes_from_the_team_file() -> None:
    short = Timers(catch_up_hours=1, daily_list_at=time(7, 30))
    assert "daily_lists" in due_keys(at(MONDAY, 8, 29), short)
    assert "daily_lists" in {s.key for s in plan(at(MONDAY, 8, 30), short).missed}


def test_catch_up_window_ends_at_midnight() -> None:
    late = Timers(daily_list_at=time(22, 0), catch_up_hours=4)
    assert "daily_lists" in due_keys(at(MONDAY, 23, 59), late)
    tuesday = at(MONDAY + timedelta(days=1), 0, 30)
    assert "daily_lists" not in due_keys(tuesday, late)


@pytest.mark.parametrize(
    "statements_day, why",
    [
        (date(2026, 8, 14), "15 Aug 2026 is a Saturday: the Friday before"),
        (date(2026, 11, 16), "15 Nov 2026 is a Sunday: the Monday after"),
        (date(2026, 12, 15), "15 Dec 2026 is a Tuesday: the 15th itself"),
    ],
)
def test_statements_day(statements_day: date, why: str) -> None:
    for offset in range(-3, 4):
        day = statements_day + timedelta(days=offset)
        assert ("statements_reminder" in due_keys(at(day, 8, 0))) == (offset == 0), f"{why}: {day}"


@pytest.mark.parametrize(
    "sixth, why",
    [
        (date(2026, 12, 8), "1 Dec 2026 is a Tuesday: Tue 1, Wed 2, Thu 3, Fri 4, Mon 7, Tue 8"),
        (date(2027, 1, 11), "1 Jan 2027 is New Year's Day (a Friday): Mon 4 .. Fri 8, Mon 11"),
    ],
)
def test_finals_on_the_sixth_business_day(sixth: date, why: str) -> None:
    month_days = [sixth.replace(day=d) for d in range(1, 29)]
    due_on = [d for d in month_days if "finals_day" in due_keys(at(d, 8, 0))]
    assert due_on == [sixth], why


def test_finals_day_is_the_sixth_business_day_only() -> None:
    schedule = Schedule(nth_business_day(6), at=lambda t: t.daily_list_at)
    assert schedule.days.matches(date(2026, 12, 8), US)
    assert not schedule.days.matches(date(2026, 12, 7), US)
    with pytest.raises(ValueError):
        nth_business_day(0)


def test_timers_run_every_quarter_hour_in_the_working_day() -> None:
    assert not {k for k in due_keys(at(MONDAY, 8, 59)) if "@" in k}
    assert {k for k in due_keys(at(MONDAY, 9, 0)) if "@" in k} == {
        "promise_checks@09:00",
        "approval_timers@09:00",
        "confirmation_timers@09:00",
        "clearance_timers@09:00",
    }
    assert "promise_checks@10:30" in due_keys(at(MONDAY, 10, 44))
    assert "promise_checks@10:45" in due_keys(at(MONDAY, 10, 45))
    assert "promise_checks@16:45" in due_keys(at(MONDAY, 16, 59))
    assert not {k for k in due_keys(at(MONDAY, 17, 0)) if "@" in k}
    assert not due_keys(at(date(2026, 11, 28), 10, 0)), "no timers on a Saturday"


def test_a_schedule_is_either_a_time_or_an_interval() -> None:
    with pytest.raises(ValueError):
        Schedule(BUSINESS_DAYS)
    with pytest.raises(ValueError):
        Schedule(STATEMENTS_DAY, at=lambda t: t.daily_list_at, every_minutes=15)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_now(datetime(2026, 11, 23, 8, 0), tz=CHICAGO, calendar=US, timers=TIMERS, schedules=[])
