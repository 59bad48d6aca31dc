"""A tracked card drawn from the database as it stands now, from the key it was posted under
("approval:12", "confirmation:7", "adjustment:4", "clearance:3"): pending with its buttons, or
decided with who, when and why in their place.

An adapter draws a card from here whenever it shows it again (a Teams refresh, a redraw after a
restart), so every replica shows the truth instead of a copy it happens to remember. Each card
comes from its workflow's own builder, so a redrawn card is the card the workflow posts when the
request opens and puts in place when it is decided."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.member_names import member_name
from commands.messages import Reply
from commands.workflows.adjustment_card import task_card, task_id_of
from commands.workflows.adjustments import task_facts
from commands.workflows.approval_card import decided_card, pending_card
from commands.workflows.approvals import card_facts as approval_facts
from commands.workflows.approvals import request_id_of
from commands.workflows.clearance import card_facts as clearance_facts
from commands.workflows.clearance_card import clearance_card, clearance_id_of
from commands.workflows.payment_card import confirmation_id_of, payment_card
from commands.workflows.payments import card_facts
from storage.models import (
    AdjustmentTask,
    ApprovalRequest,
    ApprovalStatus,
    AuditEvent,
    ClearanceRequest,
    Customer,
    PaymentConfirmation,
    PostedMessage,
)

# Ids above this are in no table (integer keys on both databases); asking PostgreSQL for one
# would raise instead of finding nothing.
_LARGEST_ID = 2**31 - 1


def current_card(session: Session, ctx: AppContext, key: str) -> Reply | None:
    """The card tracked under ``key`` as its workflow draws it now. None for a key no workflow
    draws a card for (a dispute's note has no buttons that could go stale) and for a request
    that is not in the database. The reply says nothing about where it goes: the caller knows
    which message it redraws."""
    request_id = request_id_of(key)
    if request_id is not None:
        return _approval_card(session, ctx, request_id) if request_id <= _LARGEST_ID else None
    confirmation_id = confirmation_id_of(key)
    if confirmation_id is not None:
        return _payment_card(session, ctx, confirmation_id) if confirmation_id <= _LARGEST_ID else None
    task_id = task_id_of(key)
    if task_id is not None:
        task = session.get(AdjustmentTask, task_id) if task_id <= _LARGEST_ID else None
        return task_card(ctx, task_facts(session, task)) if task is not None else None
    clearance_id = clearance_id_of(key)
    if clearance_id is not None:
        clearance = session.get(ClearanceRequest, clearance_id) if clearance_id <= _LARGEST_ID else None
        return clearance_card(ctx, clearance_facts(session, ctx, clearance)) if clearance is not None else None
    return None


def current_card_for_message(session: Session, ctx: AppContext, message_id: str) -> Reply | None:
    """The card a posted message shows, drawn now; None when the message is not a tracked card.
    Message ids are unique per platform conversation, not across all of them, so an id tracked
    under two keys draws nothing rather than possibly the wrong card."""
    keys = session.scalars(select(PostedMessage.key).where(PostedMessage.message_id == message_id).limit(2)).all()
    return current_card(session, ctx, keys[0]) if len(keys) == 1 else None


def _approval_card(session: Session, ctx: AppContext, request_id: int) -> Reply | None:
    request = session.get(ApprovalRequest, request_id)
    if request is None:
        return None
    customer = session.get_one(Customer, request.customer_id)
    facts = approval_facts(session, ctx, request, customer)
    if request.status is ApprovalStatus.PENDING:
        return pending_card(ctx, request, facts)
    return decided_card(
        ctx,
        request,
        facts,
        decider=member_name(session, request.decided_by_id),
        outcome=_approval_outcome(session, request),
    )


def _approval_outcome(session: Session, request: ApprovalRequest) -> str:
    """What the decision did ("Hold placed; #sales told."), as the decision's audit event
    recorded it: the ledger has moved on since, the sentence has not."""
    data = session.scalar(
        select(AuditEvent.data)
        .where(
            AuditEvent.entity_type == "approval_request",
            AuditEvent.entity_id == request.id,
            AuditEvent.action == f"approval.{request.status.value}",
        )
        .order_by(AuditEvent.id)
        .limit(1)
    )
    outcome = (data or {}).get("outcome")
    return outcome if isinstance(outcome, str) else ""


def _payment_card(session: Session, ctx: AppContext, confirmation_id: int) -> Reply | None:
    confirmation = session.get(PaymentConfirmation, confirmation_id)
    if confirmation is None:
        return None
    return payment_card(card_facts(session, ctx, confirmation), ctx)
