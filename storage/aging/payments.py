"""What an import's balance moves mean in money, against the ledger's history.

Every invoice carries, in the audit events of its customer's import payments (``payment_seen``,
``payment_reversed``, or ``payments.netted`` when a customer's moves cancel out), what imports
recorded as paid on it: ``data["invoices"]`` maps invoice id to signed cents. Keeping it in the
events the import writes anyway costs nothing extra per invoice.

A fall in a balance is money received, except the part the ERP is only now showing of payments
finance already confirmed in chat: those are absorbed (oldest first, each once a fall covers it;
a smaller fall is taken as part of the pending one and recorded as nothing, so confirmed money is
never counted twice). A rise, or the invoice listed again after an
import closed it, undoes what imports recorded on it, never more. One signed ``source="import"``
payment per customer carries the net: positive settles, negative reverses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import Row, insert, select, update
from sqlalchemy.orm import Session

from storage.models import AuditEvent, Payment
from storage.types import from_cents

HISTORY_ACTIONS = ("payment_seen", "payment_reversed", "payments.netted")
LOOKUP_CHUNK = 5_000


@dataclass(frozen=True)
class MoneySeen:
    per_customer: pd.DataFrame  # customer_id, cents (signed, never 0)
    per_invoice: pd.DataFrame  # invoice_id, customer_id, cents (signed, never 0): what goes in the events
    absorbed: list[tuple[int, int, int]]  # (finance payment id, customer id, cents) the ERP now shows
    reversed_cents: int  # undone on invoices that rose or came back


def money_seen(
    session: Session, moves: pd.DataFrame, *, as_of: date, batch_id: int, at: datetime, actor: str
) -> MoneySeen:
    """Decide, per invoice, what ``moves`` (invoice_id, customer_id, cents; fall > 0) record as
    paid; mark (and audit) the finance payments the ERP now shows. Writes no payment rows; the
    caller audits ``per_invoice`` with the payments."""
    if moves.empty:
        empty = pd.DataFrame({"invoice_id": [], "customer_id": [], "cents": []}, dtype="int64")
        return MoneySeen(empty[["customer_id", "cents"]], empty, [], 0)
    falls, rises = moves[moves["cents"] > 0], moves[moves["cents"] < 0]
    undone = _undo(session, rises)
    absorbed, finance_share = _absorb(session, falls, as_of=as_of)
    paid = pd.concat([falls.assign(cents=falls["cents"].to_numpy() - finance_share), undone], ignore_index=True)
    paid = paid[paid["cents"] != 0].reset_index(drop=True)
    _mark_absorbed(session, absorbed, batch_id=batch_id, at=at, actor=actor)
    per_customer = paid.groupby("customer_id")["cents"].sum().reset_index()
    _audit_netted(session, paid, per_customer, batch_id=batch_id, at=at, actor=actor)
    return MoneySeen(
        per_customer[per_customer["cents"] != 0].reset_index(drop=True), paid, absorbed, int(-undone["cents"].sum())
    )


def invoices_by_customer(per_invoice: pd.DataFrame) -> dict[int, dict[str, int]]:
    """``{customer: {invoice id: cents}}`` for the events: one entry per changed invoice."""
    found: dict[int, dict[str, int]] = {}
    for invoice_id, customer_id, cents in per_invoice[["invoice_id", "customer_id", "cents"]].itertuples(index=False):
        found.setdefault(int(customer_id), {})[str(int(invoice_id))] = int(cents)
    return found


def paid_on_invoices(session: Session, customer_ids: np.ndarray) -> dict[int, int]:
    """Net cents imports recorded as paid, per invoice of these customers (only invoices with
    events). Read from the customers' import payment events, a few per customer."""
    net: dict[int, int] = {}
    ids = sorted({int(i) for i in customer_ids})
    for start in range(0, len(ids), LOOKUP_CHUNK):
        rows = session.scalars(
            select(AuditEvent.data).where(
                AuditEvent.customer_id.in_(ids[start : start + LOOKUP_CHUNK]), AuditEvent.action.in_(HISTORY_ACTIONS)
            )
        )
        for data in rows:
            for invoice_id, cents in (data or {}).get("invoices", {}).items():
                net[int(invoice_id)] = net.get(int(invoice_id), 0) + int(cents)
    return net


def _undo(session: Session, rises: pd.DataFrame) -> pd.DataFrame:
    """A rise undoes at most what imports recorded as paid on that invoice; the rest of it is an
    adjustment in the ERP, not money leaving."""
    if rises.empty:
        return rises.copy()
    net = paid_on_invoices(session, rises["customer_id"].to_numpy())
    recorded = rises["invoice_id"].map(net).fillna(0).to_numpy(dtype=np.int64).clip(min=0)
    return rises.assign(cents=-np.minimum(-rises["cents"].to_numpy(dtype=np.int64), recorded))


def _absorb(session: Session, falls: pd.DataFrame, *, as_of: date) -> tuple[list[tuple[int, int, int]], np.ndarray]:
    """Confirmed payments not yet in the ERP, received by ``as_of``, that these falls show; and
    per fall row, the cents that belong to confirmed money rather than a new payment."""
    share = np.zeros(len(falls), dtype=np.int64)
    if falls.empty:
        return [], share
    totals = falls.groupby("customer_id")["cents"].sum()
    pending = session.execute(
        select(Payment.id, Payment.customer_id, Payment.amount)
        .where(
            Payment.source == "finance",
            Payment.batch_id.is_(None),
            Payment.received_on <= as_of,
            Payment.customer_id.in_([int(c) for c in totals.index]),
        )
        .order_by(Payment.received_on, Payment.id)
    ).all()
    if not pending:
        return [], share
    absorbed, taken = _take_pending(pending, totals)
    # Each customer's share goes to its falls in file order: first falls first.
    customers = falls["customer_id"].to_numpy(dtype=np.int64)
    cents = falls["cents"].to_numpy(dtype=np.int64)
    before = pd.Series(cents).groupby(customers).cumsum().to_numpy() - cents
    limit = pd.Series(customers).map(taken).fillna(0).to_numpy(dtype=np.int64)
    share = np.clip(limit - before, 0, cents)
    return absorbed, share


def _take_pending(
    pending: Sequence[Row[int, int, Decimal]], totals: pd.Series
) -> tuple[list[tuple[int, int, int]], dict[int, int]]:
    """Oldest first, whole payments while the customer's falls cover them; a remainder smaller
    than the next pending payment is taken as part of it (absorbed later, never recorded)."""
    left = {
        int(c): int(v)
        for c, v in zip(totals.index.to_numpy(dtype=np.int64), totals.to_numpy(dtype=np.int64), strict=True)
    }
    absorbed: list[tuple[int, int, int]] = []
    waiting: set[int] = set()
    for payment_id, customer_id, amount in pending:
        cents = int(amount.scaleb(2))
        if customer_id not in waiting and left[customer_id] >= cents:
            left[customer_id] -= cents
            absorbed.append((payment_id, customer_id, cents))
        else:
            waiting.add(customer_id)
    taken = {c: int(totals[c]) - (0 if c in waiting else left[c]) for c in left}
    return absorbed, taken


def _audit_netted(
    session: Session, paid: pd.DataFrame, per_customer: pd.DataFrame, *, batch_id: int, at: datetime, actor: str
) -> None:
    """Customers whose invoices moved but whose moves cancel out get no payment, so no payment
    event: their invoices' history goes in a ``payments.netted`` event instead."""
    netted = per_customer.loc[per_customer["cents"] == 0, "customer_id"]
    if netted.empty:
        return
    invoices = invoices_by_customer(paid[paid["customer_id"].isin(netted)])
    session.execute(
        insert(AuditEvent),
        [
            dict(
                at=at,
                actor=actor,
                action="payments.netted",
                entity_type="customer",
                entity_id=customer_id,
                customer_id=customer_id,
                data={"invoices": moved, "batch_id": batch_id},
            )
            for customer_id, moved in invoices.items()
        ],
    )


def _mark_absorbed(
    session: Session, absorbed: list[tuple[int, int, int]], *, batch_id: int, at: datetime, actor: str
) -> None:
    """A confirmed payment the ERP shows belongs to the snapshot from now on (``batch_id``)."""
    if not absorbed:
        return
    session.execute(update(Payment).where(Payment.id.in_([p for p, _c, _v in absorbed])).values(batch_id=batch_id))
    session.execute(
        insert(AuditEvent),
        [
            dict(
                at=at,
                actor=actor,
                action="payment.in_erp",
                entity_type="payment",
                entity_id=payment_id,
                customer_id=customer_id,
                data={"amount": str(from_cents(cents)), "batch_id": batch_id},
            )
            for payment_id, customer_id, cents in absorbed
        ],
    )
