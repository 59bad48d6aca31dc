"""Dates and instants relative to the demo's anchor day.

Every date in the demo is computed from the anchor (the team's work day when the demo is
loaded), never from the wall clock, so the same seed and anchor always give the same ledger
and the portfolio looks freshly aged whenever it is loaded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from commands.calendar import BusinessCalendar


@dataclass(frozen=True)
class Timeline:
    anchor: date
    calendar: BusinessCalendar
    tz: ZoneInfo

    def days_ago(self, days: int) -> date:
        return self.anchor - timedelta(days=days)

    def business_days_ago(self, days: int) -> date:
        return self.calendar.add_business_days(self.anchor, -days)

    def business_days_ahead(self, days: int) -> date:
        return self.calendar.add_business_days(self.anchor, days)

    def workday(self, day: date) -> date:
        """Money arrives and people phone on business days."""
        return self.calendar.on_or_after(day)

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """A local wall-clock moment on ``day`` in the team's timezone, as an aware UTC instant."""
        return datetime.combine(day, time(hour, minute), self.tz).astimezone(UTC)
