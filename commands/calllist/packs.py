"""The packed open items (:mod:`storage.open_items`) and each customer's collector, in one
statement.

A whole team's list read 100,000 packs and then 100,000 (customer, collector) rows in a query of
their own, and lined the second up with the first: the same customers twice over. Joined, the
collector comes with the pack it belongs to, already in customer order, and only for customers
with open items. Rows stay the driver's plain tuples and become arrays column by column.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
from sqlalchemy import Connection, select

from commands.calllist.sql import Statement, scoped
from storage.models import Customer, OpenItemPack
from storage.open_items import OpenItems, item_dtype


def read_owned_packs(
    connection: Connection, *, collector_id: int | None, customer_ids: Sequence[int] | None = None
) -> tuple[OpenItems, np.ndarray]:
    """Every customer's open items (of one collector, or of the given customers), and each one's
    collector id as a float (NaN: nobody's), lined up with ``customer_ids`` of the items."""
    params: dict[str, object] = {"collector_id": collector_id}
    if customer_ids is not None:
        params["customer_ids"] = list(customer_ids)
    stmt = _owned_packs(collector_id is not None, customer_ids is not None)
    with connection.execute(stmt, params) as result:
        rows = result.cursor.fetchall()
    ids, blobs, owners = zip(*rows, strict=True) if rows else ((), (), ())
    items = OpenItems(
        customer_ids=np.array(ids, dtype=np.int64),
        counts=np.fromiter(map(len, blobs), np.int64, len(blobs)) // item_dtype().itemsize,
        items=np.frombuffer(b"".join(blobs), item_dtype()),
    )
    return items, np.array(owners, dtype=np.float64)  # None becomes NaN


@cache
def _owned_packs(by_collector: bool, by_customers: bool) -> Statement:
    stmt = (
        select(OpenItemPack.customer_id, OpenItemPack.items, Customer.collector_id)
        .join(Customer, Customer.id == OpenItemPack.customer_id)
        .order_by(OpenItemPack.customer_id)
    )
    return scoped(stmt, OpenItemPack.customer_id, by_collector, by_customers)
