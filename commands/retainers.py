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

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.accounts import ZERO, confirmed_unapplied
from commands.actor import Actor
from commands.context import AppContext
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


def requirements(session: Session, customer_id: int) -> list[RetainerRequirement]:
    return list(session.scalars(select(RetainerRequirement).where(
        RetainerRequirement.customer_id == customer_id).order_by(RetainerRequirement.engagement)))


def held(session: Session, customer_id: int, *, on: date | None = None) -> Decimal:
    """What the customer holds as retainer (module docstring). With ``on``: as the ledger shows
    that day: retainer invoices issued by then, closed ones only if closed by then, confirmed
    money received by then."""
    retainers = select(func.sum(Invoice.amount), func.sum(Invoice.open_balance)).where(
        Invoice.customer_id == customer_id, Invoice.kind == InvoiceKind.RETAINER, Invoice.amount > 0)
    if on is not None:
        retainers = retainers.where(func.coalesce(Invoice.issue_date, Invoice.due_date) <= on,
                                    (Invoice.closed_on.is_(None)) | (Invoice.closed_on <= on))
    billed, still_open = session.execute(retainers).one()
    billed, still_open = billed or ZERO, still_open or ZERO
    confirmed = confirmed_unapplied(session, customer_id) if on is None else _confirmed_by(session, customer_id, on)
    return (billed - still_open + min(confirmed, max(still_open, ZERO))).quantize(ZERO)


def _confirmed_by(session: Session, customer_id: int, on: date) -> Decimal:
    """Money finance confirmed, received by ``on``, that no import shows yet."""
    from commands.snapshots import awaiting_erp

    total = session.scalar(select(func.sum(Payment.amount)).where(
        Payment.customer_id == customer_id, awaiting_erp(), Payment.received_on <= on))
    return total if total is not None else ZERO


def standing(session: Session, customer_id: int) -> Standing | None:
    """The customer's retainer now, or None when it has no requirement."""
    rows = requirements(session, customer_id)
    if not rows:
        return None
    return Standing(required=sum((r.amount for r in rows), ZERO), held=held(session, customer_id),
                    engagements=tuple((r.engagement, r.amount) for r in rows))


def set_requirement(session: Session, ctx: AppContext, change: RetainerChange, actor: Actor) -> str:
    """Set, change or (amount zero) remove a requirement, with its audit event; returns
    "set", "changed", "removed" or "unchanged"."""
    return save_requirement(session, customer_id=change.customer.id, engagement=change.engagement,
                            amount=change.amount, actor=actor.email, at=ctx.clock.now())
