"""Placing and releasing holds on accounts: the ledger change, its audit event, and the
announcements to the channels that act on a hold (client services stops releasing work, sales
stops booking it).

Both the approval flow (a manager approves a hold or a release) and the payment flow (finance
confirms a payment on a held account) come through here, so a hold is announced the same way
whoever changes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.messages import Reply, Tone, Where
from commands.parsing.customers import describe
from storage.audit import record
from storage.models import Customer, Hold, HoldStatus, TeamMember


def place_hold(session: Session, ctx: AppContext, *, customer: Customer, reason: str,
               actor_email: str, at: datetime) -> tuple[Hold, list[Reply]]:
    """Put ``customer`` on hold for ``reason``, approved by ``actor_email``; returns the hold and
    one announcement per hold channel."""
    hold = Hold(customer_id=customer.id, reason=reason, status=HoldStatus.ACTIVE,
                placed_by_id=_member_id(session, actor_email), placed_at=at)
    session.add(hold)
    session.flush()
    record(session, at=at, actor=actor_email, action="hold.placed", entity_type="hold",
           entity_id=hold.id, customer_id=customer.id, reason=reason)
    text = f"Hold placed on {describe(customer)}: {reason}. Approved by {_name(ctx, actor_email)}."
    return hold, _announce(ctx, f"Hold placed on {describe(customer)}", text, Tone.WARNING)


def release_hold(session: Session, ctx: AppContext, *, hold: Hold, actor_email: str, reason: str,
                 at: datetime) -> list[Reply]:
    """Release ``hold`` (a payment was confirmed, or leadership approved the release).

    The release is a conditional update on the hold still being active, so a payment
    confirmation and an approved release arriving together release it once and announce it
    once; the one that comes second gets no announcements back."""
    released = session.execute(
        update(Hold)
        .where(Hold.id == hold.id, Hold.status == HoldStatus.ACTIVE)
        .values(status=HoldStatus.RELEASED, released_by_id=_member_id(session, actor_email),
                released_at=at, release_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if released.rowcount == 0:
        return []
    session.refresh(hold)
    customer = session.get(Customer, hold.customer_id)
    record(session, at=at, actor=actor_email, action="hold.released", entity_type="hold",
           entity_id=hold.id, customer_id=hold.customer_id, reason=reason, hold_reason=hold.reason)
    name = describe(customer) if customer is not None else f"customer #{hold.customer_id}"
    text = f"Hold released on {name}: {reason}. Released by {_name(ctx, actor_email)}."
    return _announce(ctx, f"Hold released on {name}", text, Tone.SUCCESS)


def active_holds(session: Session, customer_id: int) -> list[Hold]:
    """The customer's holds still in force, oldest first."""
    return list(session.scalars(
        select(Hold).where(Hold.customer_id == customer_id, Hold.status == HoldStatus.ACTIVE)
        .order_by(Hold.placed_at, Hold.id)
    ))


def _announce(ctx: AppContext, title: str, text: str, tone: Tone) -> list[Reply]:
    channels = ctx.team.workflow.channels.hold_announcements
    return [Reply(title=title, text=text, tone=tone, where=Where(channel)) for channel in channels]


def _member_id(session: Session, email: str) -> int | None:
    """The team member behind an email; None for a system actor (``system:<job>``)."""
    return session.scalar(select(TeamMember.id).where(TeamMember.email == email.strip().lower()))


def _name(ctx: AppContext, email: str) -> str:
    member = ctx.team.member(email)
    return member.name if member is not None else email
