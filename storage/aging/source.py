"""Reading an export into a grid of strings, with the line a person sees for each record.

Exports carry report titles above the header and notes below the data, so the header is found by
its spellings rather than assumed on line 1. Big, well-formed CSV goes through the pyarrow reader
(multi-threaded, a million rows in well under a second); anything ragged falls back to the csv
module, which also gives exact line numbers. Every cell stays a string: money and dates are parsed
exactly later, never guessed by a type sniffer.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from storage.aging.columns import is_header, match_columns, missing_columns
from storage.aging.errors import AgingFileError

HEADER_SCAN_LINES = 40
DELIMITERS = (",", ";", "\t")


@dataclass
class RawTable:
    """The records below the header: ``cells`` has one string column per header label."""

    cells: pd.DataFrame
    labels: list[str]
    titles: list[str]
    kind: str  # "csv" | "xlsx"
    line_numbers: Callable[[], np.ndarray]
    shape_problems: list[tuple[int, str]] = field(default_factory=list)  # (record index, reason)


def read_table(data: bytes) -> RawTable:
    """CSV (any of , ; tab) or XLSX, told apart by content rather than by the file's name."""
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise AgingFileError("old-style .xls workbooks are not supported: save the export as .xlsx or CSV")
    try:
        return _read_csv(_utf8(data))
    except csv.Error as exc:
        raise AgingFileError(f"not a CSV or XLSX export ({exc})") from exc


def _utf8(data: bytes) -> bytes:
    """UTF-8 without a BOM; Windows exports in UTF-16 or cp1252 are converted."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16").encode("utf-8")
    if data.isascii():  # a scan without building the text: most exports are plain ASCII
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace").encode("utf-8")
    return data


def _find_header(rows: list[tuple[int, list[str]]]) -> int:
    """Index in ``rows`` of the header; refuses with what the closest candidate lacks."""
    for index, (_line, cells) in enumerate(rows):
        if is_header(cells):
            return index
    near = max(rows, key=lambda row: len(match_columns(row[1])), default=(0, []))
    if len(match_columns(near[1])) >= 2:
        raise AgingFileError(f"the header on line {near[0]} has no column for: " + "; ".join(missing_columns(near[1])))
    raise AgingFileError(
        "no header row found: expected columns such as Customer, Invoice No., Due Date and Open Balance"
    )


def _titles(rows: list[tuple[int, list[str]]]) -> list[str]:
    """Report lines above the header ("A/R Aging Detail", "As of November 23, 2026"), as text."""
    texts = (" ".join(cell.strip() for cell in cells if cell.strip()) for _line, cells in rows)
    return [text for text in texts if text]


def _csv_records(text: str, delimiter: str, first_line: int = 1) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells) for every non-blank record."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    start = first_line
    for row in reader:
        if row:
            yield start, row
        start = first_line + reader.line_num


def _read_csv(data: bytes) -> RawTable:
    head = data[: 1 << 16].decode("utf-8", errors="replace")
    head_lines = [line.rstrip("\r") for line in head.split("\n")[:HEADER_SCAN_LINES]]
    delimiter, header_index = _sniff(head_lines)
    labels = next(csv.reader([head_lines[header_index]], delimiter=delimiter))
    titles = _titles([(0, row) for row in csv.reader(head_lines[:header_index], delimiter=delimiter)])
    body = data[_line_offset(data, header_index) :]
    header_line = header_index + 1
    try:
        frame = pd.read_csv(
            io.BytesIO(body), header=None, dtype=str, keep_default_na=False, sep=delimiter, engine="pyarrow"
        )
    except (pd.errors.ParserError, ValueError):
        return _read_csv_slowly(body, delimiter, labels, titles, header_line)
    if frame.shape[1] != len(labels):  # the two readers disagree on the header: trust the careful one
        return _read_csv_slowly(body, delimiter, labels, titles, header_line)
    cells = frame.iloc[1:].reset_index(drop=True)
    cells.columns = pd.RangeIndex(len(labels))
    return RawTable(
        cells=cells,
        labels=labels,
        titles=titles,
        kind="csv",
        line_numbers=lambda: _record_lines(body, delimiter, header_line, len(cells)),
    )


def _sniff(lines: list[str]) -> tuple[str, int]:
    """The delimiter and line index under which some line reads as a header."""
    candidates = []
    for delimiter in DELIMITERS:
        rows = [(i + 1, next(csv.reader([line], delimiter=delimiter), [])) for i, line in enumerate(lines)]
        try:
            return delimiter, _find_header(rows)
        except AgingFileError as exc:
            candidates.append(exc)
    raise candidates[0]


def _line_offset(data: bytes, line_index: int) -> int:
    offset = 0
    for _ in range(line_index):
        offset = data.index(b"\n", offset) + 1
    return offset


def _record_lines(body: bytes, delimiter: str, header_line: int, count: int) -> np.ndarray:
    """File line of each record. Non-blank physical lines when they match the record count (no
    quoted line breaks), else an exact scan with the csv module."""
    raw = np.frombuffer(body, dtype=np.uint8)
    breaks = np.flatnonzero(raw == ord("\n"))
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [raw.size]))
    carriage = (ends > starts) & (raw[np.maximum(ends - 1, 0)] == ord("\r"))
    nonblank = np.flatnonzero(ends - starts - carriage > 0)
    if nonblank.size == count + 1:
        return header_line + nonblank[1:]
    try:
        lines = [line for line, _row in _csv_records(body.decode("utf-8"), delimiter, header_line)]
    except csv.Error as exc:
        raise AgingFileError(f"not a CSV or XLSX export ({exc})") from exc
    return np.asarray(lines[1:], dtype=np.int64)


def _read_csv_slowly(body: bytes, delimiter: str, labels: list[str], titles: list[str], header_line: int) -> RawTable:
    records = list(_csv_records(body.decode("utf-8"), delimiter, header_line))[1:]
    lines = np.asarray([line for line, _row in records], dtype=np.int64)
    cells, problems = _rectangle([row for _line, row in records], len(labels))
    return RawTable(
        cells=cells, labels=labels, titles=titles, kind="csv", line_numbers=lambda: lines, shape_problems=problems
    )


def _rectangle(rows: list[list[str]], width: int) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Pad short rows (report notes, section lines); a long row with data past the header's last
    column is a problem for that row, never silently cut."""
    problems = []
    fitted = []
    for index, row in enumerate(rows):
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            problems.append((index, f"has {len(row)} fields but the header has {width}"))
        fitted.append((row + [""] * (width - len(row)))[:width])
    frame = pd.DataFrame(fitted, columns=range(width), dtype="str") if fitted else _empty(width)
    return frame, problems


def _empty(width: int) -> pd.DataFrame:
    return pd.DataFrame({i: pd.Series([], dtype="str") for i in range(width)})


def _read_xlsx(data: bytes) -> RawTable:
    import openpyxl  # imported here: CSV imports should not pay for it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, XML and key errors for damaged files
        raise AgingFileError(f"not a readable Excel workbook ({type(exc).__name__})") from exc
    try:
        first_error: AgingFileError | None = None
        for sheet in workbook.worksheets:
            rows = [
                (number, [_cell_text(value) for value in values])
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
            ]
            try:
                header = _find_header(rows[:HEADER_SCAN_LINES])
            except AgingFileError as exc:
                first_error = first_error or exc
                continue
            return _xlsx_table(rows, header)
    finally:
        workbook.close()
    raise first_error or AgingFileError("the workbook has no sheets")


def _xlsx_table(rows: list[tuple[int, list[str]]], header: int) -> RawTable:
    labels = rows[header][1]
    width = len(labels)
    records = [(number, cells) for number, cells in rows[header + 1 :] if any(c.strip() for c in cells)]
    lines = np.asarray([number for number, _cells in records], dtype=np.int64)
    cells, problems = _rectangle([cells for _number, cells in records], width)
    return RawTable(
        cells=cells,
        labels=labels,
        titles=_titles(rows[:header]),
        kind="xlsx",
        line_numbers=lambda: lines,
        shape_problems=problems,
    )


def _cell_text(value: Any) -> str:
    """Excel cells as the text a person sees in Excel: dates as ISO dates, numbers to Excel's 15
    significant digits, so 1234.56 (or a formula's 1234.5600000000002) reads "1234.56" and money
    parses exactly, while a typed 1.005 still shows its fraction of a cent."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    return str(value).strip()
