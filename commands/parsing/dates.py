"""Reading and showing days, relative to the team's local today.

Forms: ``today``, ``tomorrow``, weekday names (``fri``, ``friday``: the next one, never
today), ``next fri`` (the Friday of next week), ``12/1`` (US month/day, the next such date
not in the past), ``12/1/2026``, ``2026-12-01``, ``dec 1``, ``1 dec``, ``in 5 days``,
``in 2 weeks``, ``in 1 month``, ``eow`` / ``end of week`` (this week's Friday), ``eom`` /
``end of month`` (its last day). Every day is echoed back as ``Mon 2 Nov 2026`` so the
user sees which day was understood; anything that could be two days is refused instead."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from commands.parsing.text import quote
from commands.refusal import Refusal

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = {
    **{name.lower(): i for i, name in enumerate(_DAY_NAMES)},
    **{name.lower(): i for i, name in enumerate(calendar.day_name)},
    "tues": 1,
    "weds": 2,
    "thur": 3,
    "thurs": 3,
}
MONTHS = {
    **{name.lower(): i for i, name in enumerate(_MONTH_NAMES, start=1)},
    **{name.lower(): i for i, name in enumerate(calendar.month_name) if name},
    "sept": 9,
}
_MONTH = "(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + ")"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:\s+(?P<year>\d{4}))?"
_MONTH_DAY = re.compile(rf"{_MONTH}\s+{_DAY}{_YEAR}", re.ASCII)
_DAY_MONTH = re.compile(rf"{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}", re.ASCII)
# Digit runs are bounded: int() of a pasted 5,000-digit run would raise.
_SLASHED = re.compile(r"(?P<parts>\d{1,4}(?:/\d{1,4})+)", re.ASCII)
_ISO = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})", re.ASCII)
_IN = re.compile(r"in\s+(?P<n>\d{1,6}|a|an|one)\s+(?P<unit>days?|weeks?|months?)", re.ASCII)
_RELATIVE_WORDS = {"today": 0, "tomorrow": 1, "tmrw": 1}
_END_OF_MONTH = {"eom", "end of month", "end of the month"}
_END_OF_WEEK = {"eow", "end of week", "end of the week"}
MAX_DAYS_AHEAD_READ = 3660  # beyond ten years nobody means it; also keeps date arithmetic in range
FORMS_HINT = "try fri, 12/1, dec 1, 2026-12-01 or in 5 days"


def format_day(day: date) -> str:
    """``Mon 2 Nov 2026``: weekday, day, month and year, independent of the machine's locale."""
    return f"{_DAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def parse_date(text: str, today: date) -> date | Refusal:
    """A day, or a refusal saying what was read and which forms work."""
    read = read_date(text, today)
    if read is None:
        return Refusal(f"I couldn't read {quote(text)} as a date; {FORMS_HINT}")
    return read


def read_date(text: str, today: date) -> date | Refusal | None:
    """None when ``text`` does not look like a date at all, so a caller can try the words as
    something else; a refusal when it looks like a date that cannot be taken as written."""
    cleaned = re.sub(r"\s+", " ", text.lower().replace(",", " ")).strip().rstrip(".")
    cleaned = re.sub(r"^(?:by|on|due) ", "", cleaned)
    for reader in (_read_word, _read_weekday, _read_in, _read_iso, _read_slashed, _read_named):
        result = reader(cleaned, today)
        if result is not None:
            return result
    return None


def _read_word(text: str, today: date) -> date | None:
    if text in _RELATIVE_WORDS:
        return today + timedelta(days=_RELATIVE_WORDS[text])
    if text in _END_OF_MONTH:
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if text in _END_OF_WEEK:  # this week's Friday (today on a Friday); said at the weekend, the next one
        return today + timedelta(days=(4 - today.weekday()) % 7)
    return None


def _read_weekday(text: str, today: date) -> date | None:
    """``fri`` is the next Friday after today; ``next fri`` the Friday of next week."""
    modifier, _, name = text.rpartition(" ")
    if name not in WEEKDAYS or modifier not in ("", "this", "next"):
        return None
    target = WEEKDAYS[name]
    if modifier == "next":
        next_monday = today + timedelta(days=7 - today.weekday())
        return next_monday + timedelta(days=target)
    return today + timedelta(days=(target - today.weekday() - 1) % 7 + 1)


def _read_in(text: str, today: date) -> date | Refusal | None:
    match = _IN.fullmatch(text)
    if match is None:
        return None
    n = 1 if match["n"] in ("a", "an", "one") else int(match["n"])
    unit = match["unit"].rstrip("s")
    if n * {"day": 1, "week": 7, "month": 31}[unit] > MAX_DAYS_AHEAD_READ:
        return Refusal(f"{quote(text)} is too far ahead for me to read as a date")
    if unit == "month":
        return today + relativedelta(months=n)
    return today + timedelta(days=n * (7 if unit == "week" else 1))


def _read_iso(text: str, today: date) -> date | Refusal | None:
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    return _make(int(match["year"]), int(match["month"]), int(match["day"]), text)


def _read_slashed(text: str, today: date) -> date | Refusal | None:
    """US month/day, with an optional 2- or 4-digit year; day/month and 1/2/3 are refused."""
    match = _SLASHED.fullmatch(text)
    if match is None:
        return None
    parts = [int(p) for p in match["parts"].split("/")]
    raw = match["parts"].split("/")
    if len(parts) > 3 or (len(parts) == 3 and len(raw[2]) not in (2, 4)):
        return Refusal(f"I can't tell which day {quote(text)} is; write it as month/day/year, like 12/1/2026")
    if len(parts) == 1:
        return None
    month, day = parts[0], parts[1]
    if month > 12 and 1 <= day <= 12:
        meant = _next_occurrence(day, month, today)
        hint = f"; for {format_day(meant)} write {day}/{month}" if isinstance(meant, date) else ""
        return Refusal(f"I read dates as month/day, and {quote(text)} has no month {month}{hint}")
    if len(parts) == 3:
        year = parts[2] + (2000 if len(raw[2]) == 2 else 0)
        return _make(year, month, day, text)
    return _next_occurrence(month, day, today, text)


def _read_named(text: str, today: date) -> date | Refusal | None:
    """``dec 1``, ``december 1st 2026``, ``1 dec``, ``1st of december``."""
    match = _MONTH_DAY.fullmatch(text) or _DAY_MONTH.fullmatch(text)
    if match is None:
        return None
    month, day = MONTHS[match["month"]], int(match["day"])
    if match["year"]:
        return _make(int(match["year"]), month, day, text)
    return _next_occurrence(month, day, today, text)


def _next_occurrence(month: int, day: int, today: date, text: str = "") -> date | Refusal:
    """The first such day on or after today (Feb 29 waits for a leap year)."""
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return Refusal(f"{quote(text)} is not a date; {FORMS_HINT}")
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return Refusal(f"{quote(text)} is not a date; {FORMS_HINT}")


def _make(year: int, month: int, day: int, text: str) -> date | Refusal:
    try:
        return date(year, month, day)
    except ValueError:
        return Refusal(f"{quote(text)} is not a date; {FORMS_HINT}")
