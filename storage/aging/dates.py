"""Dates from export text, a column at a time, and the snapshot date from a report's title lines.

Exports use ISO dates, month names, or numeric dates whose order depends on the system's locale:
"01/10/2026" is 10 January from a US ERP and 1 October from a European one. The order is decided
per file, from all its date values (:func:`date_order`): a value such as 25/10/2026 can only be
day-first, 10/25/2026 only month-first; a file whose every numeric date reads both ways (and
differently) cannot be told, and is refused unless the person says which (``--date-format``).
Each format is tried only on the spellings the previous ones could not read.
Dates leave this module as ``datetime64[D]`` arrays; :func:`iso_dates` renders them as the ISO
text SQLite stores and PostgreSQL accepts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from dateutil import parser as dateparser

from storage.aging.errors import AgingFileError

# Unambiguous whatever the locale: year first, or the month spelt out.
FIXED = ("%Y-%m-%d", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S", "%d-%b-%Y", "%d-%b-%y", "%b %d, %Y", "%B %d, %Y", "%d %b %Y")
# Numeric dates whose order is the file's: "mdy" (US) or "dmy" (most of the world).
ORDERED = {
    "mdy": ("%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%m.%d.%Y"),
    "dmy": ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y"),
    "ymd": (),
}
ORDERS = tuple(ORDERED)
FORMATS = FIXED + ORDERED["mdy"]
EARLIEST, LATEST = np.datetime64("1900-01-01", "D"), np.datetime64("2199-12-31", "D")
_AS_OF = re.compile(r"\bas\s+of\b[:\s]*(.+)", re.IGNORECASE)


@dataclass(frozen=True)
class DateColumn:
    """``days`` is NaT where the cell is blank or not a date."""

    days: np.ndarray  # datetime64[D]
    blank: np.ndarray
    invalid: np.ndarray


class DateOrderError(AgingFileError):
    """The file's numeric dates cannot be told day-first or month-first (or mix both)."""


def parse_dates(values: pd.Series, order: str = "mdy") -> DateColumn:
    """Each distinct spelling is parsed once (a date column repeats a few hundred values);
    numeric dates are read in ``order`` (see :func:`date_order`)."""
    codes, spellings = pd.factorize(values.astype("str"))
    text = pd.Series(spellings, dtype="str").str.strip()
    days, todo = _read(text, FIXED + ORDERED[order])
    blank = (text == "").to_numpy()
    return DateColumn(days=days[codes], blank=blank[codes], invalid=todo[codes])


def _read(text: pd.Series, formats: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(days, unread) for distinct trimmed spellings, each format tried on what is still unread."""
    days = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[D]")
    todo = (text != "").to_numpy(dtype=bool, copy=True)
    for fmt in formats:
        rows = np.flatnonzero(todo)
        if rows.size == 0:
            break
        attempt = pd.to_datetime(text.iloc[rows], format=fmt, errors="coerce").to_numpy()
        attempt = attempt.astype("datetime64[D]")
        good = ~np.isnat(attempt) & (attempt >= EARLIEST) & (attempt <= LATEST)
        days[rows[good]] = attempt[good]
        todo[rows[good]] = False
    return days, todo


def date_order(columns: Sequence[pd.Series], given: str | None = None) -> str:
    """ "dmy" or "mdy" for a file, from the distinct spellings of all its date columns: a value
    only one order can read decides it; values both orders read alike decide nothing. Raises
    :class:`DateOrderError` when the file cannot be told or mixes both. ``given`` wins."""
    if given:
        return given
    text = (
        pd.Series(pd.unique(pd.concat([c.astype("str") for c in columns], ignore_index=True)), dtype="str").str.strip()
        if columns
        else pd.Series([], dtype="str")
    )
    _fixed, numeric = _read(text, FIXED)
    text = text[numeric]
    month_first, month_unread = _read(text, ORDERED["mdy"])
    day_first, day_unread = _read(text, ORDERED["dmy"])
    only_day, only_month = ~day_unread & month_unread, ~month_unread & day_unread
    if only_day.any() and only_month.any():
        raise DateOrderError(
            f"the dates mix day-first ('{text.iloc[np.argmax(only_day)]}') and month-first "
            f"('{text.iloc[np.argmax(only_month)]}') spellings; fix the export or say which with "
            "--date-format dmy (day first) or --date-format mdy (month first)"
        )
    if only_day.any():
        return "dmy"
    if only_month.any():
        return "mdy"
    differ = ~day_unread & ~month_unread & (day_first != month_first)
    if differ.any():
        sample = text.iloc[np.argmax(differ)]
        raise DateOrderError(
            f"dates such as '{sample}' can be read day-first or month-first and nothing in the file tells "
            "which; say which with --date-format dmy (day first, 31/12/2026) or --date-format mdy "
            "(month first, 12/31/2026)"
        )
    return "mdy"


def iso_dates(days: np.ndarray) -> list[str | None]:
    """ISO text per row (None for NaT), formatting each distinct date once: a million invoices
    share a few hundred due dates."""
    codes, uniques = pd.factorize(days)
    texts = np.empty(len(uniques) + 1, dtype=object)  # the last one stays None, for code -1
    texts[:-1] = np.datetime_as_string(np.asarray(uniques, dtype="datetime64[D]"), unit="D")
    iso: list[str | None] = texts[codes].tolist()
    return iso


def as_of_from_titles(titles: Sequence[str], order: str = "mdy") -> date | None:
    """The snapshot date a report states above its header ("As of November 23, 2026")."""
    for title in titles:
        match = _AS_OF.search(title)
        if match is None:
            continue
        try:
            return dateparser.parse(match.group(1).strip(), dayfirst=order == "dmy", yearfirst=order == "ymd").date()
        except (ValueError, OverflowError):
            continue
    return None
