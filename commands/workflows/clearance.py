"""Clearance requests: client services asks whether an account may go ahead ("clear Acme Ortho for
scheduling on Dec 1"). When nothing is past due and no hold of a blocking kind is on, the answer
is yes at once. Otherwise the account's collector gets a card with the account's state (past-due
money, holds, promises) and decides Clear or Refuse; the asker is told in a direct message. A
request nobody decides is reminded in the card's thread and then escalated to the managers, as
payment confirmations are; ``--urgent`` (a same-day need) uses the shorter urgent hours.

A decision is taken with a conditional UPDATE on the request still pending, so a double click or
the collector and a manager at once decide it exactly once. Refused attempts (wrong person, own
request) are answered with an error reply rather than a Refusal, so their audit event commits."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from commands import messages
from commands.accounts import account_summary, confirmed_unapplied
from commands.actor import Actor
from commands.approval_rules import role_names
from commands.context import AppContext
from commands.holds import active_holds, hold_label, past_due_less_disputes
from commands.member_names import member_name, named
from commands.messages import Reply, Tone, Where
from commands.parsing.customers import describe
from commands.refusal import Refusal
from commands.retainers import standing
from commands.wording import money
from commands.workflows import retainer_gate
from commands.workflows.clearance_card import CardFacts, asked, card_key, clearance_card, decision_line
from storage.audit import record
from storage.models import ClearanceRequest, ClearanceStatus, Customer, TeamMember
from storage.row_counts import rows_changed

ASKER_ROLES = frozenset({"client_services", "collector", "manager", "controller", "vp_finance"})
MANAGER_ROLES = frozenset({"manager", "controller", "vp_finance"})  # may decide any account's request
PENDING = ClearanceStatus.PENDING
TIMER_ACTOR = "system:clearance_timers"


@dataclass(frozen=True)
class ClearanceAsk:
    """What client services typed: may this account go ahead with ``what`` (on ``needed_on``)?"""

    customer: Customer
    what: str
    needed_on: date | None
    urgent: bool


def blockers(session: Session, ctx: AppContext, customer: Customer) -> list[str]:
    """What stands in the way, in words for the collector's card: money past due (less what is
    disputed and what finance confirmed since the last import) and holds of a blocking kind."""
    found = []
    past_due = past_due_less_disputes(session, customer.id, as_of=ctx.today()) - confirmed_unapplied(
        session, customer.id
    )
    if past_due > 0:
        found.append(f"{money(customer, past_due)} past due")
    kinds = ctx.team.workflow.holds
    found += [
        f"{hold_label(ctx, hold)}: {hold.reason}"
        for hold in active_holds(session, customer.id)
        if kinds.blocks_clearance(hold.kind)
    ]
    retainer = standing(session, customer.id)
    if retainer is not None and retainer.short:
        found.append(retainer_gate.short_line(customer, retainer))
    return found


def request_clearance(session: Session, ctx: AppContext, *, ask: ClearanceAsk, actor: Actor) -> list[Reply] | Refusal:
    """Answer at once, or route to the account's collector; the same request twice is refused
    (with ``--urgent`` it makes the waiting one urgent instead)."""
    customer, now = ask.customer, ctx.clock.now()
    if not actor.member.roles & ASKER_ROLES:
        record(
            session,
            at=now,
            actor=actor.email,
            action="clearance.request_refused",
            entity_type="clearance_request",
            customer_id=customer.id,
            what=ask.what,
            roles=sorted(actor.member.roles),
        )
        return [
            messages.error(
                "You can't ask for a clearance",
                f"Clearance requests come from {role_names(ASKER_ROLES)}. Nothing was saved.",
            )
        ]
    twin = session.scalar(
        select(ClearanceRequest)
        .where(
            ClearanceRequest.customer_id == customer.id,
            ClearanceRequest.status == PENDING,
            func.lower(ClearanceRequest.what) == ask.what.lower(),
        )
        .order_by(ClearanceRequest.id)
    )
    if twin is not None:
        if ask.urgent and not twin.urgent:
            return _make_urgent(session, ctx, twin, customer, actor)
        return Refusal(
            f"clearing {describe(customer)} for {twin.what} is already asked (request #{twin.id}); "
            "you will be told when it is decided"
        )
    found = blockers(session, ctx, customer)
    clearance = ClearanceRequest(
        customer_id=customer.id,
        requested_by_id=actor.member_id,
        what=ask.what,
        needed_on=ask.needed_on,
        urgent=ask.urgent,
        status=PENDING if found else ClearanceStatus.CLEARED,
        blockers=found,
        created_at=now,
        decided_at=None if found else now,
        decision_reason=None if found else "nothing past due and no hold",
    )
    session.add(clearance)
    session.flush()
    record(
        session,
        at=now,
        actor=actor.email,
        action="clearance.requested",
        entity_type="clearance_request",
        entity_id=clearance.id,
        customer_id=customer.id,
        what=ask.what,
        needed_on=ask.needed_on,
        urgent=ask.urgent,
        blockers=found,
    )
    if not found:
        record(
            session,
            at=now,
            actor=actor.email,
            action="clearance.cleared",
            entity_type="clearance_request",
            entity_id=clearance.id,
            customer_id=customer.id,
            at_once=True,
        )
        return [
            Reply(
                title=f"Cleared: {asked(clearance, describe(customer))}",
                text=f"Nothing is past due and there is no hold. Request #{clearance.id}.",
                tone=Tone.SUCCESS,
            )
        ]
    return _route(session, ctx, clearance, customer, actor, found)


def _route(
    session: Session, ctx: AppContext, clearance: ClearanceRequest, customer: Customer, actor: Actor, found: list[str]
) -> list[Reply]:
    """The card to the account's collector (a direct message), or to the collections channel for
    the managers when the account has no collector other than the asker."""
    collector = _collector(session, ctx, customer)
    if collector is not None and collector.id != actor.member_id:
        clearance.routed_to_id = collector.id
        session.flush()
    card = replace(
        placed(session, ctx, clearance, clearance_card(ctx, card_facts(session, ctx, clearance))),
        track=card_key(clearance.id),
    )
    who = (
        f"{collector.name}, the account's collector"
        if clearance.routed_to_id and collector
        else f"the managers in #{ctx.team.workflow.channels.collections}"
    )
    owing = any(b.endswith(" past due") for b in found)
    short = any(b.startswith("retainer short") for b in found)
    kinds = " and ".join(
        k
        for k, on in (("money past due", owing), ("a hold", len(found) > owing + short), ("a short retainer", short))
        if on
    )
    today = clearance.needed_on == ctx.today() and not clearance.urgent
    hint = " It is needed today: ask again with --urgent so it is chased within the hour." if today else ""
    ack = Reply(
        title=f"Asked {who.split(',')[0]}: {asked(clearance, describe(customer))}",
        text=(
            f"Not cleared at once: the account has {kinds}. Request #{clearance.id} is with {who}; "
            f"I'll tell you when it is decided.{hint}"
        ),
        tone=Tone.SUCCESS,
    )
    return [card, ack]


def placed(session: Session, ctx: AppContext, clearance: ClearanceRequest, reply: Reply) -> Reply:
    """``reply`` sent where the card goes (a reply in its thread falls back there): the routed
    person's direct messages, else the collections channel with the managers mentioned."""
    return (
        replace(reply, to_user=decider_emails(session, ctx, clearance)[0])
        if clearance.routed_to_id
        else replace(
            reply, where=Where(ctx.team.workflow.channels.collections), mentions=reply.mentions or manager_emails(ctx)
        )
    )


def decider_emails(session: Session, ctx: AppContext, clearance: ClearanceRequest) -> tuple[str, ...]:
    """Who the card asks: the routed collector, else the managers."""
    if clearance.routed_to_id is not None:
        return (session.get_one(TeamMember, clearance.routed_to_id).email,)
    return manager_emails(ctx)


def _collector(session: Session, ctx: AppContext, customer: Customer) -> TeamMember | None:
    """The account's collector, if they are still on the team."""
    member = session.get(TeamMember, customer.collector_id) if customer.collector_id else None
    return member if member is not None and member.active and ctx.team.member(member.email) else None


def manager_emails(ctx: AppContext) -> tuple[str, ...]:
    """Who decides when the collector cannot: the managers, else anyone more senior."""
    managers = tuple(m.email for m in ctx.team.members if m.has("manager"))
    return managers or tuple(m.email for m in ctx.team.members if m.roles & MANAGER_ROLES)


def _make_urgent(
    session: Session, ctx: AppContext, clearance: ClearanceRequest, customer: Customer, actor: Actor
) -> list[Reply] | Refusal:
    """The same request again with ``--urgent``: shorter reminder and escalation times from now on."""
    changed = rows_changed(
        session,
        update(ClearanceRequest)
        .where(
            ClearanceRequest.id == clearance.id, ClearanceRequest.status == PENDING, ClearanceRequest.urgent.is_(False)
        )
        .values(urgent=True)
        .execution_options(synchronize_session=False),
    )
    if not changed:
        return Refusal(f"clearance request #{clearance.id} was decided or made urgent a moment ago")
    session.refresh(clearance)
    record(
        session,
        at=ctx.clock.now(),
        actor=actor.email,
        action="clearance.made_urgent",
        entity_type="clearance_request",
        entity_id=clearance.id,
        customer_id=customer.id,
    )
    key = card_key(clearance.id)
    card = replace(
        placed(session, ctx, clearance, clearance_card(ctx, card_facts(session, ctx, clearance))), replaces=key
    )
    note = replace(
        placed(
            session,
            ctx,
            clearance,
            Reply(
                title=f"Now urgent: {asked(clearance, describe(customer))}",
                text=f"{actor.member.name} needs it the same day.",
                tone=Tone.WARNING,
            ),
        ),
        thread_of=key,
    )
    return [card, note, Reply(title=f"Clearance request #{clearance.id} is now urgent", tone=Tone.SUCCESS)]


def decide(
    session: Session, ctx: AppContext, *, clearance_id: int, actor: Actor, clear: bool, reason: str | None
) -> list[Reply] | Refusal:
    """Clear or refuse request ``clearance_id`` as ``actor``: exactly once, by someone allowed."""
    clearance = session.get(ClearanceRequest, clearance_id)
    if clearance is None:
        return Refusal(f"there is no clearance request #{clearance_id}")
    customer = session.get_one(Customer, clearance.customer_id)
    refused = _refuse_decider(session, ctx, clearance, customer, actor, clear)
    if refused is not None:
        return [refused]
    if clearance.status is not PENDING:
        return [_already_decided(session, ctx, clearance)]
    if not clear and not reason:
        return Refusal("say why you refuse it, so client services knows: refuse because <reason>")
    gate = _retainer_gate(session, ctx, clearance, customer, actor, reason) if clear else retainer_gate.Passed(None)
    if isinstance(gate, Reply):
        return [gate]
    now = ctx.clock.now()
    status = ClearanceStatus.CLEARED if clear else ClearanceStatus.REFUSED
    won = rows_changed(
        session,
        update(ClearanceRequest)
        .where(ClearanceRequest.id == clearance.id, ClearanceRequest.status == PENDING)
        .values(
            status=status,
            decided_by_id=actor.member_id,
            decided_at=now,
            decision_reason=reason,
        )
        .execution_options(synchronize_session=False),
    )
    session.refresh(clearance)
    if not won:
        return [_already_decided(session, ctx, clearance)]
    record(
        session,
        at=now,
        actor=actor.email,
        action=f"clearance.{status.value}",
        entity_type="clearance_request",
        entity_id=clearance.id,
        customer_id=customer.id,
        reason=reason,
        blockers=clearance.blockers,
    )
    retainer_gate.record_override(
        session, ctx, gate, customer=customer, actor=actor, entity_type="clearance_request", entity_id=clearance.id
    )
    key = card_key(clearance.id)
    card = replace(
        placed(session, ctx, clearance, clearance_card(ctx, card_facts(session, ctx, clearance))), replaces=key
    )
    requester = session.get_one(TeamMember, clearance.requested_by_id)
    headline = f"{status.value.capitalize()}: {asked(clearance, describe(customer))} (request #{clearance.id})"
    line = "\n".join(
        p for p in (decision_line(ctx, clearance, actor.member.name), gate.line(customer, actor.member.name)) if p
    )
    told = Reply(
        title=headline,
        text=f"For {requester.name}: {line}",
        tone=Tone.SUCCESS if clear else Tone.WARNING,
        to_user=requester.email,
    )
    ack = Reply(title=headline, text=f"{line}\n{requester.name} is told.", tone=Tone.SUCCESS)
    return [card, told, ack]


def _retainer_gate(
    session: Session, ctx: AppContext, clearance: ClearanceRequest, customer: Customer, actor: Actor, reason: str | None
) -> retainer_gate.Passed | Reply:
    """Clearing waits for the retainer (:mod:`commands.workflows.retainer_gate`); the collector
    may clear the rest, but only a manager overrides a short retainer. Refusals are audited."""
    gate = retainer_gate.check(session, customer, reason=reason, what="clearance", typed="clear override <reason>")
    if isinstance(gate, retainer_gate.Passed) and (gate.override is None or actor.member.roles & MANAGER_ROLES):
        return gate
    if isinstance(gate, retainer_gate.Passed):
        gate = messages.error(
            "Only a manager overrides a short retainer",
            f"{role_names(MANAGER_ROLES).capitalize()} may clear it anyway with a reason. Nothing was changed.",
        )
    record(
        session,
        at=ctx.clock.now(),
        actor=actor.email,
        action="clearance.decision_refused",
        entity_type="clearance_request",
        entity_id=clearance.id,
        customer_id=customer.id,
        why="retainer short",
        decision="clear",
        roles=sorted(actor.member.roles),
    )
    return gate


def _refuse_decider(
    session: Session, ctx: AppContext, clearance: ClearanceRequest, customer: Customer, actor: Actor, clear: bool
) -> Reply | None:
    """Only the account's collector or a manager decides, and never the person who asked."""
    collector = _collector(session, ctx, customer)
    if clearance.requested_by_id == actor.member_id:
        why, text = "own request", "You asked for this clearance, so someone else decides it"
    elif actor.member_id == customer.collector_id or actor.member.roles & MANAGER_ROLES:
        return None
    else:
        who = f"{collector.name} (the account's collector) or " if collector else ""
        why, text = "wrong person", f"Only {who}{role_names(MANAGER_ROLES)} decides it"
    record(
        session,
        at=ctx.clock.now(),
        actor=actor.email,
        action="clearance.decision_refused",
        entity_type="clearance_request",
        entity_id=clearance.id,
        customer_id=customer.id,
        why=why,
        decision="clear" if clear else "refuse",
        roles=sorted(actor.member.roles),
    )
    return messages.error(f"You can't decide clearance request #{clearance.id}", f"{text}. Nothing was changed.")


def _already_decided(session: Session, ctx: AppContext, clearance: ClearanceRequest) -> Reply:
    line = decision_line(ctx, clearance, member_name(session, clearance.decided_by_id))
    return Reply(
        title=f"Clearance request #{clearance.id} is no longer waiting",
        text=f"{line}.\nNothing was changed.",
        tone=Tone.WARNING,
        private=True,
    )


def card_facts(session: Session, ctx: AppContext, clearance: ClearanceRequest) -> CardFacts:
    """The card's content as the ledger stands now."""
    customer = session.get_one(Customer, clearance.customer_id)
    return CardFacts(
        clearance=clearance,
        summary=account_summary(session, customer, as_of=ctx.today()),
        requester=named(session, clearance.requested_by_id),
        collector=member_name(session, customer.collector_id),
        decider=member_name(session, clearance.decided_by_id),
    )
