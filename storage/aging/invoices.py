"""The snapshot diff for invoices: the file is every open item as of its date.

Items new to the ledger are inserted; items whose balance, due date, kind, amount or currency
changed are updated; items closed earlier but listed again are reopened; open items the file no
longer lists were paid (or applied) and close with a zero balance. Unchanged items are not touched,
so importing the same content twice changes nothing. The diff is a pair of merges on
(customer, number); every write is one set-at-a-time statement.

What each item's positive balance did is handed back per invoice (:attr:`InvoiceChanges.moves`):
a fall may be money received, a rise (a reopened item included) may undo money an earlier import
took for received. Deciding which is storage.aging.payments' job, with the ledger's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from storage.aging.bulk import Bulk
from storage.aging.dates import iso_dates
from storage.open_items import group_items, write_packs

COMPARED = ("kind", "issue_date", "due_date", "amount", "open_balance", "currency")
INSERTED = (
    "customer_id",
    "number",
    "kind",
    "issue_date",
    "due_date",
    "amount",
    "open_balance",
    "currency",
    "last_batch_id",
)


@dataclass(frozen=True)
class InvoiceChanges:
    inserted: int
    updated: int
    closed: int
    reopened: int
    moves: pd.DataFrame  # invoice_id, customer_id, cents: fall (> 0) or rise (< 0) of each positive balance


def apply_invoices(
    bulk: Bulk, items: pd.DataFrame, *, given: frozenset[str], batch_id: int, as_of: date, keep_open: frozenset[int]
) -> InvoiceChanges:
    """``items`` has customer_id and the canonical item columns; ``given`` names the optional
    columns the file has (a column it lacks keeps the ledger's value). ``keep_open``: customers
    whose rows were refused, whose missing items therefore prove nothing."""
    bulk.progress.stage("comparing with the ledger", 0)
    file = _ledger_form(items, given)
    held = _open_invoices(bulk)
    matched = file.merge(held, on=["customer_id", "number"], how="left", suffixes=("", "_db"))
    found = matched["id"].notna().to_numpy()
    changed = np.zeros(len(matched), dtype=bool)
    changed[found] = _differs(matched[found])
    closing = held[~held["id"].isin(matched["id"][found]) & ~held["customer_id"].isin(keep_open)]
    fresh, closed_rows = _with_closed_ids(bulk, file[~found])
    updates = pd.concat([matched[changed], fresh[fresh["id"].notna()]])
    inserts = fresh[fresh["id"].isna()].sort_values("customer_id", kind="stable")
    with bulk.loading("invoices", len(inserts), held=len(held) + closed_rows):
        _write(
            bulk,
            inserts.assign(last_batch_id=batch_id),
            updates,
            closing["id"].to_numpy(dtype=np.int64),
            batch_id,
            as_of,
        )
    unlisted_kept = held[~held["id"].isin(matched["id"][found]) & held["customer_id"].isin(keep_open)]
    _write_packs(
        bulk,
        _customers(inserts, updates, closing),
        pd.concat([matched[found], fresh]),
        unlisted_kept,
        packed_before=np.unique(held["customer_id"].to_numpy(dtype=np.int64)),
    )
    reopened = fresh[fresh["id"].notna()]
    return InvoiceChanges(
        inserted=len(inserts),
        updated=len(updates) - len(reopened),
        closed=len(closing),
        reopened=len(reopened),
        moves=_moves(matched[found], closing, reopened),
    )


def _customers(*frames: pd.DataFrame) -> np.ndarray:
    return np.unique(np.concatenate([frame["customer_id"].to_numpy(dtype=np.int64) for frame in frames]))


def _write_packs(
    bulk: Bulk, changed: np.ndarray, listed: pd.DataFrame, kept: pd.DataFrame, *, packed_before: np.ndarray
) -> None:
    """The call list's packed open items of every customer this import changed, from the frames
    in hand rather than a re-read of a million rows: what is open now is every listed item (its
    kind as the file says, else as the ledger had it, else the default) and the unlisted items
    of customers whose missing rows prove nothing. ``packed_before``: the customers that had open
    items, hence a pack, before the import; only theirs can need deleting (a first import deletes
    nothing, where sending 100,000 ids to delete from an empty table took half a second)."""
    bulk.progress.stage("packing open items for the call list", 0)
    columns = ["customer_id", "due_date", "kind", "open_balance"]
    listed = listed.assign(kind=listed["kind"].fillna(listed["kind_db"]).fillna("standard"))
    now_open = pd.concat([listed[columns], kept[columns]], ignore_index=True)
    now_open = now_open[np.isin(now_open["customer_id"].to_numpy(dtype=np.int64), changed)]
    packed = group_items(
        now_open["customer_id"].to_numpy(dtype=np.int64),
        now_open["due_date"].to_numpy(dtype=object),
        now_open["kind"].to_numpy(dtype=object),
        now_open["open_balance"].to_numpy(dtype=np.int64),
    )
    with bulk.loading("open_item_packs", len(packed), held=len(packed_before)):
        write_packs(
            bulk.connection,
            np.intersect1d(changed, packed_before, assume_unique=True),
            packed,
            insert_rows=lambda rows: bulk.insert(
                "open_item_packs", ["customer_id", "items"], rows, stage="writing the call list's packs"
            ),
        )


def _ledger_form(items: pd.DataFrame, given: frozenset[str]) -> pd.DataFrame:
    """Items as ledger columns; None where the file is silent (kind "", no issue date, no amount
    or currency column), which the update keeps as it is and an insert defaults. Text columns are
    Python objects: that is what the drivers take and what the ledger's rows come back as."""
    amount = (
        items["amount"].astype("Int64")
        if {"amount", "open_balance"} <= given
        else pd.Series(pd.NA, index=items.index, dtype="Int64")
    )
    return pd.DataFrame(
        {
            "customer_id": items["customer_id"].to_numpy(dtype=np.int64),
            "number": items["number"].array,
            "kind": _objects(items["kind"].where(items["kind"] != "", None)),
            "issue_date": _objects(iso_dates(items["issue_date"].to_numpy())),
            "due_date": _objects(iso_dates(items["due_date"].to_numpy())),
            "amount": amount.to_numpy(),
            "open_balance": items["open_balance"].to_numpy(dtype=np.int64),
            "currency": _objects(items["currency"].where(items["currency"] != "", None)),
        }
    )


def _objects(values: pd.Series | list[str | None]) -> pd.Series:
    array = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else np.array(values, dtype=object)
    return pd.Series(array, dtype=object)


def _open_invoices(bulk: Bulk) -> pd.DataFrame:
    # Nullable integers: after the left merge, unmatched rows hold NA rather than turning cents into floats.
    return bulk.frame(
        "SELECT id, customer_id, number, kind, CAST(issue_date AS VARCHAR(10)), CAST(due_date AS VARCHAR(10)),"
        " amount, open_balance, currency FROM invoices WHERE closed_on IS NULL",
        {
            "id": "Int64",
            "customer_id": "int64",
            "number": "str",
            "kind": "str",
            "issue_date": "str",
            "due_date": "str",
            "amount": "Int64",
            "open_balance": "Int64",
            "currency": "str",
        },
    )


def _with_closed_ids(bulk: Bulk, fresh: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Items not open in the ledger, with the id and kind of a closed invoice they reopen (a
    reversed payment) or NA when they are new; and how many closed invoices the ledger holds.
    Only keys of closed invoices are read."""
    closed = (
        bulk.frame(
            "SELECT customer_id, number, id, kind FROM invoices WHERE closed_on IS NOT NULL",
            {"customer_id": "int64", "number": "str", "id": "Int64", "kind_db": "object"},
        )
        if len(fresh)
        else pd.DataFrame()
    )
    if closed.empty:
        return fresh.assign(
            id=pd.Series(pd.NA, index=fresh.index, dtype="Int64"),
            kind_db=pd.Series(None, index=fresh.index, dtype=object),
        ), len(closed)
    return fresh.merge(closed, on=["customer_id", "number"], how="left"), len(closed)


def _differs(matched: pd.DataFrame) -> np.ndarray:
    """Rows where the file says something different from the ledger (silence is not a change)."""
    differs = np.zeros(len(matched), dtype=bool)
    for column in COMPARED:
        new, old = matched[column], matched[f"{column}_db"]
        said = new.notna().to_numpy()
        unequal = (new.astype(old.dtype) != old).fillna(True).to_numpy(dtype=bool)
        differs |= said & unequal
    return differs


def _write(
    bulk: Bulk, inserts: pd.DataFrame, updates: pd.DataFrame, closing: np.ndarray, batch_id: int, as_of: date
) -> None:
    """Closes, then updates, then inserts, each as one executemany (or COPY)."""
    batch = int(batch_id)
    bulk.execute_many(
        f"UPDATE invoices SET open_balance = 0, closed_on = ?, last_batch_id = {batch} WHERE id = ?",
        pd.DataFrame({"on": as_of.isoformat(), "id": closing}),
        stage="closing paid invoices",
    )
    values = updates[["kind", "issue_date", "due_date", "amount", "open_balance", "currency"]].copy()
    values["id"] = updates["id"].to_numpy(dtype=np.int64)
    bulk.execute_many(
        "UPDATE invoices SET kind = COALESCE(?, kind), issue_date = COALESCE(?, issue_date), due_date = ?,"
        " amount = COALESCE(?, amount), open_balance = ?, currency = COALESCE(?, currency),"
        f" closed_on = NULL, last_batch_id = {batch} WHERE id = ?",
        values,
        stage="updating invoices",
    )
    inserts = inserts.assign(
        kind=inserts["kind"].fillna("standard"),
        amount=inserts["amount"].fillna(inserts["open_balance"]).astype("int64"),
        currency=inserts["currency"].fillna("USD"),
    )
    bulk.insert("invoices", INSERTED, inserts, stage="inserting invoices")


def _moves(kept: pd.DataFrame, closing: pd.DataFrame, reopened: pd.DataFrame) -> pd.DataFrame:
    """Per invoice, how its open positive balance moved: down on kept items that fell and on
    closed ones, up on kept items that rose and on reopened ones. Credits and unapplied payments
    (negative items) are not money received, so they count as zero."""
    before = kept["open_balance_db"].to_numpy(dtype=np.int64).clip(min=0)
    after = kept["open_balance"].to_numpy(dtype=np.int64).clip(min=0)
    moved = before != after
    gone = closing[closing["open_balance"] > 0]
    back = reopened[reopened["open_balance"] > 0]
    frame = pd.DataFrame(
        {
            "invoice_id": np.concatenate(
                [
                    kept["id"].to_numpy(dtype=np.int64)[moved],
                    gone["id"].to_numpy(dtype=np.int64),
                    back["id"].to_numpy(dtype=np.int64),
                ]
            ),
            "customer_id": np.concatenate(
                [
                    kept["customer_id"].to_numpy(dtype=np.int64)[moved],
                    gone["customer_id"].to_numpy(dtype=np.int64),
                    back["customer_id"].to_numpy(dtype=np.int64),
                ]
            ),
            "cents": np.concatenate(
                [
                    (before - after)[moved],
                    gone["open_balance"].to_numpy(dtype=np.int64),
                    -back["open_balance"].to_numpy(dtype=np.int64),
                ]
            ),
        }
    )
    return frame.astype("int64")
