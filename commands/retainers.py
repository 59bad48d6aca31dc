"""Retainers: how much a customer must hold before its work is released, and how much it holds.

A requirement is set per customer, or per engagement of a customer (``retainer acme 5000
"spring campaign"``, or a "Retainer Required" import column); a customer's requirement is the
sum of its engagements'. What it holds is read from the ledger, never stored:

    held = what is paid on its retainer invoices (each one's amount less its open balance;
           one an import showed closed counts in full)
         + money finance confirmed that no import shows yet, up to what its retainer invoices
           still have open

The shortfall is the requirement less what is held (never below zero). An aging export does not
show a retainer being drawn down, so nothing is subtracted for that: a team that draws retainers
down bills the top-up as a new retainer invoice and raises the requirement by as much."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.accounts import ZERO, RetainerFigures
from commands.actor import Actor
from commands.context import AppContext
from commands.snapshots import awaiting_erp
from storage.models import WHOLE_ACCOUNT, Customer, Invoice, InvoiceKind, Payment, RetainerRequirement
from storage.retainers import save_requirement

MAX_ENGAGEMENT = 100  # retainer_requirements.engagement
# Setting what gates a release is a manager's call: collectors ask, they do not move the gate.
WHO_MAY_SET = frozenset({"manager", "controller", "vp_finance", "finance_lead", "admin"})


@dataclass(frozen=True)
class Standing:
    """A customer's retainer: what is required (per engagement and in all) and what is held."""

    required: Decimal
    held: Decimal
    engagements: tuple[tuple[str, Decimal], ...]  # (label, amount); "" is the whole account

    @property
    def shortfall(self) -> Decimal:
        return max(self.required - self.held, ZERO)

    @property
    def short(self) -> bool:
        return self.shortfall > 0


@dataclass(frozen=True)
class RetainerChange:
    customer: Customer
    amount: Decimal  # zero removes the requirement
    engagement: str = WHOLE_ACCOUNT


def standings(
    session: Session,
    customer_ids: Collection[int] | None = None,
    *,
    on: date | None = None,
    set_before: datetime | None = None,
) -> dict[int, Standing]:
    """Customer id -> its retainer, for every customer with a requirement (of ``customer_ids``,
    if given; set before ``set_before``, if given), in three queries whatever their number.
    With ``on``: held as the ledger shows that day: retainer invoices issued by then, closed ones
    only if closed by then, confirmed money received by then."""
    required = select(RetainerRequirement.customer_id, RetainerRequirement.engagement, RetainerRequirement.amount)
    if set_before is not None:
        required = required.where(RetainerRequirement.set_at < set_before)
    scope = select(RetainerRequirement.customer_id) if customer_ids is None else list(customer_ids)
    rows: dict[int, list[tuple[str, Decimal]]] = {}
    for customer_id, engagement, amount in session.execute(
        required.where(RetainerRequirement.customer_id.in_(scope)).order_by(
            RetainerRequirement.customer_id, RetainerRequirement.engagement
        )
    ):
        rows.setdefault(customer_id, []).append((engagement, amount))
    billed = _retainer_invoices(session, scope, on)
    confirmed = _confirmed(session, scope, on)
    found = {}
    for customer_id, engagements in rows.items():
        amount, still_open = billed.get(customer_id, (ZERO, ZERO))
        found[customer_id] = Standing(
            required=sum((a for _, a in engagements), ZERO),
            held=held(amount, still_open, confirmed.get(customer_id, ZERO)),
            engagements=tuple(engagements),
        )
    return found


def _retainer_invoices(session: Session, scope: Any, on: date | None) -> dict[int, tuple[Decimal, Decimal]]:
    """Customer id -> (amounts billed, still open) of its retainer invoices."""
    query = (
        select(Invoice.customer_id, func.sum(Invoice.amount), func.sum(Invoice.open_balance))
        .where(Invoice.customer_id.in_(scope), Invoice.kind == InvoiceKind.RETAINER, Invoice.amount > 0)
        .group_by(Invoice.customer_id)
    )
    if on is not None:
        query = query.where(
            func.coalesce(Invoice.issue_date, Invoice.due_date) <= on,
            (Invoice.closed_on.is_(None)) | (Invoice.closed_on <= on),
        )
    return {
        customer_id: (amount or ZERO, still_open or ZERO) for customer_id, amount, still_open in session.execute(query)
    }


def _confirmed(session: Session, scope: Any, on: date | None) -> dict[int, Decimal]:
    """Customer id -> money finance confirmed (received by ``on``) that no import shows yet."""
    query = (
        select(Payment.customer_id, func.sum(Payment.amount))
        .where(Payment.customer_id.in_(scope), awaiting_erp())
        .group_by(Payment.customer_id)
    )
    if on is not None:
        query = query.where(Payment.received_on <= on)
    return {customer_id: total or ZERO for customer_id, total in session.execute(query)}


def standing_of(figures: RetainerFigures) -> Standing:
    """The standing from the figures the account card read in its one row of figures
    (commands.account_reads), by the same rule as :func:`standings`."""
    return Standing(
        required=figures.required, held=held(figures.billed, figures.still_open, figures.confirmed), engagements=()
    )


def held(billed: Decimal, still_open: Decimal, confirmed: Decimal) -> Decimal:
    """What a retainer holds: its invoices' amounts less what is still open on them, plus money
    finance confirmed against what is open (no more than that: the rest is not the retainer's)."""
    return (billed - still_open + min(confirmed, max(still_open, ZERO))).quantize(ZERO)


def standing(session: Session, customer_id: int) -> Standing | None:
    """The customer's retainer now, or None when it has no requirement."""
    return standings(session, [customer_id]).get(customer_id)


def set_requirement(session: Session, ctx: AppContext, change: RetainerChange, actor: Actor) -> str:
    """Set, change or (amount zero) remove a requirement, with its audit event; returns
    "set", "changed", "removed" or "unchanged"."""
    return save_requirement(
        session,
        customer_id=change.customer.id,
        engagement=change.engagement,
        amount=change.amount,
        actor=actor.email,
        at=ctx.clock.now(),
    )
