"""Excel workbooks the way a collections team keeps its shared sheets: one sheet per subject, a
bold header frozen above the rows, an autofilter over them, money with thousands separators and
two decimals, dates as dates, columns wide enough to read.

A sheet is declared as :class:`Column` specs and plain rows (mappings), so each report says what
its columns are and this module alone knows openpyxl. Every text cell goes through
:func:`commands.exports.spreadsheet_text` rules: text is stored as text, never as a formula, so
a customer named ``=HYPERLINK(...)`` is shown, not run."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

Kind = Literal["text", "money", "date", "moment", "count", "ratio"]

FORMATS: dict[str, str] = {
    "money": "#,##0.00;[Red]-#,##0.00",
    "date": "yyyy-mm-dd",
    "moment": "yyyy-mm-dd hh:mm",
    "count": "#,##0",
    "ratio": "0.00",
}
MIN_WIDTH, MAX_WIDTH = 8, 60


@dataclass(frozen=True)
class Column:
    title: str
    key: str
    kind: Kind = "text"
    width: int | None = None  # None: fitted to the longest value (within MIN_WIDTH..MAX_WIDTH)


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: Sequence[Mapping[str, Any]] = field(default_factory=list)
    note: str | None = None  # one line under the table, e.g. which time zone the times are in


def workbook_bytes(sheets: Iterable[Sheet]) -> bytes:
    """The workbook as bytes, for an upload; :func:`write_workbook` for a file."""
    buffer = io.BytesIO()
    _book(sheets).save(buffer)
    return buffer.getvalue()


def write_workbook(path: Path, sheets: Iterable[Sheet]) -> None:
    _book(sheets).save(path)


def _book(sheets: Iterable[Sheet]) -> Any:
    from openpyxl import Workbook  # imported here: most runs never write a workbook

    book = Workbook()
    book.remove(book.worksheets[0])  # the empty sheet a new workbook opens on
    for sheet in sheets:
        _fill(book.create_sheet(title=_sheet_title(sheet.title)), sheet)
    return book


def _sheet_title(title: str) -> str:
    """Excel refuses these characters in a sheet name and more than 31 of them."""
    return "".join("-" if c in "[]:*?/\\" else c for c in title)[:31] or "Sheet"


def _fill(page: Any, sheet: Sheet) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    page.append([c.title for c in sheet.columns])
    for cell in page[1]:
        cell.font = Font(bold=True)
    for row in sheet.rows:
        page.append([_value(row.get(c.key), c.kind) for c in sheet.columns])
    for index, column in enumerate(sheet.columns, start=1):
        cells = page.iter_rows(min_row=2, min_col=index, max_col=index)
        for (cell,) in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl would read a leading "=" as a formula
            elif column.kind in FORMATS:
                cell.number_format = FORMATS[column.kind]
        page.column_dimensions[get_column_letter(index)].width = column.width or _fitted(column, sheet.rows)
    last = get_column_letter(len(sheet.columns))
    page.freeze_panes = "A2"
    page.auto_filter.ref = f"A1:{last}{max(len(sheet.rows), 1) + 1}"
    if sheet.note:
        page.append([])
        page.append([sheet.note])
        page.cell(row=page.max_row, column=1).data_type = "s"


def _value(value: Any, kind: Kind) -> Any:
    """What the cell holds: money as an exact number, instants as naive local times (Excel has
    no time zones; the sheet's note names the zone), lists as one line, text as text."""
    if value is None:
        return None
    if kind == "moment" and isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if kind in ("money", "ratio") and isinstance(value, (Decimal, int, float)):
        return Decimal(value)
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, (date, int, float, Decimal)):
        return value
    return str(value)


def _fitted(column: Column, rows: Sequence[Mapping[str, Any]]) -> int:
    longest = max((len(_shown(row.get(column.key), column.kind)) for row in rows[:1000]), default=0)
    return max(MIN_WIDTH, min(MAX_WIDTH, max(longest, len(column.title)) + 2))


def _shown(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if kind == "money" and isinstance(value, (Decimal, int, float)):
        return f"{Decimal(value):,.2f}"
    if kind == "moment":
        return "2026-12-31 23:59"
    return str(value)
