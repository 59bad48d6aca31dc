"""Dates as collectors type them, relative to the team's today (Mon 23 Nov 2026 unless said)."""

from __future__ import annotations

from datetime import date

import pytest

from commands.parsing.dates import format_day, parse_date, read_date
from commands.refusal import Refusal

MONDAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", date(2026, 11, 23)),
        ("tomorrow", date(2026, 11, 24)),
        ("Tomorrow", date(2026, 11, 24)),
        ("fri", date(2026, 11, 27)),
        ("friday", date(2026, 11, 27)),
        ("Fri.", date(2026, 11, 27)),
        ("by fri", date(2026, 11, 27)),
        ("this fri", date(2026, 11, 27)),
        ("mon", date(2026, 11, 30)),  # never today: the next Monday
        ("monday", date(2026, 11, 30)),
        ("tue", date(2026, 11, 24)),
        ("next fri", date(2026, 12, 4)),  # the Friday of next week
        ("next mon", date(2026, 11, 30)),
        ("12/1", date(2026, 12, 1)),
        ("11/23", date(2026, 11, 23)),
        ("11/2", date(2027, 11, 2)),  # 2 Nov this year has passed: the next one
        ("2/29", date(2028, 2, 29)),
        ("12/1/2026", date(2026, 12, 1)),
        ("12/1/26", date(2026, 12, 1)),
        ("2026-12-01", date(2026, 12, 1)),
        ("2026-11-02", date(2026, 11, 2)),  # explicit years are taken as written
        ("dec 1", date(2026, 12, 1)),
        ("Dec 1st", date(2026, 12, 1)),
        ("december 1, 2026", date(2026, 12, 1)),
        ("1 dec", date(2026, 12, 1)),
        ("1st of december", date(2026, 12, 1)),
        ("jan 5", date(2027, 1, 5)),
        ("sept 3", date(2027, 9, 3)),
        ("in 5 days", date(2026, 11, 28)),
        ("in 1 day", date(2026, 11, 24)),
        ("in 2 weeks", date(2026, 12, 7)),
        ("in a week", date(2026, 11, 30)),
        ("in 1 month", date(2026, 12, 23)),
        ("eom", date(2026, 11, 30)),
        ("end of month", date(2026, 11, 30)),
    ],
)
def test_dates_are_read_relative_to_today(text: str, expected: date) -> None:
    assert parse_date(text, MONDAY) == expected


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        (date(2026, 11, 28), "fri", date(2026, 12, 4)),  # Saturday: next Friday
        (date(2026, 11, 28), "next fri", date(2026, 12, 4)),  # Saturday: next week's Friday
        (date(2026, 11, 27), "fri", date(2026, 12, 4)),  # Friday: never today
        (date(2026, 11, 30), "eom", date(2026, 11, 30)),  # the last day itself
        (date(2027, 2, 10), "eom", date(2027, 2, 28)),
        (date(2026, 11, 23), "eow", date(2026, 11, 27)),  # Monday: this week's Friday
        (date(2026, 11, 27), "end of week", date(2026, 11, 27)),  # Friday: today
        (date(2026, 11, 28), "end of the week", date(2026, 12, 4)),  # Saturday: the coming Friday
        (date(2026, 12, 31), "1/1", date(2027, 1, 1)),
        (date(2027, 1, 31), "in 1 month", date(2027, 2, 28)),
    ],
)
def test_relative_forms_depend_on_the_day(today: date, text: str, expected: date) -> None:
    assert parse_date(text, today) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("1/2/3", "I can't tell which day '1/2/3' is; write it as month/day/year"),
        ("13/1", "I read dates as month/day, and '13/1' has no month 13; for Wed 13 Jan 2027 write 1/13"),
        ("25/12", "for Fri 25 Dec 2026 write 12/25"),
        ("13/14", "'13/14' is not a date"),
        ("2/30", "'2/30' is not a date"),
        ("0/5", "'0/5' is not a date"),
        ("2026-13-01", "'2026-13-01' is not a date"),
        ("feb 30", "'feb 30' is not a date"),
        ("12/1/202", "write it as month/day/year"),
        ("1/2/3/4", "I can't tell which day"),
        ("in 99999 days", "too far ahead"),
    ],
)
def test_ambiguous_or_impossible_dates_are_refused(text: str, says: str) -> None:
    refusal = parse_date(text, MONDAY)
    assert isinstance(refusal, Refusal)
    assert says in refusal.message


@pytest.mark.parametrize("text", ["acme", "1200", "$5", "next", "in full", "12345/1", "fri acme", ""])
def test_words_that_are_not_dates_are_not_read_as_one(text: str) -> None:
    assert read_date(text, MONDAY) is None
    refusal = parse_date(text, MONDAY)
    assert isinstance(refusal, Refusal) and "try fri, 12/1" in refusal.message


def test_days_are_shown_with_weekday_day_month_and_year() -> None:
    assert format_day(date(2026, 11, 2)) == "Mon 2 Nov 2026"
    assert format_day(date(2027, 1, 13)) == "Wed 13 Jan 2027"
