"""``resolve <dispute-id> <outcome> [--credit] [note]``: close a dispute as upheld, rejected,
credited or withdrawn. Typed in the thread of the dispute's note in the collections channel, the
id can be left out. Only the person who opened it, or a manager or above, may resolve it, and
only once. ``upheld --credit`` also asks, in the same step, for the credit memo of the disputed
amount on its invoice (an approval card, then finance's task once approved)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.commitment_rules import reachable_email
from commands.context import AppContext
from commands.delivery import tracked_key
from commands.disputes import (
    OUTCOMES,
    Outcome,
    days_text,
    may_resolve,
    refuse_recorded,
    resolve_dispute,
    resolved_by,
)
from commands.handlers.common import local_moment, money
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.messages import Field, Reply, Tone, Where
from commands.parsing.customers import describe
from commands.parsing.notes import read_note
from commands.parsing.text import quote, tokenize
from commands.refusal import Refusal
from commands.workflows.approvals import may_request, open_request
from storage.models import ApprovalKind, Customer, Dispute, DisputeStatus, Invoice, TeamMember

USAGE = "resolve <dispute-id> <outcome> [--credit] [note]"
CREDIT_FLAG = "--credit"
OUTCOME_WORDS = ", ".join(OUTCOMES)
_ID = re.compile(r"#?(\d{1,9})", re.ASCII)  # nine digits fit any integer key on both databases
_TRACK_PREFIX = "dispute:"


@dataclass(frozen=True)
class ResolveRequest:
    dispute: Dispute
    outcome: Outcome
    note: str | None
    credit: bool = False  # upheld, and the credit memo asked for at once


def parse(args: str, env: ParseEnv) -> ResolveRequest | Refusal:
    tokens = tokenize(args)
    match = _ID.fullmatch(tokens[0].text) if tokens else None
    dispute_id = int(match[1]) if match else _dispute_of_thread(env)
    if dispute_id is None:
        return Refusal(
            "which dispute? Give its number, as in `resolve 7 rejected`, or reply in the thread of the dispute's note"
        )
    rest = tokens[1:] if match else tokens
    dispute = env.session.get(Dispute, dispute_id)
    if dispute is None:
        return Refusal(f"there is no dispute #{dispute_id}")
    understood = f"dispute #{dispute_id}"
    if not rest:
        return Refusal(f"how was it resolved? Say one of: {OUTCOME_WORDS}", understood)
    outcome = OUTCOMES.get(rest[0].lower)
    if outcome is None:
        return Refusal(f"{quote(rest[0].text)} is not an outcome; say one of: {OUTCOME_WORDS}", understood)
    credit = len(rest) > 1 and rest[1].lower == CREDIT_FLAG
    if credit and not outcome.credit_due:
        return Refusal(
            f"{CREDIT_FLAG} goes with upheld: a {outcome.word} dispute has no credit to ask for",
            f"{understood}, outcome {outcome.word}",
        )
    if credit and dispute.invoice_id is None:
        return Refusal(
            f"dispute #{dispute_id} names no invoice, so there is no credit memo to ask for on it; "
            "resolve it upheld and use `credit <customer> <invoice> <amount> <reason>`",
            understood,
        )
    note = read_note(args[rest[1 if credit else 0].end :])
    if isinstance(note, Refusal):
        return note.with_understood(f"{understood}, outcome {outcome.word}")
    return ResolveRequest(dispute, outcome, note, credit)


def _dispute_of_thread(env: ParseEnv) -> int | None:
    """The dispute whose channel note this message replies to, if it does."""
    key = tracked_key(env.session, env.incoming.where)
    if key is None or not key.startswith(_TRACK_PREFIX):
        return None
    return int(key.removeprefix(_TRACK_PREFIX))


def handle(request: ResolveRequest, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    dispute, outcome, now = request.dispute, request.outcome, ctx.clock.now()

    def refuse(message: str) -> list[Reply]:
        return refuse_recorded(
            session,
            at=now,
            actor=actor.email,
            action="dispute.resolve_refused",
            dispute=dispute,
            message=message,
            outcome=outcome.word,
        )

    if dispute.status is DisputeStatus.RESOLVED:
        return refuse(_already(session, ctx, dispute))
    if not may_resolve(dispute, member_id=actor.member_id, roles=actor.member.roles):
        return refuse(_not_yours(session, dispute))
    if request.credit and not may_request(actor.member.roles, ApprovalKind.CREDIT):
        return refuse(
            "credit memos are asked for by collectors, managers, controllers or the VP finance; "
            f"resolve it without {CREDIT_FLAG} and ask one of them"
        )
    days = resolve_dispute(session, dispute, outcome=outcome, note=request.note, actor=actor.email, at=now)
    if days is None:  # resolved by someone else between our read and our update
        session.refresh(dispute)
        return refuse(_already(session, ctx, dispute))
    return _announce(session, ctx, actor, request, days)


def _already(session: Session, ctx: AppContext, dispute: Dispute) -> str:
    who = resolved_by(session, dispute.id) or "someone"
    when = local_moment(ctx, dispute.resolved_at) if dispute.resolved_at else "an earlier time"
    return f"dispute #{dispute.id} was already resolved ({dispute.outcome}) by {who} at {when}"


def _not_yours(session: Session, dispute: Dispute) -> str:
    opener = session.get(TeamMember, dispute.opened_by_id) if dispute.opened_by_id else None
    who = f"{opener.name}, who opened it," if opener else "the person who opened it"
    return f"only {who} or a manager, controller or VP finance can resolve dispute #{dispute.id}"


def _announce(session: Session, ctx: AppContext, actor: Actor, request: ResolveRequest, days: Decimal) -> list[Reply]:
    """The resolver's answer, the channel note updated in place, the opener told, and for an
    upheld dispute finance asked for the credit."""
    dispute, outcome = request.dispute, request.outcome
    customer = session.get_one(Customer, dispute.customer_id)
    invoice = session.get(Invoice, dispute.invoice_id) if dispute.invoice_id else None
    what = f"{money(customer, dispute.amount)}" + (f" of {invoice.number}" if invoice else "")
    summary = f"{describe(customer)}, {what}: {outcome.meaning}. Resolved after {days_text(days)}."
    text = summary + (f"\nNote: {request.note}" if request.note else "")
    if not outcome.owed:
        # The ledger learns of a credit only by import (commands.disputes.credit_shown).
        reduced = f", or {invoice.number} reduced by it" if invoice else ""
        text += (
            f"\nThe amount stays out of collection until an aging import shows the credit "
            f"(a credit memo for it{reduced})."
        )

    fields = (
        Field("Outcome", outcome.word),
        Field("Cycle time", days_text(days)),
        Field("Resolved by", actor.member.name),
    )
    title = f"Dispute #{dispute.id} resolved: {outcome.word}"
    replies = [Reply(title=title, text=text, fields=fields, tone=Tone.SUCCESS)]
    note = Reply(title=f"{title} ({describe(customer)})", text=text, fields=fields)
    replies.append(
        replace(note, replaces=f"{_TRACK_PREFIX}{dispute.id}", where=Where(ctx.team.workflow.channels.collections))
    )
    opener = reachable_email(session, ctx, dispute.opened_by_id)
    if opener is not None and opener != actor.email:
        replies.append(Reply(title=title, text=text, fields=fields, to_user=opener))
    if request.credit:
        replies += _ask_credit(session, ctx, actor, dispute, customer, invoice, request.note)
    elif outcome.credit_due:
        replies.append(
            Reply(
                title=f"Credit due: {describe(customer)}, {what}",
                tone=Tone.WARNING,
                text=f"Dispute #{dispute.id} was upheld by {actor.member.name}; please issue the credit memo.",
                where=Where(ctx.team.workflow.channels.finance),
            )
        )
    return replies


def _ask_credit(
    session: Session,
    ctx: AppContext,
    actor: Actor,
    dispute: Dispute,
    customer: Customer,
    invoice: Invoice | None,
    note: str | None,
) -> list[Reply]:
    """The credit memo of the upheld amount, asked for as ``credit`` would: the approval card, and
    (once approved) finance's task. The dispute already keeps the amount out of collection."""
    if invoice is None:  # parse refuses --credit on a dispute without an invoice
        return []
    reason = f"dispute #{dispute.id} upheld" + (f": {note}" if note else f" ({dispute.reason})")
    return open_request(
        session,
        ctx,
        actor=actor,
        kind=ApprovalKind.CREDIT,
        customer=customer,
        reason=reason,
        amount=dispute.amount,
        details={"invoice_id": invoice.id, "invoice": invoice.number, "dispute_id": dispute.id},
    )


COMMAND = Command(
    name="resolve",
    usage=USAGE,
    parse=parse,
    handle=handle,
    summary=(
        f"Close a dispute ({OUTCOME_WORDS}); in the dispute's thread the id can be left out. "
        f"upheld {CREDIT_FLAG} also asks for the credit memo of the disputed amount."
    ),
    examples=(
        "resolve 7 rejected customer found the delivery note",
        "resolve 7 upheld rate was wrong",
        "resolve 7 upheld --credit rate was wrong",
        "resolve #7 withdrawn",
    ),
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
