"""Writing spreadsheets people open in Excel: every export (CSV or XLSX) goes through here, so
no text from the ledger runs as a formula.

A customer named ``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``, ``+1+1`` or ``@SUM(...)`` is data,
not an instruction. Following OWASP's CSV-injection advice, a text cell that begins with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is written with a leading apostrophe in CSV (the
spreadsheet shows the text, not a result) and as a text cell in XLSX. Numbers stay numbers: a
balance of ``-250.00`` is a credit, not an attack."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def spreadsheet_text(value: object) -> object:
    """``value`` as a spreadsheet must store it: text that would start a formula is escaped;
    numbers and everything else pass through."""
    if not isinstance(value, str) or not value.startswith(FORMULA_LEADS) or _NUMBER.fullmatch(value):
        return value
    return "'" + value


def csv_text(rows: Iterable[Mapping[str, object]], fieldnames: Sequence[str]) -> str:
    """The rows as CSV with a header, every text cell made safe."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fieldnames), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: spreadsheet_text(value) for key, value in row.items()})
    return buffer.getvalue()


def write_xlsx(
    path: Path, rows: Iterable[Mapping[str, object]], fieldnames: Sequence[str], *, sheet: str = "Sheet1"
) -> None:
    """The rows as an Excel workbook with a header; text is stored as text (never a formula),
    money as numbers."""
    from openpyxl import Workbook  # imported here: most runs never write a workbook
    from openpyxl.worksheet.worksheet import Worksheet

    book = Workbook()
    page = book.active
    if not isinstance(page, Worksheet):  # a new workbook opens on one empty worksheet
        raise TypeError(f"a new workbook opened on {page!r}, not a worksheet")
    page.title = sheet[:31]
    page.append(list(fieldnames))
    for row in rows:
        page.append([_xlsx_value(row.get(name)) for name in fieldnames])
    for cells in page.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl reads a leading "=" as a formula otherwise
    book.save(path)


def _xlsx_value(value: object) -> object:
    """Money as an exact number cell (openpyxl writes Decimal as a number), lists as one line."""
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return value
