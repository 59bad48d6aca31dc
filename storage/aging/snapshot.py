"""Applying checked open items to the ledger as one snapshot: customers, invoices, and the
payments the snapshot reveals (storage.aging.payments decides them against the ledger's history
and audits each invoice's share). Runs inside the caller's transaction; the use case records the
batch, customer changes and payments in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from storage.aging.bulk import Bulk, Progress
from storage.aging.contacts import billing_contacts
from storage.aging.customers import Assign, erp_ids_for_names, existing_customers, file_customers, upsert_customers
from storage.aging.invoices import apply_invoices
from storage.aging.payments import invoices_by_customer, money_seen
from storage.aging.retainers import imported_retainers
from storage.models import Payment


@dataclass(frozen=True)
class SnapshotChanges:
    customers: int
    customers_created: int
    customer_changes: list[dict[str, object]]
    inserted: int
    updated: int
    closed: int
    reopened: int
    payments: pd.DataFrame  # id, customer_id, cents: one signed payment per customer whose money moved
    absorbed: list[tuple[int, int, int]]  # finance payments the ERP now shows: (id, customer id, cents)
    paid_invoices: dict[int, dict[str, int]]  # customer -> {invoice id: signed cents} recorded as paid
    reversed_cents: int


def apply_snapshot(
    session: Session,
    items: pd.DataFrame,
    *,
    fields: frozenset[str],
    refused: frozenset[str],
    batch_id: int,
    as_of: date,
    now: datetime,
    members: dict[str, int],
    assign: Assign,
    actor: str,
    progress: Progress | None = None,
) -> SnapshotChanges:
    """``items`` are checked items (owner already an email); ``refused`` the customer keys of rows
    left out, whose missing invoices must not be taken for paid. Items with a zero open balance
    are settled, so they count as absent."""
    bulk = Bulk(session, progress)
    existing = existing_customers(bulk)
    settled = (items["open_balance"] == 0).to_numpy()
    items = items[~settled] if settled.any() else items
    codes, distinct = pd.factorize(items["erp_id"] if "erp_id" in fields else items["name"])
    keys = (
        np.asarray(distinct, dtype=object)
        if "erp_id" in fields
        else erp_ids_for_names(pd.Series(distinct, dtype=object), existing).to_numpy(dtype=object)
    )
    found = file_customers(items, codes, keys, members)
    customers = upsert_customers(
        bulk,
        found,
        existing,
        members=members,
        assign=assign,
        now=now,
        currency_given="currency" in fields,
        adopt="erp_id" in fields,
    )
    if "billing_email" in fields:
        billing_contacts(session, customers.ids, found["billing_email"].to_numpy(dtype=object), at=now, actor=actor)
    if "retainer_required" in fields:
        imported_retainers(session, customers.ids, found["retainer_required"], at=now, actor=actor)
    refused_keys = pd.Series(sorted(refused), dtype=object)
    if "erp_id" not in fields:
        refused_keys = erp_ids_for_names(refused_keys, existing)
    known = pd.concat([existing[["id", "erp_id"]], pd.DataFrame({"id": customers.ids, "erp_id": found["erp_id"]})])
    keep_open = frozenset(known.loc[known["erp_id"].isin(refused_keys), "id"].astype(int).tolist())
    invoices = apply_invoices(
        bulk,
        items.assign(customer_id=customers.ids[codes]),
        given=fields,
        batch_id=batch_id,
        as_of=as_of,
        keep_open=keep_open,
    )
    bulk.progress.stage("reconciling payments with history", 0)
    money = money_seen(session, invoices.moves, as_of=as_of, batch_id=batch_id, at=now, actor=actor)
    return SnapshotChanges(
        customers=len(found),
        customers_created=customers.created,
        customer_changes=customers.changed,
        inserted=invoices.inserted,
        updated=invoices.updated,
        closed=invoices.closed,
        reopened=invoices.reopened,
        payments=_record_payments(bulk, money.per_customer, batch_id=batch_id, as_of=as_of, now=now),
        absorbed=money.absorbed,
        paid_invoices=invoices_by_customer(money.per_invoice),
        reversed_cents=money.reversed_cents,
    )


def _record_payments(bulk: Bulk, paid: pd.DataFrame, *, batch_id: int, as_of: date, now: datetime) -> pd.DataFrame:
    """One ``source="import"`` payment per customer, received on the snapshot date (negative when
    it undoes money earlier imports recorded). They are read
    back by primary key range (payments has no index on batch_id; other writers may add payments
    meanwhile, hence the batch filter too)."""
    if paid.empty:
        return pd.DataFrame({"id": [], "customer_id": [], "cents": []}, dtype="int64")
    last = bulk.frame("SELECT COALESCE(MAX(id), 0) FROM payments", {"last": "int64"})["last"].to_numpy(dtype=np.int64)

    rows = pd.DataFrame(
        {
            "customer_id": paid["customer_id"].to_numpy(),
            "amount": paid["cents"].to_numpy(),
            "received_on": as_of.isoformat(),
            "source": "import",
            "batch_id": batch_id,
            "created_at": bulk.instant(Payment.__table__.c.created_at, now),
        }
    )
    bulk.insert("payments", list(rows.columns), rows, stage="recording payments")
    return bulk.frame(
        f"SELECT id, customer_id, amount FROM payments WHERE id > {int(last[0])} AND batch_id = {int(batch_id)}",
        {"id": "int64", "customer_id": "int64", "cents": "int64"},
    )
