"""A customer's statement of account as a workbook: who it is for, the open items with their
days past due, the total, the aging, and how to pay. One sheet, formatted to be printed."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from commands.accounts import aging_of
from storage.models import Customer, Invoice, InvoiceKind

if TYPE_CHECKING:
    from openpyxl.styles import Font
    from openpyxl.worksheet.worksheet import Worksheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = ("Invoice", "Kind", "Issued", "Due", "Days past due", "Amount", "Open")
AGING_WORDS = {"current": "Not yet due", "90+": "Over 90 days past due"}
KIND_WORDS = {InvoiceKind.CREDIT_MEMO: "credit memo", InvoiceKind.UNAPPLIED_PAYMENT: "unapplied payment"}


def statement_name(customer: Customer, day: date) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in customer.erp_id)
    return f"statement-{safe}-{day.isoformat()}.xlsx"


def statement_workbook(
    customer: Customer, items: Sequence[Invoice], *, day: date, team: str, contact: str | None, how_to_pay: str
) -> bytes:
    """The workbook's bytes. Money cells are numbers with the currency in the format, so the
    customer's own spreadsheet can add them up. (openpyxl loads numpy: it is imported here, when
    a statement is made, not by every process that schedules statement day.)"""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.worksheet import Worksheet

    bold, title = Font(bold=True), Font(bold=True, size=14)
    head_fill, rule = PatternFill("solid", start_color="DDE4EE"), Border(top=Side(style="thin"))
    book = Workbook()
    sheet = book.active
    if not isinstance(sheet, Worksheet):  # a new workbook always starts with one sheet
        raise TypeError("openpyxl made a workbook without a worksheet")
    sheet.title = "Statement"
    money_format = f'#,##0.00 "{customer.currency}";-#,##0.00 "{customer.currency}"'
    sheet.append([f"{team}: statement of account"])
    sheet["A1"].font = title
    for label, value in (
        ("Customer", f"{customer.name} ({customer.erp_id})"),
        ("Attention", contact or ""),
        ("Statement date", day),
        ("Currency", customer.currency),
    ):
        sheet.append([label, value])
        sheet.cell(sheet.max_row, 1).font = bold
    sheet.cell(4, 2).number_format = "yyyy-mm-dd"
    sheet.append([])
    sheet.append(list(HEADERS))
    head = sheet.max_row
    for cell in sheet[head]:
        cell.font, cell.fill = bold, head_fill
    for item in items:
        sheet.append(
            [
                item.number,
                KIND_WORDS.get(item.kind, "invoice"),
                item.issue_date,
                item.due_date,
                max(0, (day - item.due_date).days) if item.open_balance > 0 else None,
                item.amount,
                item.open_balance,
            ]
        )
        row = sheet.max_row
        for column in (3, 4):
            sheet.cell(row, column).number_format = "yyyy-mm-dd"
        for column in (6, 7):
            sheet.cell(row, column).number_format = money_format
    total = sum((item.open_balance for item in items), start=Decimal("0.00"))
    sheet.append(["Total open", None, None, None, None, None, total])
    total_row = sheet.max_row
    for cell in sheet[total_row]:
        cell.font, cell.border = bold, rule
    sheet.cell(total_row, 7).number_format = money_format
    _aging(sheet, items, day, money_format, bold)
    sheet.append([])
    sheet.append([how_to_pay])
    sheet.cell(sheet.max_row, 1).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=7)
    sheet.row_dimensions[sheet.max_row].height = 60
    for letter, width in zip("ABCDEFG", (16, 18, 12, 12, 14, 16, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = f"A{head + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _aging(sheet: Worksheet, items: Sequence[Invoice], day: date, money_format: str, bold: Font) -> None:
    aging = aging_of(((i.due_date, i.open_balance) for i in items), as_of=day)
    sheet.append([])
    sheet.append(["Aging"])
    sheet.cell(sheet.max_row, 1).font = bold
    for label, amount in aging.buckets():
        sheet.append([AGING_WORDS.get(label, f"{label} days past due"), None, None, None, None, None, amount])
        sheet.cell(sheet.max_row, 7).number_format = money_format
