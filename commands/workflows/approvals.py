"""Approval requests: holds, hold releases, fee waivers, payment plans, credit memos and
write-offs wait in the approvals channel for someone the team file allows to decide them.

Opening a request posts one card with the whole context. A decision is taken with a conditional
UPDATE on the request still being pending, so a double click, a stale card or two approvers at
once change it exactly once; whoever comes second is told who decided, and nothing else happens.
The approved effect (hold placed or released, fee waived, plan created, credit memo or write-off
handed to finance as a task) is applied in the same transaction as the decision. Refused attempts
are answered with an error reply rather than a :class:`Refusal`, so their audit event commits
instead of being rolled back with the message."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commands import messages
from commands.accounts import account_summary
from commands.actor import Actor
from commands.context import AppContext
from commands.holds import active_holds, hold_label, place_hold, release_hold, unapplied_credits
from commands.messages import Reply, Tone, Where
from commands.parsing.dates import format_day
from commands.refusal import Refusal
from commands.retainers import standing
from commands.wording import local_moment, money
from commands.workflows import adjustments, retainer_gate
from commands.workflows.account_record import account_record
from commands.workflows.approval_card import (
    HOLD_KIND,
    CardFacts,
    asked_amount,
    credits_warning,
    decided_card,
    decision_line,
    pending_card,
    subject,
)
from commands.workflows.plans import create_plan, from_details
from storage.audit import record
from storage.models import ApprovalKind, ApprovalRequest, ApprovalStatus, Customer, FeeWaiver, TeamMember
from storage.row_counts import rows_changed

# Collectors ask; so do managers and up. Finance sees payments land, so it may ask about holds.
REQUESTER_ROLES = frozenset({"collector", "manager", "controller", "vp_finance"})
HOLD_REQUESTER_ROLES = REQUESTER_ROLES | {"finance", "finance_lead"}
_HOLD_KINDS = (ApprovalKind.HOLD, ApprovalKind.RELEASE)
TIMER_ACTOR = "system:approval_timers"
KEY_PREFIX = "approval:"


def track_key(request_id: int) -> str:
    """How the card is tracked (``approval:12``), so it can be updated and its thread found."""
    return f"{KEY_PREFIX}{request_id}"


def request_id_of(key: str | None) -> int | None:
    """The request id in a tracked key, or None when the key is not an approval card's."""
    if key is None or not key.startswith(KEY_PREFIX) or not key[len(KEY_PREFIX) :].isdigit():
        return None
    return int(key[len(KEY_PREFIX) :])


def may_request(roles: frozenset[str], kind: ApprovalKind) -> bool:
    allowed = HOLD_REQUESTER_ROLES if kind in _HOLD_KINDS else REQUESTER_ROLES
    return bool(roles & allowed)


def pending_request(session: Session, *, customer_id: int, kind: ApprovalKind) -> ApprovalRequest | None:
    """A request of this kind for this customer still waiting, so it is not asked twice."""
    return session.scalar(
        select(ApprovalRequest)
        .where(
            ApprovalRequest.customer_id == customer_id,
            ApprovalRequest.kind == kind,
            ApprovalRequest.status == ApprovalStatus.PENDING,
        )
        .order_by(ApprovalRequest.id)
    )


def open_request(
    session: Session,
    ctx: AppContext,
    *,
    actor: Actor,
    kind: ApprovalKind,
    customer: Customer,
    reason: str,
    amount: Decimal | None = None,
    details: dict[str, Any] | None = None,
) -> list[Reply]:
    """Record the request, post its card to the approvals channel and tell the requester."""
    now = ctx.clock.now()
    what = subject(kind, customer)
    if not may_request(actor.member.roles, kind):
        record(
            session,
            at=now,
            actor=actor.email,
            action="approval.request_refused",
            entity_type="approval_request",
            customer_id=customer.id,
            kind=kind.value,
            amount=amount,
            roles=sorted(actor.member.roles),
        )
        who = "collectors, finance, managers" if kind in _HOLD_KINDS else "collectors, managers"
        return [
            messages.error(
                f"You can't ask for a {what}",
                f"Requests come from {who}, controllers or the VP finance. Nothing was saved.",
            )
        ]
    request = ApprovalRequest(
        kind=kind,
        customer_id=customer.id,
        requested_by_id=actor.member_id,
        amount=amount,
        reason=reason,
        details=details or {},
        status=ApprovalStatus.PENDING,
        created_at=now,
    )
    session.add(request)
    session.flush()
    record(
        session,
        at=now,
        actor=actor.email,
        action="approval.requested",
        entity_type="approval_request",
        entity_id=request.id,
        customer_id=customer.id,
        kind=kind.value,
        amount=amount,
        reason=reason,
        details=request.details,
    )
    channel = ctx.team.workflow.channels.approvals
    facts = card_facts(session, ctx, request, customer)
    card = pending_card(ctx, request, facts)
    warning = credits_warning(customer, facts.unapplied_credits)
    ack = Reply(
        title=f"Approval requested: {what} (request #{request.id})",
        text=(
            f"Posted in #{channel} for {ctx.team.workflow.who_may_approve(kind.value, amount)}. "
            "I'll tell you here when it is decided." + (f"\n{warning}" if warning else "")
        ),
        tone=Tone.SUCCESS,
    )
    return [replace(card, where=Where(channel), track=track_key(request.id)), ack]


def decide(
    session: Session, ctx: AppContext, *, request_id: int, actor: Actor, approve: bool, reason: str | None
) -> list[Reply] | Refusal:
    """Approve or reject request ``request_id`` as ``actor``: exactly once, by someone allowed."""
    request = session.get(ApprovalRequest, request_id)
    if request is None:
        return Refusal(f"there is no approval request #{request_id}")
    if request.status is not ApprovalStatus.PENDING:
        return [_already_decided(session, ctx, request)]
    refused = _refuse_decider(session, ctx, request, actor, approve)
    if refused is not None:
        return [refused]
    if not approve and not reason:
        return Refusal("say why you reject it, so the requester knows: reject because <reason>")
    gate = _retainer_gate(session, ctx, request, actor, reason) if approve else retainer_gate.Passed(None)
    if isinstance(gate, Reply):
        return [gate]
    now = ctx.clock.now()
    status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    won = rows_changed(
        session,
        update(ApprovalRequest)
        .where(ApprovalRequest.id == request.id, ApprovalRequest.status == ApprovalStatus.PENDING)
        .values(status=status, decided_by_id=actor.member_id, decided_at=now, decision_reason=reason)
        .execution_options(synchronize_session=False),
    )
    session.refresh(request)
    if not won:
        return [_already_decided(session, ctx, request)]
    customer = session.get_one(Customer, request.customer_id)
    effects, outcome = _apply(session, ctx, request, customer, approver=actor, at=now) if approve else ([], "")
    retainer_gate.record_override(
        session, ctx, gate, customer=customer, actor=actor, entity_type="approval_request", entity_id=request.id
    )
    outcome = " ".join(p for p in (gate.line(customer, actor.member.name), outcome) if p)
    record(
        session,
        at=now,
        actor=actor.email,
        action=f"approval.{status.value}",
        entity_type="approval_request",
        entity_id=request.id,
        customer_id=customer.id,
        kind=request.kind.value,
        amount=request.amount,
        reason=reason,
        outcome=outcome,
    )
    ack = Reply(
        title=_headline(request, customer),
        tone=Tone.SUCCESS,
        text="\n".join(p for p in (decision_line(ctx, request, actor.member.name), outcome) if p),
    )
    return tell_everyone(session, ctx, request, customer, actor.member.name, outcome) + effects + [ack]


def _apply(
    session: Session, ctx: AppContext, request: ApprovalRequest, customer: Customer, *, approver: Actor, at: datetime
) -> tuple[list[Reply], str]:
    """The approved change itself (with its own audit event), and one sentence saying what
    happened. A hold already in place, or already released by a confirmed payment, is said so
    rather than placed or released twice."""
    if request.kind is ApprovalKind.HOLD:
        held = active_holds(session, customer.id)
        if held:
            since = local_moment(ctx, held[0].placed_at)
            return [], f"{customer.name} was already on hold since {since}; no second hold was placed."
        hold, announced = place_hold(
            session,
            ctx,
            customer=customer,
            reason=request.reason,
            actor_email=approver.email,
            at=at,
            request_id=request.id,
            kind=request.details.get(HOLD_KIND),
        )
        return announced, f"{_capital(hold_label(ctx, hold))} placed; {_told(ctx, hold.kind)} told."
    if request.kind is ApprovalKind.RELEASE:
        holds = active_holds(session, customer.id)
        announced = [
            reply
            for hold in holds
            for reply in release_hold(
                session, ctx, hold=hold, actor_email=approver.email, reason=request.reason or "release approved", at=at
            )
        ]
        return (
            (announced, f"Hold released; {_told(ctx, holds[0].kind)} told.")
            if announced
            else ([], "There was no active hold left to release.")
        )
    amount = asked_amount(request)
    if request.kind is ApprovalKind.WAIVER:
        fee = str(request.details["fee"])
        waiver = FeeWaiver(
            customer_id=customer.id,
            request_id=request.id,
            fee=fee,
            amount=amount,
            approved_by_id=approver.member_id,
            created_at=at,
        )
        session.add(waiver)
        session.flush()
        record(
            session,
            at=at,
            actor=approver.email,
            action="fee_waiver.created",
            entity_type="fee_waiver",
            entity_id=waiver.id,
            customer_id=customer.id,
            fee=fee,
            amount=amount,
            request_id=request.id,
        )
        return [], f"Waived {fee} of {money(customer, amount)}."
    if request.kind in (ApprovalKind.CREDIT, ApprovalKind.WRITEOFF):
        return adjustments.open_task(session, ctx, request, customer, approver=approver, at=at)
    instalments = from_details(request.details["schedule"])
    plan = create_plan(
        session,
        customer_id=customer.id,
        total=amount,
        cadence=request.details["cadence"],
        instalments=instalments,
        approved_by_id=approver.member_id,
        actor=approver.email,
        at=at,
    )
    return [], (
        f"Plan #{plan.id} created: {len(instalments)} instalments, first due "
        f"{format_day(instalments[0].due)}, last {format_day(instalments[-1].due)}."
    )


def _retainer_gate(
    session: Session, ctx: AppContext, request: ApprovalRequest, actor: Actor, reason: str | None
) -> retainer_gate.Passed | Reply:
    """A hold release waits for the retainer (:mod:`commands.workflows.retainer_gate`); a refused
    approval is audited like any other refused decision."""
    if request.kind is not ApprovalKind.RELEASE:
        return retainer_gate.Passed(None)
    customer = session.get_one(Customer, request.customer_id)
    gate = retainer_gate.check(session, customer, reason=reason, what="release", typed="approve override <reason>")
    if isinstance(gate, Reply):
        record(
            session,
            at=ctx.clock.now(),
            actor=actor.email,
            action="approval.refused",
            entity_type="approval_request",
            entity_id=request.id,
            customer_id=customer.id,
            why="retainer_short",
            decision="approve",
            kind=request.kind.value,
            amount=request.amount,
            roles=sorted(actor.member.roles),
        )
    return gate


def _told(ctx: AppContext, kind: str) -> str:
    return " and ".join(f"#{c}" for c in ctx.team.workflow.hold_channels(kind)) or "nobody"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def tell_everyone(
    session: Session, ctx: AppContext, request: ApprovalRequest, customer: Customer, decider: str | None, outcome: str
) -> list[Reply]:
    """The card redrawn in place, and the requester told in its thread and directly."""
    requester = session.get_one(TeamMember, request.requested_by_id)
    text = f"For {requester.name}: {decision_line(ctx, request, decider)}"
    note = Reply(
        title=_headline(request, customer),
        text="\n".join(p for p in (text, outcome) if p),
        tone=Tone.SUCCESS if request.status is ApprovalStatus.APPROVED else Tone.WARNING,
    )
    card = decided_card(ctx, request, card_facts(session, ctx, request, customer), decider=decider, outcome=outcome)
    key = track_key(request.id)
    return [
        replace(card, replaces=key),
        replace(note, thread_of=key, mentions=(requester.email,)),
        replace(note, to_user=requester.email),
    ]


def approvers(session: Session, ctx: AppContext, request: ApprovalRequest) -> tuple[str, ...]:
    """The team members who may decide ``request`` (not its requester): the people to mention."""
    requester = session.get_one(TeamMember, request.requested_by_id)
    return tuple(
        m.email
        for m in ctx.team.members
        if m.email != requester.email and ctx.team.workflow.may_approve(m.roles, request.kind.value, request.amount)
    )


def _headline(request: ApprovalRequest, customer: Customer) -> str:
    """``Approved: hold on Acme Dental Group (request #12)``."""
    return f"{request.status.value.capitalize()}: {subject(request.kind, customer)} (request #{request.id})"


def _refuse_decider(
    session: Session, ctx: AppContext, request: ApprovalRequest, actor: Actor, approve: bool
) -> Reply | None:
    """Why ``actor`` may not decide this request (audited), or None when they may."""
    flow, kind, amount = ctx.team.workflow, request.kind.value, request.amount
    customer = session.get_one(Customer, request.customer_id)
    what = subject(request.kind, customer)
    who = flow.who_may_approve(kind, amount)
    people = _approvers(ctx, request, exclude=actor.email)
    named = f" ({people})" if people else ""
    if request.requested_by_id == actor.member_id:
        code, title = "self_approval", f"You asked for this {what} yourself"
        text = f"Someone else has to decide it: {who}{named}."
    elif flow.may_approve(actor.member.roles, kind, amount):
        return None
    elif amount is not None and any(rule.roles & actor.member.roles for rule in flow.approver_rules(kind)):
        # Over a limit: a rule names one of the actor's roles yet does not cover the amount.
        code, title = "over_limit", f"{money(customer, amount)} is over your approval limit for a {kind}"
        text = f"This {what} needs {who}{named}."
    else:
        code, title = "wrong_role", f"You can't decide a {what}"
        text = f"That takes {who}{named}."
    record(
        session,
        at=ctx.clock.now(),
        actor=actor.email,
        action="approval.refused",
        entity_type="approval_request",
        entity_id=request.id,
        customer_id=customer.id,
        why=code,
        decision="approve" if approve else "reject",
        kind=kind,
        amount=amount,
        roles=sorted(actor.member.roles),
    )
    return messages.error(title, f"{text} Nothing was changed.")


def _approvers(ctx: AppContext, request: ApprovalRequest, *, exclude: str) -> str:
    """Names of the people who could decide it, so the refused person knows whom to ask."""
    flow = ctx.team.workflow
    names = [
        m.name
        for m in ctx.team.members
        if m.email != exclude and flow.may_approve(m.roles, request.kind.value, request.amount)
    ]
    return ", ".join(names)


def _already_decided(session: Session, ctx: AppContext, request: ApprovalRequest) -> Reply:
    decider = session.get_one(TeamMember, request.decided_by_id) if request.decided_by_id else None
    line = decision_line(ctx, request, decider.name if decider else None)
    return Reply(
        title=f"Request #{request.id} is no longer waiting",
        text=f"{line}\nNothing was changed.",
        tone=Tone.WARNING,
        private=True,
    )


def card_facts(session: Session, ctx: AppContext, request: ApprovalRequest, customer: Customer) -> CardFacts:
    requester = session.get_one(TeamMember, request.requested_by_id)
    collector = session.get_one(TeamMember, customer.collector_id) if customer.collector_id else None
    record_fields = (
        account_record(session, customer, today=ctx.today())
        if request.kind in (ApprovalKind.CREDIT, ApprovalKind.WRITEOFF)
        else ()
    )
    credits = unapplied_credits(session, customer.id) if request.kind is ApprovalKind.HOLD else []
    retainer = standing(session, customer.id) if request.kind is ApprovalKind.RELEASE else None
    short = (
        (f'{_capital(retainer_gate.short_line(customer, retainer))}: approving it takes "approve override <reason>".')
        if retainer is not None and retainer.short
        else ""
    )
    return CardFacts(
        summary=account_summary(session, customer, as_of=ctx.today()),
        requester=requester.name,
        collector=collector.name if collector else None,
        record=record_fields,
        unapplied_credits=tuple(credits),
        retainer=short,
    )
