"""Which column of an export holds what, found by the header spellings accounting systems use.

Exports differ in wording ("Invoice No.", "Num", "Doc No", "Invoice #") but not in meaning, so one
header-driven reader serves every layout: labels are reduced to a canonical spelling and looked up
in :data:`SPELLINGS`. The layout name is only a label for the batch record and the summary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# field -> canonical spellings (after :func:`canonical_label`).
SPELLINGS: dict[str, tuple[str, ...]] = {
    "erp_id": (
        "customer id",
        "customer no",
        "customer code",
        "customer key",
        "customer account",
        "account id",
        "account no",
        "account code",
        "client id",
        "client no",
        "client code",
        "debtor id",
        "debtor no",
        "bp code",
        "sold to",
    ),
    "name": (
        "customer",
        "customer name",
        "client",
        "client name",
        "account",
        "account name",
        "debtor",
        "debtor name",
        "name",
        "company",
        "company name",
        "bill to",
    ),
    "number": (
        "invoice no",
        "invoice",
        "no",
        "document no",
        "document",
        "transaction no",
        "reference",
        "reference no",
        "ref no",
        "ref",
        "bill no",
        "item no",
    ),
    "kind": (
        "invoice type",
        "transaction type",
        "type",
        "document type",
        "transaction",
        "item type",
        "category",
    ),
    "issue_date": (
        "date",
        "invoice date",
        "document date",
        "transaction date",
        "posting date",
        "issue date",
        "issued",
        "bill date",
    ),
    "due_date": ("due date", "due", "net due date", "due on", "payment due", "payment due date"),
    "amount": (
        "amount",
        "original amount",
        "invoice amount",
        "orig amount",
        "total",
        "invoice total",
        "original",
        "gross amount",
        "document amount",
    ),
    "open_balance": (
        "open balance",
        "amount due",
        "balance",
        "balance due",
        "amount remaining",
        "remaining",
        "outstanding",
        "open amount",
        "amount outstanding",
        "remaining balance",
        "amount open",
        "open",
        "due amount",
        "remaining amount",
    ),
    "currency": ("currency", "currency code", "ccy", "cur", "curr"),
    "owner": (
        "owner",
        "collector",
        "assigned to",
        "account owner",
        "collector email",
        "assigned collector",
        "owner email",
        "collections owner",
    ),
    "segment": ("segment", "customer segment", "tier", "customer tier", "customer class"),
    "billing_email": (
        "billing email",
        "billing contact email",
        "bill to email",
        "email",
        "customer email",
        "contact email",
        "ap email",
        "accounts payable email",
        "invoice email",
        "statement email",
    ),
    "retainer_required": (
        "retainer required",
        "required retainer",
        "retainer requirement",
        "retainer amount",
        "retainer",
        "min retainer",
        "minimum retainer",
    ),
}

_LOOKUP = {spelling: field for field, spellings in SPELLINGS.items() for spelling in spellings}
_WORDS = {
    "number": "no",
    "num": "no",
    "nbr": "no",
    "nr": "no",
    "#": "no",
    "amt": "amount",
    "cust": "customer",
    "doc": "document",
    "inv": "invoice",
    "txn": "transaction",
    "acct": "account",
    "bal": "balance",
}

# What a column set must have to be an open-items table at all.
REQUIRED = ("number", "due_date")


def canonical_label(label: str) -> str:
    """Lower-case words without punctuation, abbreviations spelt out: "Invoice No." -> "invoice no"."""
    text = label.strip().lower().replace("#", " # ")
    words = re.findall(r"[a-z0-9]+|#", text)
    return " ".join(_WORDS.get(word, word) for word in words)


def match_columns(labels: Sequence[str]) -> dict[str, int]:
    """Field name -> position of the first column whose label spells it."""
    found: dict[str, int] = {}
    for position, label in enumerate(labels):
        field = _LOOKUP.get(canonical_label(label))
        if field is not None and field not in found:
            found[field] = position
    return found


def is_header(labels: Sequence[str]) -> bool:
    """A header names a customer, an invoice number, a due date and some money."""
    found = match_columns(labels)
    has_customer = "erp_id" in found or "name" in found
    has_money = "open_balance" in found or "amount" in found
    return has_customer and has_money and all(field in found for field in REQUIRED)


def missing_columns(labels: Sequence[str]) -> list[str]:
    """What a near-header lacks, in words a person recognises (for the refusal message)."""
    found = match_columns(labels)
    missing = []
    if "erp_id" not in found and "name" not in found:
        missing.append("customer (e.g. 'Customer ID' or 'Customer')")
    if "number" not in found:
        missing.append("invoice number (e.g. 'Invoice No.' or 'Num')")
    if "due_date" not in found:
        missing.append("due date ('Due Date')")
    if "open_balance" not in found and "amount" not in found:
        missing.append("open balance (e.g. 'Open Balance' or 'Amount Due')")
    return missing


def layout_name(labels: Sequence[str], titles: Sequence[str]) -> str:
    """``quickbooks_aging_detail`` for the QuickBooks A/R Aging Detail report, else ``generic``."""
    canon = {canonical_label(label) for label in labels}
    quickbooks_header = {"transaction type", "no", "customer", "open balance"} <= canon
    titled = any("aging detail" in title.lower() for title in titles)
    return "quickbooks_aging_detail" if quickbooks_header or titled else "generic"
