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
    at, owners = _items_of(open_items, np.unique(disputed["customer_id"].to_numpy()))  # their customers' items
    picked = open_items.items[at]
    item_at, dispute_at = _alike_pairs(
        [owners, picked["due"], picked["kind"], picked["cents"]], [disputed[name].to_numpy() for name in _KEY]
    )
    adjusted = open_items.items.copy()
    adjusted["cents"][at[item_at]] -= disputed["deduct"].to_numpy(dtype=np.int64)[dispute_at]
    return OpenItems(open_items.customer_ids, open_items.counts, adjusted)


def _items_of(open_items: OpenItems, customers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions of the items of ``customers`` (ascending, all with items) and each one's
    customer: their runs of the packed items, without spelling out the owner of every item."""
    rows = np.searchsorted(open_items.customer_ids, customers)
    counts = open_items.counts[rows]
    first = np.cumsum(counts) - counts  # where each customer's run starts among the picked items
    at = np.repeat(open_items.starts[rows] - first, counts) + np.arange(int(counts.sum()))
    return at, np.repeat(customers, counts)


def _alike_pairs(items: list[np.ndarray], disputes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Positions of paired items and disputes: the n-th item alike in every key column with the
    n-th dispute alike in them (n counted in order of appearance on each side), one to one."""
    group = _alike(
        [np.concatenate([mine, theirs]).astype(np.int64) for mine, theirs in zip(items, disputes, strict=True)]
    )
    on_items, on_disputes = group[: len(items[0])], group[len(items[0]) :]
    nth_item, nth_dispute = _nth(on_items), _nth(on_disputes)
    width = int(max(nth_item.max(initial=0), nth_dispute.max(initial=0))) + 1
    _, item_at, dispute_at = np.intersect1d(
        on_items * width + nth_item, on_disputes * width + nth_dispute, assume_unique=True, return_indices=True
    )
    return item_at, dispute_at


def _alike(keys: list[np.ndarray]) -> np.ndarray:
    """A number per row, the same for rows equal in every key."""
    order = np.lexsort(keys[::-1])
    changes = np.zeros(len(order), dtype=bool)
    for key in keys:
        ordered = key[order]
        changes[1:] |= ordered[1:] != ordered[:-1]
    group = np.empty(len(order), dtype=np.int64)
    group[order] = np.cumsum(changes)
    return group


def _nth(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2... down the rows of each group, in row order."""
    order = np.argsort(groups, kind="stable")
    ordered = groups[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(order) else np.zeros(0, np.int64)
    within = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    nth = np.empty(len(order), dtype=np.int64)
    nth[order] = within
    return nth


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
