"""``promise <customer> <amount> <date> [note]``: record a promise to pay, which keeps the
account off the call list until it comes due and is checked when it does. A customer has at
most one open promise: a new one replaces the old (said, and audited); ``promise cancel
<customer> [reason]`` ends it. Dates read forward: ``fri`` is the coming Friday, ``next fri``
the Friday of next week, ``eow`` this week's Friday, ``eom`` the month's last day.

Also the "Promise" button on call-list lines: Slack and Teams open the Promise form
(commands.forms) and send its submission as ``form.promise``; a client without forms (the
terminal) answers the button with the typed command for that customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.accounts import account_balance
from commands.actor import Actor
from commands.context import AppContext
from commands.forms import (
    MAX_DAYS_AHEAD,
    PROMISE,
    PromiseRequest,
    check_currency,
    check_promise_day,
    read_promise,
)
from commands.handlers.account_buttons import form_submission, typing_hint
from commands.handlers.common import money
from commands.handlers.registry import ButtonAction, Command, ParseEnv, Registry
from commands.messages import Field, Reply, Tone
from commands.parsing.amounts import Amount, amount_widths, format_money, read_amount
from commands.parsing.customers import MAX_NAME_LENGTH, describe, resolve_first
from commands.parsing.dates import format_day, read_date
from commands.parsing.notes import read_note
from commands.parsing.text import Token, name_ends, phrase, quote, tokenize
from commands.promise_checks import end_promise, open_promise
from commands.refusal import Refusal
from storage.audit import record
from storage.models import Customer, Dispute, DisputeStatus, Promise, PromiseStatus, TeamMember

USAGE = "promise <customer> <amount> <date> [note]"


@dataclass(frozen=True)
class _Reading:
    """One way to split the words after the customer into amount, date and note."""

    amount: Amount
    day: date
    date_text: str
    note_start: int  # where the note begins in the typed text


@dataclass(frozen=True)
class CancelRequest:
    """``promise cancel <customer> [reason]``: the customer withdrew its promise."""

    customer: Customer
    reason: str | None


def parse(args: str, env: ParseEnv) -> PromiseRequest | CancelRequest | Refusal:
    tokens, today = tokenize(args), env.today()
    if tokens and not tokens[0].quoted and tokens[0].lower == "cancel":
        return _parse_cancel(args[tokens[0].end :], env)
    readings, first_problem = _readings(tokens, today)
    if not readings:
        said = f"customer {quote(phrase(tokens))}" if tokens else ""
        return first_problem or Refusal("I need a customer, then an amount, then a date", said)
    found = resolve_first(env.session, [(phrase(tokens[:i]), r) for i, r in readings])
    if isinstance(found, Refusal):
        return found
    customer, reading = found
    understood = (
        f"customer {describe(customer)}, amount {money(customer, reading.amount.value)}, date {format_day(reading.day)}"
    )
    problem = check_currency(customer, reading.amount) or _check_day(reading, today)
    if problem:
        return problem.with_understood(understood)
    note = read_note(args[reading.note_start :])
    if isinstance(note, Refusal):
        return note.with_understood(understood)
    return PromiseRequest(customer, reading.amount, reading.day, note)


def _parse_cancel(args: str, env: ParseEnv) -> CancelRequest | Refusal:
    """The longest run of words that names one customer; what follows is the reason."""
    tokens = tokenize(args)
    if not tokens:
        return Refusal("which customer's promise? Type: promise cancel <customer> [reason]")
    ends = [i for i in range(len(tokens), 0, -1) if len(phrase(tokens[:i])) <= MAX_NAME_LENGTH]
    found = resolve_first(env.session, [(phrase(tokens[:i]), tokens[i - 1].end) for i in ends])
    if isinstance(found, Refusal):
        return found
    customer, reason_start = found
    reason = read_note(args[reason_start:])
    if isinstance(reason, Refusal):
        return reason.with_understood(f"customer {describe(customer)}")
    return CancelRequest(customer, reason)


def _readings(tokens: list[Token], today: date) -> tuple[list[tuple[int, _Reading]], Refusal | None]:
    """Every split ``<customer words> <amount> <date> [note]`` that reads, by where the amount
    starts; and the first problem seen, to explain a message where no split reads."""
    readings: list[tuple[int, _Reading]] = []
    first_problem: Refusal | None = None
    for i in name_ends(tokens, MAX_NAME_LENGTH):
        for width in amount_widths(tokens, i):
            amount = read_amount(phrase(tokens[i : i + width]))
            if amount is None:
                continue
            said = f"customer {quote(phrase(tokens[:i]))}"
            if isinstance(amount, Refusal):
                first_problem = first_problem or amount.with_understood(said)
                break
            reading = _date_after(tokens, i + width, today, amount)
            if isinstance(reading, _Reading):
                readings.append((i, reading))
            else:
                said += f", amount {format_money(amount.value, amount.currency or 'USD')}"
                first_problem = first_problem or reading.with_understood(said)
            break
    return readings, first_problem


def _date_after(tokens: list[Token], j: int, today: date, amount: Amount) -> _Reading | Refusal:
    """The longest run of up to three words after the amount that reads as a date."""
    for width in (3, 2, 1):
        words = tokens[j : j + width]
        if len(words) < width or any(t.quoted for t in words):
            continue
        read = read_date(phrase(words), today)
        if isinstance(read, date):
            return _Reading(amount, read, phrase(words), words[-1].end)
        if isinstance(read, Refusal):
            return read
    return Refusal("I need a date after the amount, like fri, 12/1 or in 5 days")


def _check_day(reading: _Reading, today: date) -> Refusal | None:
    return check_promise_day(reading.day, today, f"I read {quote(reading.date_text)} as {format_day(reading.day)}")


def handle(
    request: PromiseRequest | CancelRequest, actor: Actor, ctx: AppContext, *, session: Session
) -> list[Reply] | Refusal:
    if isinstance(request, CancelRequest):
        return _cancel(request, actor, ctx, session=session)
    customer, amount, day = request.customer, request.amount.value, request.day
    understood = f"customer {describe(customer)}, amount {money(customer, amount)}, date {format_day(day)}"
    balance = account_balance(session, customer.id)
    if amount > balance:
        return Refusal(
            f"{money(customer, amount)} is more than the open balance of {describe(customer)}, "
            f"which is {money(customer, balance)}",
            understood,
        )
    current = open_promise(session, customer.id)
    if current is not None and (current.promised_date, current.amount) == (day, amount):
        return Refusal(
            f"{describe(customer)} already has this promise: {money(customer, amount)} by {format_day(day)}", understood
        )
    now = ctx.clock.now()
    # The old one ends first: one open promise per customer and day is also the database's rule.
    replaced = current is not None and end_promise(
        session, current, action="promise.replaced", at=now, actor=actor.email, today=ctx.today()
    )
    promise = Promise(
        customer_id=customer.id,
        member_id=actor.member_id,
        amount=amount,
        promised_date=day,
        status=PromiseStatus.OPEN,
        note=request.note,
        created_at=now,
    )
    session.add(promise)
    session.flush()
    record(
        session,
        at=now,
        actor=actor.email,
        action="promise.created",
        entity_type="promise",
        entity_id=promise.id,
        customer_id=customer.id,
        amount=amount,
        promised_date=day,
        note=request.note,
        replaces=current.id if replaced and current else None,
    )
    fields = [
        Field("Amount", money(customer, amount)),
        Field("By", format_day(day)),
        Field("Balance", money(customer, balance)),
    ]
    if request.note:
        fields.append(Field("Note", request.note))
    lines = [
        f"It replaces the open promise of {money(customer, current.amount)} by {format_day(current.promised_date)}."
        if replaced and current
        else "",
        *_warnings(session, ctx, customer, actor),
    ]
    ack = Reply(
        title=f"Promise recorded for {describe(customer)}",
        fields=tuple(fields),
        tone=Tone.SUCCESS,
        text="\n".join(line for line in lines if line),
    )
    return [ack, *_tell_owner(session, ctx, customer, actor, promise)]


def _warnings(session: Session, ctx: AppContext, customer: Customer, actor: Actor) -> list[str]:
    """Taken, but said: a promise on disputed money may never be paid as promised, and one on
    someone else's account is news to its owner."""
    warnings = []
    disputed = (
        session.scalar(
            select(func.coalesce(func.sum(Dispute.amount), 0)).where(
                Dispute.customer_id == customer.id, Dispute.status == DisputeStatus.OPEN
            )
        )
        or 0
    )
    if disputed:
        warnings.append(
            f"Note: {money(customer, Decimal(disputed))} of this account is in dispute; "
            "the customer may hold that back until it is resolved."
        )
    owner = _owner(session, customer)
    if owner is not None and owner.id != actor.member_id:
        warnings.append(f"Note: this is {owner.name}'s account; they are told.")
    return warnings


def _owner(session: Session, customer: Customer) -> TeamMember | None:
    if customer.collector_id is None:
        return None
    return session.scalar(select(TeamMember).where(TeamMember.id == customer.collector_id, TeamMember.active))


def _tell_owner(session: Session, ctx: AppContext, customer: Customer, actor: Actor, promise: Promise) -> list[Reply]:
    owner = _owner(session, customer)
    if owner is None or owner.id == actor.member_id or ctx.team.member(owner.email) is None:
        return []
    return [
        Reply(
            title=f"Promise on your account {describe(customer)}",
            to_user=owner.email,
            text=(
                f"{actor.member.name} recorded a promise of {money(customer, promise.amount)} by "
                f"{format_day(promise.promised_date)}."
            ),
        )
    ]


def _cancel(request: CancelRequest, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    customer = request.customer
    current = open_promise(session, customer.id)
    if current is None:
        return Refusal(f"{describe(customer)} has no open promise to cancel")
    if not end_promise(
        session,
        current,
        action="promise.cancelled",
        at=ctx.clock.now(),
        actor=actor.email,
        today=ctx.today(),
        reason=request.reason,
    ):
        return Refusal(f"the promise of {describe(customer)} was settled a moment ago; see status")
    return [
        Reply(
            title=f"Promise cancelled for {describe(customer)}",
            tone=Tone.SUCCESS,
            text=(
                f"The promise of {money(customer, current.amount)} by {format_day(current.promised_date)} "
                "is cancelled; the account is back on the call list."
            ),
        )
    ]


promise_button = typing_hint(
    "Record a promise from {customer}",
    ("Type: promise <customer> <amount> <date> [note]", "Example: promise <customer> 1,200 fri check in the mail"),
)
promise_form = form_submission(PROMISE, read_promise, handle)


COMMAND = Command[PromiseRequest | CancelRequest](
    name="promise",
    usage=USAGE,
    parse=parse,
    handle=handle,
    aliases=("ptp",),
    summary=(
        f"Record a promise to pay an amount by a date (at most {MAX_DAYS_AHEAD} days ahead); a new "
        "promise replaces the customer's open one; promise cancel <customer> [reason] ends it. "
        "Dates: fri = the coming Friday, next fri = Friday "
        "of next week, eow = this week's Friday, eom = the month's last day."
    ),
    examples=(
        "promise acme dental 1,200 fri",
        'promise "Summit Ortho, P.C." $1.2k 12/1 wire',
        "promise C100 USD 300 in 5 days",
        "promise acme dental 500 eow",
        "promise cancel acme dental customer withdrew it",
    ),
    try_it="promise <customer> <amount> fri",
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
    registry.add_action(ButtonAction("promise", promise_button))
    registry.add_action(ButtonAction(PROMISE.action or "form.promise", promise_form))
