"""Dates from export text, a column at a time, and the snapshot date from a report's title lines.

Exports use ISO dates or US month-first dates ("11/03/2026" is the 3rd of November). Each format
is tried only on the spellings the previous ones could not read.
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

FORMATS = (
    "%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%m-%d-%Y", "%d-%b-%Y", "%d-%b-%y",
    "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%Y-%m-%d %H:%M:%S",
)
EARLIEST, LATEST = np.datetime64("1900-01-01", "D"), np.datetime64("2199-12-31", "D")
_AS_OF = re.compile(r"\bas\s+of\b[:\s]*(.+)", re.IGNORECASE)


@dataclass(frozen=True)
class DateColumn:
    """``days`` is NaT where the cell is blank or not a date."""

    days: np.ndarray  # datetime64[D]
    blank: np.ndarray
    invalid: np.ndarray


def parse_dates(values: pd.Series) -> DateColumn:
    """Each distinct spelling is parsed once (a date column repeats a few hundred values)."""
    codes, spellings = pd.factorize(values.astype("str"))
    text = pd.Series(spellings, dtype="str").str.strip()
    days = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[D]")
    todo = (text != "").to_numpy(dtype=bool, copy=True)
    for fmt in FORMATS:
        rows = np.flatnonzero(todo)
        if rows.size == 0:
            break
        attempt = pd.to_datetime(text.iloc[rows], format=fmt, errors="coerce").to_numpy()
        attempt = attempt.astype("datetime64[D]")
        good = ~np.isnat(attempt) & (attempt >= EARLIEST) & (attempt <= LATEST)
        days[rows[good]] = attempt[good]
        todo[rows[good]] = False
    blank = (text == "").to_numpy()
    return DateColumn(days=days[codes], blank=blank[codes], invalid=todo[codes])


def iso_dates(days: np.ndarray) -> list[str | None]:
    """ISO text per row (None for NaT), formatting each distinct date once: a million invoices
    share a few hundred due dates."""
    codes, uniques = pd.factorize(days)
    texts = np.datetime_as_string(np.asarray(uniques, dtype="datetime64[D]"), unit="D").astype(object)
    return np.append(texts, None)[codes].tolist()


def as_of_from_titles(titles: Sequence[str]) -> date | None:
    """The snapshot date a report states above its header ("As of November 23, 2026")."""
    for title in titles:
        match = _AS_OF.search(title)
        if match is None:
            continue
        try:
            return dateparser.parse(match.group(1).strip(), dayfirst=False).date()
        except (ValueError, OverflowError):
            continue
    return None
