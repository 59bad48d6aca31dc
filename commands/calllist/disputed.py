"""Disputed and credited money leaves collection: each open item less its open disputes and the
approved credit memos on it that no import shows yet; approved write-offs come off the account's
oldest items, as the ERP books them.

Disputes change in chat without touching invoices, so the packed items hold the ledger's
amounts and the disputes are taken off when a list is built. Only the disputed invoices are read
(a few thousand rows, not every item of every disputed customer), and each is found among its
customer's packed items by what it is: due day, kind and open cents. Two items alike in all
three are interchangeable for every rule, so whichever of them takes the deduction, the list is
the same; alike disputed invoices are paired with alike items one to one.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Connection, select, type_coerce, union_all

from commands.calllist.confirmed import take_oldest_first
from commands.calllist.sql import Statement, total
from commands.disputes import set_aside
from commands.workflows.adjustment_ledger import set_aside_adjustments
from storage.models import AdjustmentTask, Dispute, Invoice
from storage.open_items import OpenItems, day_number, kind_codes

_KEY = ["customer_id", "due", "kind", "cents"]


def less_disputes(connection: Connection, open_items: OpenItems) -> OpenItems:
    """The same customers and items, each item's cents less its disputes set aside (open, or
    settled for the customer since the last import) and its approved credits awaiting the memo (a
    wholly disputed item is left at zero or below, so it counts for nothing); then approved
    write-offs awaiting the ERP off the oldest items."""
    return take_oldest_first(_less_per_invoice(connection, open_items), _writeoffs(connection))


def _less_per_invoice(connection: Connection, open_items: OpenItems) -> OpenItems:
    disputed = _disputed_invoices(connection)
    disputed = disputed[np.isin(disputed["customer_id"].to_numpy(), open_items.customer_ids)]
    if disputed.empty:
        return open_items
    owners = np.repeat(open_items.customer_ids, open_items.counts)
    at = np.flatnonzero(np.isin(owners, disputed["customer_id"].to_numpy()))  # their customers' items
    picked = open_items.items[at]
    items = pd.DataFrame(
        {"customer_id": owners[at], "due": picked["due"], "kind": picked["kind"], "cents": picked["cents"]}, index=at
    )
    pairs = _numbered(items).reset_index().merge(_numbered(disputed), on=[*_KEY, "nth"])
    adjusted = open_items.items.copy()
    adjusted["cents"][pairs["index"].to_numpy()] -= pairs["deduct"].to_numpy(dtype=np.int64)
    return OpenItems(open_items.customer_ids, open_items.counts, adjusted)


def _numbered(frame: pd.DataFrame) -> pd.DataFrame:
    """Alike rows numbered 0, 1, 2... so the n-th alike item pairs with the n-th alike dispute."""
    return frame.assign(nth=frame.groupby(_KEY, sort=False).cumcount())


def _disputed_invoices(connection: Connection) -> pd.DataFrame:
    """Open invoices with disputes set aside or credits awaiting the memo: the item as packed,
    and their cents in all (one row per invoice, so an invoice with both is one deduction)."""
    with connection.execute(_disputed_invoices_stmt()) as result:
        rows = result.cursor.fetchall()  # driver values: dates as ISO text (SQLite) or dates, cents as int
    customers, due, kinds, cents, deduct = zip(*rows, strict=True) if rows else ((), (), (), (), ())
    return pd.DataFrame(
        {
            "customer_id": np.asarray(customers, dtype=np.int64),
            "due": day_number(due),
            "kind": kind_codes(kinds),
            "cents": np.asarray(cents, dtype=np.int64),
            "deduct": np.asarray(deduct, dtype=np.int64),
        }
    )


@cache
def _disputed_invoices_stmt() -> Statement:
    """Built once: the set-aside conditions are correlated subqueries, costly to build."""
    disputes = (
        select(
            Invoice.id,
            Invoice.customer_id,
            Invoice.due_date,
            Invoice.kind,
            Invoice.open_balance,
            type_coerce(Dispute.amount, BigInteger),
        )
        .join(Dispute, Dispute.invoice_id == Invoice.id)
        .where(set_aside(), Invoice.closed_on.is_(None))
    )
    credits = (
        select(
            Invoice.id,
            Invoice.customer_id,
            Invoice.due_date,
            Invoice.kind,
            Invoice.open_balance,
            type_coerce(AdjustmentTask.amount, BigInteger),
        )
        .join(AdjustmentTask, AdjustmentTask.invoice_id == Invoice.id)
        .where(set_aside_adjustments(), Invoice.closed_on.is_(None))
    )
    both = union_all(disputes, credits).subquery()
    cols = both.c
    return select(cols[1], cols[2], cols[3], cols[4], total(cols[5])).group_by(
        cols[0], cols[1], cols[2], cols[3], cols[4]
    )


def _writeoffs(connection: Connection) -> pd.Series:
    """Cents per customer of approved write-offs no import shows yet."""
    with connection.execute(_writeoffs_stmt()) as result:
        rows = result.cursor.fetchall()
    customers, cents = zip(*rows, strict=True) if rows else ((), ())
    return pd.Series(np.asarray(cents, dtype=np.int64), index=np.asarray(customers, dtype=np.int64))


@cache
def _writeoffs_stmt() -> Statement:
    return (
        select(AdjustmentTask.customer_id, total(type_coerce(AdjustmentTask.amount, BigInteger)))
        .where(AdjustmentTask.invoice_id.is_(None), set_aside_adjustments())
        .group_by(AdjustmentTask.customer_id)
    )
