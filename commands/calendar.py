"""Business days: weekends and the public holidays of the team's country (``holidays`` package)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays


class BusinessCalendar:
    def __init__(self, country: str = "US", subdivision: str | None = None) -> None:
        self.country = country
        self.subdivision = subdivision
        self._by_year: dict[int, holidays.HolidayBase] = {}

    def _holidays(self, year: int) -> holidays.HolidayBase:
        if year not in self._by_year:
            self._by_year[year] = holidays.country_holidays(self.country, subdiv=self.subdivision, years=year)
        return self._by_year[year]

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays(day.year)

    def holiday_name(self, day: date) -> str | None:
        return self._holidays(day.year).get(day)

    def on_or_after(self, day: date) -> date:
        """``day`` itself if it is a business day, else the next one (the list for a Saturday is Monday's)."""
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def add_business_days(self, day: date, n: int) -> date:
        """Move ``n`` business days forward (or back for negative ``n``) from ``day``."""
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        while remaining:
            day += timedelta(days=step)
            if self.is_business_day(day):
                remaining -= 1
        return day

    def business_days_between(self, start: date, end: date) -> int:
        """Business days in (start, end]; negative if end is before start."""
        if end < start:
            return -self.business_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_business_day(day)
        return count

    def nth_business_day_of_month(self, year: int, month: int, n: int) -> date:
        first = date(year, month, 1)
        day = self.on_or_after(first)
        return self.add_business_days(day, n - 1) if n > 1 else day

    @staticmethod
    def statements_day(year: int, month: int) -> date:
        """Statements go out on the 15th; the 14th when that is a Saturday, the 16th when a Sunday."""
        day = date(year, month, 15)
        if day.weekday() == 5:
            return day - timedelta(days=1)
        if day.weekday() == 6:
            return day + timedelta(days=1)
        return day

    def business_hours_between(
        self, start: datetime, end: datetime, tz: ZoneInfo, day_start: time, day_end: time
    ) -> float:
        """Working hours elapsed from ``start`` to ``end``: only the part of each business day
        between ``day_start`` and ``day_end`` (local time) counts. A request sent on Friday at
        16:00 has waited two business hours at 10:00 on Monday."""
        if end <= start:
            return 0.0
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        total, day = 0.0, local_start.date()
        while day <= local_end.date():
            if self.is_business_day(day):
                open_at = datetime.combine(day, day_start, tz)
                close_at = datetime.combine(day, day_end, tz)
                lo, hi = max(open_at, local_start), min(close_at, local_end)
                if hi > lo:
                    total += (hi - lo).total_seconds() / 3600
            day += timedelta(days=1)
        return total
