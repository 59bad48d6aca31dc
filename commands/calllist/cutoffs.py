"""Every date the call list compares against, worked out once per list in Python.

Features then compare each item's due day with constants (``due <= over_30``) instead of doing
date arithmetic, business days included, on each of a million items; the queries on the smaller
tables compare columns with them the same way, which keeps them portable between SQLite and
PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from commands.calendar import BusinessCalendar
from commands.calllist.policy import Policy

# Aging buckets: "over N days" past due means N + 1 days or more.
BUCKETS = (30, 60, 90)


@dataclass(frozen=True)
class Crossing:
    """Items due in (due_after, due_until] age past ``threshold`` days between tomorrow and the
    end of the lookahead."""

    threshold: int
    due_after: date
    due_until: date

    @property
    def due_dates(self) -> list[date]:
        return [self.due_until - timedelta(days=n) for n in range((self.due_until - self.due_after).days)]


@dataclass(frozen=True)
class Cutoffs:
    day: date
    listable: date  # an item due on or before this is old enough to list the account
    over: dict[int, date]  # bucket -> items due on or before this are over that many days
    final_from: date
    final_until: date
    window_from: date
    window_until: date
    crossings: tuple[Crossing, ...]
    broken_by: date  # an open promise dated on or before this is broken
    broken_since: date  # broken promises dated before this are old news
    history_since: date  # closed invoices before this say nothing about today's habits
    promises_since: date
    day_start: datetime  # the list day in the team's timezone, as UTC instants
    day_end: datetime

    def dpd(self, due: date) -> int:
        return (self.day - due).days

    @property
    def crossing_due_dates(self) -> list[date]:
        """Every due date that ages past a threshold within the lookahead: a handful of days per
        threshold, so ``due_date IN (...)`` is one cheap test per item."""
        return sorted({d for c in self.crossings for d in c.due_dates})


def cutoffs_for(
    day: date, policy: Policy, calendar: BusinessCalendar, tz: ZoneInfo, *, promise_grace_days: int = 1
) -> Cutoffs:
    """The dates every rule compares against for a list on ``day``. ``promise_grace_days`` is
    the team's (timers.promise_grace_days), so the list and the promise check agree on when a
    promise is broken."""
    rules = policy.rules

    def days_ago(n: int) -> date:
        return day - timedelta(days=n)

    horizon = calendar.add_business_days(day, rules.crossing_soon.lookahead_business_days)
    crossings = tuple(
        Crossing(t, due_after=days_ago(t + 1), due_until=horizon - timedelta(days=t + 1))
        for t in rules.crossing_soon.thresholds
    )
    start = datetime.combine(day, time(0), tz)
    return Cutoffs(
        day=day,
        listable=days_ago(policy.list.min_days_past_due),
        over={n: days_ago(n + 1) for n in BUCKETS},
        final_from=days_ago(rules.final_invoice.max_days),
        final_until=days_ago(rules.final_invoice.min_days),
        window_from=days_ago(rules.early_window.max_days),
        window_until=days_ago(rules.early_window.min_days),
        crossings=crossings,
        broken_by=last_broken_promise_date(day, promise_grace_days, calendar),
        broken_since=days_ago(rules.broken_promise.window_days),
        history_since=days_ago(rules.days_late.lookback_days),
        promises_since=days_ago(rules.promise_kept.lookback_days),
        day_start=start.astimezone(UTC),
        day_end=datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC),
    )


def last_broken_promise_date(day: date, grace: int, calendar: BusinessCalendar) -> date:
    """The latest promised date that counts as broken on ``day``: its date plus ``grace``
    business days is already behind us. (On Monday with one day of grace, Friday's promise
    still has today; Thursday's is broken.)"""
    promised = day - timedelta(days=1)
    while calendar.add_business_days(promised, grace) >= day:
        promised -= timedelta(days=1)
    return promised
