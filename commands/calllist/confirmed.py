"""Money finance confirmed is applied to the oldest open items first, as cash application does.

The ERP lags: until an import shows a confirmed payment (the import marks it with its batch,
:func:`commands.snapshots.awaiting_erp`), the open items still carry the money the customer
already paid. Taking it off the balance alone is not enough: the list would still rank the
account by items that are paid ("final invoice 6 days past due"). So each customer's confirmed
money is taken off its positive items, oldest due date first, before any feature is worked out;
an account whose past-due items are covered has nothing past due left and leaves the list. Once
an import shows the payment, the items themselves have fallen and nothing is taken off here, so
the money counts once.

Items alike in due day and kind are interchangeable for every rule, so the order among them does
not change the list; the bigger one is paid first so that fewer items stay part-paid.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Connection, select, type_coerce

from commands.calllist.sql import Statement, total
from commands.snapshots import awaiting_erp
from storage.models import Payment
from storage.open_items import OpenItems


def less_confirmed(connection: Connection, open_items: OpenItems) -> OpenItems:
    """The same customers and items, with every payment finance confirmed that no import has
    shown yet taken off the customers' positive items, oldest due first. Money beyond the
    positive items is left over (the balance, which ``collectible`` works out, is floored at 0)."""
    return take_oldest_first(open_items, _awaiting_erp(connection))


def take_oldest_first(open_items: OpenItems, amounts: pd.Series) -> OpenItems:
    """``amounts`` (cents per customer id) taken off each customer's positive items, oldest due
    first: how cash application pays, and how a write-off is booked."""
    amounts = amounts[amounts.index.isin(open_items.customer_ids)]
    if amounts.empty:
        return open_items
    owners = np.repeat(open_items.customer_ids, open_items.counts)
    items = open_items.items
    at = np.flatnonzero(np.isin(owners, amounts.index.to_numpy()) & (items["cents"] > 0))
    order = at[np.lexsort((-items["cents"][at], items["due"][at], owners[at]))]
    cents = items["cents"][order]
    before = pd.Series(cents).groupby(owners[order]).cumsum().to_numpy() - cents
    budget = amounts.reindex(owners[order]).to_numpy(dtype=np.int64)
    taken = np.clip(budget - before, 0, cents)
    adjusted = items.copy()
    adjusted["cents"][order] -= taken
    return OpenItems(open_items.customer_ids, open_items.counts, adjusted)


def _awaiting_erp(connection: Connection) -> pd.Series:
    """Cents per customer that finance confirmed and no import has shown yet."""
    with connection.execute(_awaiting_erp_stmt()) as result:
        rows = result.cursor.fetchall()
    customers, cents = zip(*rows, strict=True) if rows else ((), ())
    return pd.Series(np.asarray(cents, dtype=np.int64), index=np.asarray(customers, dtype=np.int64))


@cache
def _awaiting_erp_stmt() -> Statement:
    return (
        select(Payment.customer_id, total(type_coerce(Payment.amount, BigInteger)))
        .where(awaiting_erp())
        .group_by(Payment.customer_id)
    )
