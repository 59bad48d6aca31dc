"""Each customer's open items, packed: the columnar copy of the open ledger the call list reads.

Ranking a whole portfolio looks at every open item of every customer each morning. Done in SQL
that is one aggregate over a million index entries, and the database spends most of a second
evaluating a handful of conditions row by row. Here each customer's open items are kept as one
packed array (due day, kind, open cents: 13 bytes an item) in ``open_item_packs``; the list reads
100,000 short blobs and works out every feature with numpy in one pass.

The packs are a projection of ``invoices`` and must never disagree with it. They are rewritten
in the same transaction as the change they follow:

* the aging import writes the packs of the customers it changed, from the frames it already
  holds (:func:`write_packs`);
* any ORM flush that adds, changes or deletes an ``Invoice`` refreshes its customers' packs from
  the table (:func:`refresh_packs`, hooked on every session by :func:`keep_packs_current`);
* the migration that created the table built them all (:func:`rebuild_packs`).

A customer without open items has no pack.

numpy and pandas are imported inside the functions that use them: every session factory hooks
:func:`keep_packs_current` and every migration run loads this module, so importing them at the top
would put them in the memory of every ``arbot serve`` that never imports a file or builds a list.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import cache, partial
from itertools import islice
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Select, delete, event, insert, select
from sqlalchemy.orm import Session, attributes

from storage.models import Customer, Invoice, InvoiceKind, OpenItemPack

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Append only: a pack stores the position, so reordering would change what packs mean.
KINDS: tuple[InvoiceKind, ...] = (
    InvoiceKind.STANDARD,
    InvoiceKind.FINAL,
    InvoiceKind.RECURRING,
    InvoiceKind.RETAINER,
    InvoiceKind.CREDIT_MEMO,
    InvoiceKind.UNAPPLIED_PAYMENT,
)
KIND_CODE = {kind.value: code for code, kind in enumerate(KINDS)}
_IN_CHUNK = 5000  # customer ids per IN (...) list


@cache
def item_dtype() -> np.dtype:
    """One open item: due date in days since 1970-01-01, kind as its position in KINDS, open cents."""
    import numpy as np

    return np.dtype([("due", "<i4"), ("kind", "i1"), ("cents", "<i8")])


@cache
def epoch() -> np.datetime64:
    """Day 0 of the due dates."""
    import numpy as np

    return np.datetime64("1970-01-01", "D")


def __getattr__(name: str) -> Any:
    """``ITEM`` (:func:`item_dtype`) and ``EPOCH`` (:func:`epoch`) as module constants, made on
    first use so that importing this module does not import numpy."""
    if name == "ITEM":
        return item_dtype()
    if name == "EPOCH":
        return epoch()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class OpenItems:
    """Open items grouped by customer: the items of ``customer_ids[i]`` are
    ``items[starts[i]:starts[i] + counts[i]]``. Customer ids ascend; every customer has an item."""

    customer_ids: np.ndarray  # int64
    counts: np.ndarray  # int64
    items: np.ndarray  # item_dtype()

    @property
    def starts(self) -> np.ndarray:
        import numpy as np

        return np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64)

    def __len__(self) -> int:
        return len(self.customer_ids)


def day_number(days: Any) -> np.ndarray:
    """Dates (date objects, ISO strings or datetime64) as days since 1970-01-01."""
    import numpy as np

    return (np.asarray(days, dtype="datetime64[D]") - epoch()).astype(np.int32)


def group_items(customer_ids: Any, due: Any, kinds: Any, cents: Any) -> OpenItems:
    """Items given column by column (one entry per item, kinds as their stored names) grouped by
    customer. Within a customer the order means nothing (and is not sorted: a million-item sort
    on three keys would cost more than the rest of an import's packing)."""
    import numpy as np

    table = np.empty(len(customer_ids), item_dtype())
    table["due"] = _each_distinct(day_number, due)  # a few hundred distinct dates in a million items
    table["kind"] = kind_codes(kinds)
    table["cents"] = np.asarray(cents, dtype=np.int64)
    owners = np.asarray(customer_ids, dtype=np.int64)
    order = np.argsort(owners, kind="stable")
    ids, counts = np.unique(owners[order], return_counts=True)
    return OpenItems(ids.astype(np.int64), counts.astype(np.int64), table[order])


def kind_codes(kinds: Any) -> np.ndarray:
    """Stored kind names as their positions in KINDS."""
    import numpy as np

    return _each_distinct(lambda names: [KIND_CODE[name] for name in names], kinds).astype(np.int8)


def _each_distinct(convert: Callable[[Any], Any], values: Any) -> np.ndarray:
    """``convert`` applied once per distinct value rather than once per item."""
    import numpy as np
    import pandas as pd

    codes, distinct = pd.factorize(pd.Series(values, dtype=object))
    return np.asarray(convert(np.asarray(distinct, dtype=object)))[codes] if len(codes) else np.zeros(0)


def read_packs(
    connection: Connection, *, collector_id: int | None = None, customer_ids: Collection[int] | None = None
) -> OpenItems:
    """The packed items of every customer (of one collector, or of the given customers)."""
    import numpy as np

    stmt = select(OpenItemPack.customer_id, OpenItemPack.items).order_by(OpenItemPack.customer_id)
    if collector_id is not None:
        stmt = stmt.where(
            OpenItemPack.customer_id.in_(select(Customer.id).where(Customer.collector_id == collector_id))
        )
    rows = _fetch(connection, stmt, OpenItemPack.customer_id, customer_ids)
    rows.sort(key=lambda row: row[0])
    blobs = [bytes(row[1]) for row in rows]
    return OpenItems(
        customer_ids=np.fromiter((row[0] for row in rows), np.int64, len(rows)),
        counts=np.fromiter(map(len, blobs), np.int64, len(blobs)) // item_dtype().itemsize,
        items=np.frombuffer(b"".join(blobs), item_dtype()),
    )


def read_open_items(connection: Connection, customer_ids: Collection[int] | None) -> OpenItems:
    """The customers' open items straight from ``invoices`` (everyone's when None)."""
    stmt = select(Invoice.customer_id, Invoice.due_date, Invoice.kind, Invoice.open_balance).where(
        Invoice.closed_on.is_(None)
    )
    rows = _fetch(connection, stmt, Invoice.customer_id, customer_ids)
    if not rows:
        return group_items([], [], [], [])
    owners, due, kinds, amounts = zip(*rows, strict=True)
    return group_items(owners, due, kinds, amounts)


def _fetch(
    connection: Connection, stmt: Select[*tuple[Any, ...]], customer: Any, customer_ids: Collection[int] | None
) -> list[Any]:
    """The driver's plain tuples (no row objects for 100,000 rows; dates as ISO text on SQLite,
    dates on PostgreSQL), for the given customers a chunk at a time, or for everyone."""
    rows: list[Any] = []
    for chunk in _chunked(customer_ids) if customer_ids is not None else [None]:
        with connection.execute(stmt if chunk is None else stmt.where(customer.in_(chunk))) as result:
            rows += result.cursor.fetchall()
    return rows


def pack_rows(open_items: OpenItems) -> pd.DataFrame:
    """One (customer_id, items) row per customer, ready to insert."""
    import numpy as np
    import pandas as pd

    raw = open_items.items.tobytes()
    size = item_dtype().itemsize
    ends = np.cumsum(open_items.counts) * size
    begins = ends - open_items.counts * size
    blobs = [raw[b:e] for b, e in zip(begins.tolist(), ends.tolist(), strict=True)]
    return pd.DataFrame({"customer_id": open_items.customer_ids, "items": pd.Series(blobs, dtype=object)})


def write_packs(
    connection: Connection,
    changed: Iterable[int],
    open_items: OpenItems,
    *,
    insert_rows: Callable[[pd.DataFrame], None] | None = None,
) -> None:
    """Replace the packs of the ``changed`` customers with ``open_items`` (which holds their items
    only; a changed customer missing from it has no open items left). ``insert_rows`` lets a
    bulk writer (the import's multi-row INSERT or COPY) store the new rows."""
    _delete_packs(connection, sorted({int(c) for c in changed}))
    rows = pack_rows(open_items)
    if len(rows):
        (insert_rows or partial(_insert, connection))(rows)


def _delete_packs(connection: Connection, customer_ids: list[int]) -> None:
    """PostgreSQL takes every id as one array parameter; an ``IN`` list of thousands of
    parameters costs the driver more to send than the server to run (0.1 s a chunk of 5,000)."""
    if connection.dialect.name == "postgresql":
        if customer_ids:
            connection.exec_driver_sql(
                "DELETE FROM open_item_packs WHERE customer_id = ANY(%(ids)s)", {"ids": customer_ids}
            )
        return
    for chunk in _chunked(customer_ids):
        connection.execute(delete(OpenItemPack).where(OpenItemPack.customer_id.in_(chunk)))


def _insert(connection: Connection, rows: pd.DataFrame) -> None:
    columns = [str(name) for name in rows.columns]
    connection.execute(
        insert(OpenItemPack),
        [dict(zip(columns, values, strict=True)) for values in rows.itertuples(index=False, name=None)],
    )


def refresh_packs(connection: Connection, customer_ids: Iterable[int]) -> None:
    """Re-read the customers' open items and rewrite their packs."""
    ids = sorted({int(c) for c in customer_ids})
    if ids:
        write_packs(connection, ids, read_open_items(connection, ids))


def rebuild_packs(connection: Connection) -> None:
    """Every pack from scratch: for a new table, or to repair one."""
    connection.execute(delete(OpenItemPack))
    if connection.scalar(select(Invoice.id).where(Invoice.closed_on.is_(None)).limit(1)) is None:
        return  # nothing to pack: a new database's migration then leaves numpy unloaded
    rows = pack_rows(read_open_items(connection, None))
    if len(rows):
        _insert(connection, rows)


def stale_packs(connection: Connection) -> list[int]:
    """Customers whose pack does not hold exactly their open items: empty unless something wrote
    invoices around this module (a check for tests and for ``arbot db check``)."""
    packed = pack_rows(_canonical(read_packs(connection))).set_index("customer_id")["items"]
    ledger = pack_rows(_canonical(read_open_items(connection, None))).set_index("customer_id")["items"]
    both = packed.to_frame("packed").join(ledger.to_frame("ledger"), how="outer")
    differs = both["packed"].ne(both["ledger"]) | both["packed"].isna() | both["ledger"].isna()
    return sorted(int(c) for c in both.index[differs.to_numpy(dtype=bool)])


def _canonical(open_items: OpenItems) -> OpenItems:
    """Each customer's items in one order (due day, kind, cents), so equal sets pack alike."""
    import numpy as np

    owners = np.repeat(open_items.customer_ids, open_items.counts)
    items = open_items.items
    order = np.lexsort((items["cents"], items["kind"], items["due"], owners))
    return OpenItems(open_items.customer_ids, open_items.counts, items[order])


def keep_packs_current(target: Any = Session) -> None:
    """After every flush of a session (of ``target``: a Session class or sessionmaker) that touched
    invoices, refresh those customers' packs on the same connection, so the packs commit or roll
    back with the change."""
    if not event.contains(target, "after_flush", _after_flush):
        event.listen(target, "after_flush", _after_flush)


def _after_flush(session: Session, _context: Any) -> None:
    touched: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Invoice):
            touched |= _customers_of(obj)
    if touched:
        refresh_packs(session.connection(), touched)


def _customers_of(invoice: Invoice) -> set[int]:
    """The invoice's customer, and the one it belonged to before if that changed."""
    history = attributes.get_history(invoice, "customer_id")
    return {c for c in (invoice.customer_id, *history.deleted) if c is not None}


def _chunked(ids: Collection[int] | None) -> Iterator[list[int]]:
    values = iter(sorted(ids or ()))
    while chunk := list(islice(values, _IN_CHUNK)):
        yield chunk
