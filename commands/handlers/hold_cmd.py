"""``hold <customer> [kind] <reason>``: ask for a hold on an account in the approvals channel; an
approver's decision places it and tells the channels that act on holds of its kind.

The kind (product release, scheduling, service suspension: the team file's ``[holds]``) is the
word or two after the customer's name; without one the hold is of the team's default kind. A
word that is almost a kind ("shceduling") or an unknown ``--kind`` flag is asked about rather
than read as the start of the reason, so a typo does not place the wrong kind of hold."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.context import AppContext
from commands.handlers.common import local_moment
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.hold_kinds import HoldKind, HoldKinds
from commands.holds import active_holds
from commands.messages import Reply
from commands.parsing.customers import MAX_NAME_LENGTH, describe, resolve_customer, resolve_first
from commands.parsing.notes import read_note
from commands.parsing.text import name_ends, phrase, quote, tokenize
from commands.refusal import Refusal
from commands.workflows.approval_card import HOLD_KIND
from commands.workflows.approvals import open_request, pending_request
from storage.models import ApprovalKind, Customer

USAGE = "hold <customer> [kind] <reason>"
_DASHES = ("--", "\u2014", "\u2013")  # phones turn "--" into a dash


@dataclass(frozen=True)
class CustomerAndText:
    customer: Customer
    text: str | None  # the free text after the customer's name, None when there is none


def read_customer_and_text(env: ParseEnv, args: str) -> CustomerAndText | Refusal:
    """A customer followed by free text (a reason). The longest run of leading words that names
    exactly one customer is the name, so ``summit ortho 90 days late`` is Summit Ortho with the
    reason "90 days late", not "Summit" with "ortho 90 days late"; a quoted name is taken whole."""
    tokens = tokenize(args)
    if not tokens:
        return Refusal("which customer? Name it by its ERP id or by part of its name")
    ends = [1] if tokens[0].quoted else [*name_ends(tokens, MAX_NAME_LENGTH), len(tokens)]
    found = resolve_first(env.session, [(phrase(tokens[:i]), i) for i in reversed(ends)])
    if isinstance(found, Refusal):
        # No run of words names one customer; what the first word matches explains it best.
        first_word = resolve_customer(env.session, tokens[0].text)
        return first_word if isinstance(first_word, Refusal) else found
    customer, i = found
    text = read_note(args[tokens[i - 1].end :]) if i < len(tokens) else None
    if isinstance(text, Refusal):
        return text.with_understood(f"customer {describe(customer)}")
    return CustomerAndText(customer, text)


@dataclass(frozen=True)
class HoldAsk:
    customer: Customer
    kind: HoldKind
    reason: str


def parse(args: str, env: ParseEnv) -> HoldAsk | Refusal:
    read = read_customer_and_text(env, args)
    if isinstance(read, Refusal):
        return read
    understood = f"customer {describe(read.customer)}"
    if read.text is None:
        return Refusal("say why the account should go on hold, after the customer", understood)
    kinds = env.ctx.team.workflow.holds
    tokens = tokenize(read.text)
    kind_and_size = _kind_at_start(kinds, [] if tokens[0].quoted else [t.text for t in tokens[:3]])
    if isinstance(kind_and_size, Refusal):
        return kind_and_size.with_understood(understood)
    kind, size = kind_and_size if kind_and_size is not None else (kinds.get(kinds.default), 0)
    if kind is None:
        return Refusal(f"the team file's default hold kind {kinds.default!r} is not listed", understood)
    reason = read.text[tokens[size - 1].end :].strip() if size else read.text
    understood += f", {kind.label} hold"
    if not reason:
        return Refusal(f"say why the account should go on a {kind.label} hold, after the kind", understood)
    return HoldAsk(read.customer, kind, reason)


def _kind_at_start(kinds: HoldKinds, words: list[str]) -> tuple[HoldKind, int] | Refusal | None:
    """The kind the reason opens with and how many words it took; None when it opens with none;
    a refusal for an unknown ``--kind`` or a near miss of one."""
    if not words:
        return None
    first = words[0]
    dash = next((d for d in _DASHES if first.startswith(d)), None)
    if dash is not None:
        named = kinds.named([first[len(dash) :].replace("-", " ").replace("_", " ")])
        if named is None:
            return Refusal(f"{quote(first)} is not a kind of hold; the kinds are {kinds.listed()}")
        return named[0], 1
    named = kinds.named(words)
    if named is not None:
        return named
    near = kinds.near_miss(first)
    if near is not None:
        return Refusal(
            f"did you mean a {near.label} hold? {quote(first)} is not a kind of hold (the kinds are "
            f"{kinds.listed()}). To start the reason with that word, name the kind first"
        )
    return None


def handle(request: HoldAsk, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    customer, understood = request.customer, f"customer {describe(request.customer)}"
    held = active_holds(session, customer.id)
    if held:
        return Refusal(
            f"{describe(customer)} is already on hold since {local_moment(ctx, held[0].placed_at)}: {held[0].reason}",
            understood,
        )
    waiting = pending_request(session, customer_id=customer.id, kind=ApprovalKind.HOLD)
    if waiting is not None:
        return Refusal(
            f"a hold on {describe(customer)} is already waiting for approval (request #{waiting.id})", understood
        )
    return open_request(
        session,
        ctx,
        actor=actor,
        kind=ApprovalKind.HOLD,
        customer=customer,
        reason=request.reason,
        details={HOLD_KIND: request.kind.key},
    )


COMMAND = Command(
    name="hold",
    usage=USAGE,
    parse=parse,
    handle=handle,
    summary=(
        "Ask for a hold on an account (kinds: product release, the default; scheduling; service "
        "suspension); an approver decides in the approvals channel."
    ),
    examples=(
        "hold acme dental final invoice 120 days past due",
        "hold acme ortho scheduling 95 days past due",
        'hold "Summit Ortho, P.C." --suspension retainer unpaid',
    ),
    try_it="hold <customer> 95 days past due",
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
