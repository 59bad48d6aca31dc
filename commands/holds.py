"""Placing and releasing holds on accounts: the ledger change, its audit event, and the
announcements to the channels that act on a hold (client services stops releasing work, sales
stops booking it).

Both the approval flow (a manager approves a hold or a release) and the payment flow (finance
confirms a payment on a held account) come through here, so a hold is announced the same way
whoever changes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from commands.accounts import ZERO, aging, confirmed_unapplied
from commands.context import AppContext
from commands.messages import Reply, Tone, Where
from commands.parsing.customers import describe
from commands.workflows.adjustment_ledger import approved_against_past_due
from storage.audit import record
from storage.models import (
    Customer,
    Dispute,
    DisputeStatus,
    Hold,
    HoldStatus,
    Invoice,
    InvoiceKind,
    Payment,
    TeamMember,
)
from storage.row_counts import rows_changed


def place_hold(
    session: Session,
    ctx: AppContext,
    *,
    customer: Customer,
    reason: str,
    actor_email: str,
    at: datetime,
    request_id: int | None = None,
    kind: str | None = None,
) -> tuple[Hold, list[Reply]]:
    """Put ``customer`` on hold of ``kind`` (the team's default kind when None) for ``reason``,
    approved by ``actor_email``; returns the hold and one announcement per channel of its kind.
    The past-due money it is for is kept with it, so a later payment releases it only when it
    clears that (:func:`clearing`)."""
    kind = kind or ctx.team.workflow.holds.default
    past_due = past_due_less_disputes(session, customer.id, as_of=ctx.today())
    hold = Hold(
        customer_id=customer.id,
        reason=reason,
        status=HoldStatus.ACTIVE,
        placed_by_id=_member_id(session, actor_email),
        placed_at=at,
        past_due_at_placement=past_due,
        request_id=request_id,
        kind=kind,
    )
    session.add(hold)
    session.flush()
    record(
        session,
        at=at,
        actor=actor_email,
        action="hold.placed",
        entity_type="hold",
        entity_id=hold.id,
        customer_id=customer.id,
        reason=reason,
        past_due=past_due,
        request_id=request_id,
        kind=kind,
    )
    text = (
        f"{_capital(hold_label(ctx, hold))} placed on {describe(customer)}: {reason}. "
        f"Approved by {_name(ctx, actor_email)}."
    )
    return hold, _announce(ctx, kind, f"Hold placed on {describe(customer)}", text, Tone.WARNING)


def release_hold(
    session: Session, ctx: AppContext, *, hold: Hold, actor_email: str, reason: str, at: datetime
) -> list[Reply]:
    """Release ``hold`` (a payment was confirmed, or leadership approved the release).

    The release is a conditional update on the hold still being active, so a payment
    confirmation and an approved release arriving together release it once and announce it
    once; the one that comes second gets no announcements back."""
    released = rows_changed(
        session,
        update(Hold)
        .where(Hold.id == hold.id, Hold.status == HoldStatus.ACTIVE)
        .values(
            status=HoldStatus.RELEASED,
            released_by_id=_member_id(session, actor_email),
            released_at=at,
            release_reason=reason,
        )
        .execution_options(synchronize_session=False),
    )
    if released == 0:
        return []
    session.refresh(hold)
    customer = session.get(Customer, hold.customer_id)
    record(
        session,
        at=at,
        actor=actor_email,
        action="hold.released",
        entity_type="hold",
        entity_id=hold.id,
        customer_id=hold.customer_id,
        reason=reason,
        hold_reason=hold.reason,
        kind=hold.kind,
    )
    name = describe(customer) if customer is not None else f"customer #{hold.customer_id}"
    text = f"{_capital(hold_label(ctx, hold))} released on {name}: {reason}. Released by {_name(ctx, actor_email)}."
    return _announce(ctx, hold.kind, f"Hold released on {name}", text, Tone.SUCCESS)


def past_due_less_disputes(session: Session, customer_id: int, *, as_of: date) -> Decimal:
    """Money past due on ``as_of`` (credits netted) less what is in open dispute and what was
    approved as credit or written off on it and not yet booked: what the customer has to pay for
    a hold to have done its job, or for a clearance to go through."""
    owed = aging(session, customer_id, as_of=as_of)
    disputed = (
        session.scalar(
            select(func.coalesce(func.sum(Dispute.amount), 0)).where(
                Dispute.customer_id == customer_id, Dispute.status == DisputeStatus.OPEN
            )
        )
        or 0
    )
    approved = approved_against_past_due(session, customer_id, as_of=as_of)
    return max(owed.total - owed.current - Decimal(disputed) - approved, ZERO)


@dataclass(frozen=True)
class Clearing:
    """How far payments have gone towards what a hold is for."""

    needed: Decimal
    paid: Decimal

    @property
    def cleared(self) -> bool:
        return self.paid >= self.needed

    @property
    def left(self) -> Decimal:
        return max(self.needed - self.paid, ZERO)


def clearing(session: Session, hold: Hold, *, today: date) -> Clearing:
    """Payments recorded since the hold was placed against the past-due money it was placed
    for. A hold from before that was recorded compares money finance confirmed since the last
    import with what is past due now (imported payments are already out of the balances)."""
    if hold.past_due_at_placement is None:
        return Clearing(
            past_due_less_disputes(session, hold.customer_id, as_of=today),
            confirmed_unapplied(session, hold.customer_id),
        )
    paid = (
        session.scalar(
            select(func.coalesce(func.sum(Payment.amount), 0)).where(
                Payment.customer_id == hold.customer_id, Payment.created_at >= hold.placed_at
            )
        )
        or 0
    )
    return Clearing(hold.past_due_at_placement, Decimal(paid))


def active_holds(session: Session, customer_id: int) -> list[Hold]:
    """The customer's holds still in force, oldest first."""
    return list(
        session.scalars(
            select(Hold)
            .where(Hold.customer_id == customer_id, Hold.status == HoldStatus.ACTIVE)
            .order_by(Hold.placed_at, Hold.id)
        )
    )


def hold_label(ctx: AppContext, hold: Hold) -> str:
    """``scheduling hold``: the hold's kind as people say it."""
    return f"{ctx.team.workflow.holds.label(hold.kind)} hold"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def unapplied_credits(session: Session, customer_id: int) -> list[tuple[str, Decimal]]:
    """Open credit memos and unapplied payments on the account (number, amount as a positive
    sum): money the customer already has with us, which may pay what a hold would be placed for."""
    rows = session.execute(
        select(Invoice.number, Invoice.open_balance)
        .where(
            Invoice.customer_id == customer_id,
            Invoice.closed_on.is_(None),
            Invoice.open_balance < 0,
            Invoice.kind.in_((InvoiceKind.CREDIT_MEMO, InvoiceKind.UNAPPLIED_PAYMENT)),
        )
        .order_by(Invoice.due_date, Invoice.number)
    )
    return [(number, -Decimal(amount)) for number, amount in rows]


def _announce(ctx: AppContext, kind: str, title: str, text: str, tone: Tone) -> list[Reply]:
    channels = ctx.team.workflow.hold_channels(kind)
    return [Reply(title=title, text=text, tone=tone, where=Where(channel)) for channel in channels]


def _member_id(session: Session, email: str) -> int | None:
    """The team member behind an email; None for a system actor (``system:<job>``)."""
    return session.scalar(select(TeamMember.id).where(TeamMember.email == email.strip().lower()))


def _name(ctx: AppContext, email: str) -> str:
    member = ctx.team.member(email)
    return member.name if member is not None else email
