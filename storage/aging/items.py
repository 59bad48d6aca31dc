"""From a grid of strings to open items: one canonical row per invoice line, whatever the layout.

Report furniture (bucket headings such as "1 - 30 days past due", "Total for ..." rows, the
"TOTAL" line, printed-at notes) is recognised and left out; everything else is an item and gets
parsed, so a damaged line is reported rather than silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from storage.aging.arrow_text import stripped
from storage.aging.columns import layout_name, match_columns
from storage.aging.dates import DateColumn, date_order, parse_dates
from storage.aging.money import MoneyColumn, parse_money
from storage.aging.source import RawTable

# Export wording -> invoice kind. "" means "an invoice, kind not stated": new items become
# standard and items the ledger already knows keep their kind (a QuickBooks "Invoice" must not
# undo the "final" an ERP import set).
KINDS = {
    "invoice": "",
    "standard": "standard",
    "standard invoice": "standard",
    "journal entry": "standard",
    "statement charge": "standard",
    "sales receipt": "standard",
    "final": "final",
    "final invoice": "final",
    "recurring": "recurring",
    "recurring invoice": "recurring",
    "mrr": "recurring",
    "subscription": "recurring",
    "monthly": "recurring",
    "retainer": "retainer",
    "retainer invoice": "retainer",
    "deposit": "retainer",
    "credit memo": "credit_memo",
    "credit note": "credit_memo",
    "credit": "credit_memo",
    "cm": "credit_memo",
    "payment": "unapplied_payment",
    "unapplied payment": "unapplied_payment",
    "unapplied cash": "unapplied_payment",
    "prepayment": "unapplied_payment",
}
CREDIT_KINDS = ("credit_memo", "unapplied_payment")
UNTRIMMED = frozenset({"amount", "open_balance", "due_date", "issue_date"})
_TOTAL = r"(?i)\s*(?:grand\s+)?totals?\b"


@dataclass
class ParsedItems:
    """Canonical items (index = record position in the file) and what the file offers."""

    frame: pd.DataFrame
    due: DateColumn
    issue: DateColumn | None
    open_balance: MoneyColumn
    amount: MoneyColumn | None
    raw: pd.DataFrame  # the original text of the item rows, for messages
    fields: frozenset[str]
    layout: str
    date_order: str = "mdy"  # how this file's numeric dates read: "mdy", "dmy" or "ymd"


def parse_items(table: RawTable, date_format: str | None = None) -> ParsedItems:
    """Keep item rows, parse their fields. Validation is a separate step (storage.aging.checks).
    Numeric dates read in ``date_format`` if given, else in the order the file's own dates show
    (refused with how to say it when they cannot tell)."""
    found = match_columns(table.labels)
    cells = table.cells
    text = {field: _text(cells[pos], field) for field, pos in found.items()}
    items = ~_report_furniture(cells, text)
    if not items.all():
        text = {field: column[items] for field, column in text.items()}
    index = text["number"].index
    blank = pd.Series("", index=index, dtype="str")
    key = text["erp_id"] if "erp_id" in text else text["name"]
    name = text.get("name", key)
    open_text = text["open_balance"] if "open_balance" in text else text["amount"]
    open_balance = parse_money(open_text)
    amount = parse_money(text["amount"]) if "amount" in text and "open_balance" in text else None
    order = date_order([text[f] for f in ("due_date", "issue_date") if f in text], date_format)
    due = parse_dates(text["due_date"], order)
    issue = parse_dates(text["issue_date"], order) if "issue_date" in text else None
    frame = pd.DataFrame(
        {
            "erp_id": key if "erp_id" in text else blank,
            "name": name.where(name != "", key),
            "number": text["number"],
            "kind": _kinds(text.get("kind", blank)),
            "due_date": due.days,
            "issue_date": issue.days if issue else np.full(len(index), np.datetime64("NaT"), "datetime64[D]"),
            "open_balance": open_balance.cents,
            "amount": np.where(amount.blank, open_balance.cents, amount.cents) if amount else open_balance.cents,
            "currency": text.get("currency", blank).str.upper(),
            "owner": text.get("owner", blank),
            "segment": text.get("segment", blank),
            "billing_email": text.get("billing_email", blank),
            "retainer_required": text.get("retainer_required", blank),
        },
        index=index,
    )
    _credits_negative(frame)
    return ParsedItems(
        frame=frame,
        due=due,
        issue=issue,
        open_balance=open_balance,
        amount=amount,
        raw=pd.DataFrame(text),
        fields=frozenset(found),
        layout=layout_name(table.labels, table.titles),
        date_order=order,
    )


def _text(column: pd.Series, field: str) -> pd.Series:
    """Cell text; trimmed here except money and dates, which their parsers trim themselves."""
    text = column.astype("str")
    return text if field in UNTRIMMED else stripped(text)


def _report_furniture(cells: pd.DataFrame, text: dict[str, pd.Series]) -> np.ndarray:
    """Section headings, totals and notes: no invoice number and no due date, and either no
    customer or a cell that starts with "Total"."""
    rows = np.flatnonzero((text["number"] == "").to_numpy())
    rows = rows[(text["due_date"].iloc[rows].str.strip() == "").to_numpy(dtype=bool)]
    furniture = np.zeros(len(cells), dtype=bool)
    if rows.size:
        customer = (text["erp_id"] if "erp_id" in text else text["name"]).iloc[rows]
        labelled = [cells[0].astype("str").iloc[rows]] + [text[f].iloc[rows] for f in ("erp_id", "name") if f in text]
        totals = np.logical_or.reduce([column.str.match(_TOTAL).to_numpy(dtype=bool) for column in labelled])
        furniture[rows] = (customer == "").to_numpy() | totals
    return furniture


def _kinds(values: pd.Series) -> pd.Series:
    """Unlisted wording maps to "" (standard unless known), keeping its sign."""
    return map_distinct(values, lambda text: KINDS.get(re.sub(r"[\s_\-]+", " ", text.lower()).strip(), ""))


def map_distinct(values: pd.Series, lookup: Callable[[str], str]) -> pd.Series:
    """``lookup`` applied to each distinct value once: a column of a million rows holds a
    handful of kinds or owners."""
    codes, distinct = pd.factorize(values)
    mapped = np.array([lookup(value) for value in distinct] + [""], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype="str")


def _credits_negative(frame: pd.DataFrame) -> None:
    """Credit memos and unapplied payments are money owed to the customer: some systems export
    them as positive numbers with the type saying what they are; the ledger stores them negative."""
    flip = frame["kind"].isin(CREDIT_KINDS) & (frame["amount"] > 0) & (frame["open_balance"] >= 0)
    frame.loc[flip, "amount"] = -frame.loc[flip, "amount"]
    frame.loc[flip, "open_balance"] = -frame.loc[flip, "open_balance"]
