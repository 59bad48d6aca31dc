"""``promise <customer> <amount> <date> [note]``: record a promise to pay, which keeps the
account off the call list until it comes due and is checked when it does.

Also the "Promise" button on call-list lines: until adapters open a form, it answers with the
typed command for that customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.accounts import account_balance
from commands.context import AppContext
from commands.handlers.common import customer_from_button, money, typed_name
from commands.handlers.registry import Actor, ButtonAction, Command, ParseEnv, Registry
from commands.messages import Field, Reply, Tone
from commands.parsing.amounts import Amount, amount_widths, format_money, read_amount
from commands.parsing.customers import MAX_NAME_LENGTH, describe, resolve_first
from commands.parsing.dates import format_day, read_date
from commands.parsing.notes import read_note
from commands.parsing.text import Token, name_ends, phrase, quote, tokenize
from commands.refusal import Refusal
from storage.audit import record
from storage.models import Customer, Promise, PromiseStatus

USAGE = "promise <customer> <amount> <date> [note]"
# A promise further out than this is a payment plan in disguise, which needs approval.
MAX_DAYS_AHEAD = 90


@dataclass(frozen=True)
class PromiseRequest:
    customer: Customer
    amount: Amount
    day: date
    note: str | None


@dataclass(frozen=True)
class _Reading:
    """One way to split the words after the customer into amount, date and note."""

    amount: Amount
    day: date
    date_text: str
    note_start: int  # where the note begins in the typed text


def parse(args: str, env: ParseEnv) -> PromiseRequest | Refusal:
    tokens, today = tokenize(args), env.today()
    readings, first_problem = _readings(tokens, today)
    if not readings:
        said = f"customer {quote(phrase(tokens))}" if tokens else ""
        return first_problem or Refusal("I need a customer, then an amount, then a date", said)
    found = resolve_first(env.session, [(phrase(tokens[:i]), r) for i, r in readings])
    if isinstance(found, Refusal):
        return found
    customer, reading = found
    understood = (f"customer {describe(customer)}, amount {money(customer, reading.amount.value)}, "
                  f"date {format_day(reading.day)}")
    problem = _check_currency(customer, reading.amount) or _check_day(reading, today)
    if problem:
        return problem.with_understood(understood)
    note = read_note(args[reading.note_start:])
    if isinstance(note, Refusal):
        return note.with_understood(understood)
    return PromiseRequest(customer, reading.amount, reading.day, note)


def _readings(tokens: list[Token], today: date) -> tuple[list[tuple[int, _Reading]], Refusal | None]:
    """Every split ``<customer words> <amount> <date> [note]`` that reads, by where the amount
    starts; and the first problem seen, to explain a message where no split reads."""
    readings: list[tuple[int, _Reading]] = []
    first_problem: Refusal | None = None
    for i in name_ends(tokens, MAX_NAME_LENGTH):
        for width in amount_widths(tokens, i):
            amount = read_amount(phrase(tokens[i:i + width]))
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
        words = tokens[j:j + width]
        if len(words) < width or any(t.quoted for t in words):
            continue
        read = read_date(phrase(words), today)
        if isinstance(read, date):
            return _Reading(amount, read, phrase(words), words[-1].end)
        if isinstance(read, Refusal):
            return read
    return Refusal("I need a date after the amount, like fri, 12/1 or in 5 days")


def _check_currency(customer: Customer, amount: Amount) -> Refusal | None:
    if amount.currency and amount.currency != customer.currency:
        return Refusal(f"{describe(customer)} is billed in {customer.currency}, not {amount.currency}; "
                       f"write the amount in {customer.currency}")
    return None


def _check_day(reading: _Reading, today: date) -> Refusal | None:
    read_as = f"I read {quote(reading.date_text)} as {format_day(reading.day)}"
    if reading.day < today:
        return Refusal(f"promise dates can't be in the past; {read_as}")
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    if reading.day > latest:
        return Refusal(f"promises can be at most {MAX_DAYS_AHEAD} days ahead (until "
                       f"{format_day(latest)}); {read_as}")
    return None


def handle(request: PromiseRequest, actor: Actor, ctx: AppContext, *,
           session: Session) -> list[Reply] | Refusal:
    customer, amount, day = request.customer, request.amount.value, request.day
    understood = f"customer {describe(customer)}, amount {money(customer, amount)}, date {format_day(day)}"
    balance = account_balance(session, customer.id)
    if amount > balance:
        return Refusal(f"{money(customer, amount)} is more than the open balance of {describe(customer)}, "
                       f"which is {money(customer, balance)}", understood)
    same_day = session.scalar(select(Promise).where(
        Promise.customer_id == customer.id, Promise.status == PromiseStatus.OPEN,
        Promise.promised_date == day,
    ))
    if same_day is not None:
        return Refusal(f"{describe(customer)} already has an open promise of "
                       f"{money(customer, same_day.amount)} for {format_day(day)}", understood)
    now = ctx.clock.now()
    promise = Promise(customer_id=customer.id, member_id=actor.member_id, amount=amount,
                      promised_date=day, status=PromiseStatus.OPEN, note=request.note, created_at=now)
    session.add(promise)
    session.flush()
    record(session, at=now, actor=actor.email, action="promise.created", entity_type="promise",
           entity_id=promise.id, customer_id=customer.id, amount=amount, promised_date=day,
           note=request.note)
    fields = [Field("Amount", money(customer, amount)), Field("By", format_day(day)),
              Field("Balance", money(customer, balance))]
    if request.note:
        fields.append(Field("Note", request.note))
    return [Reply(title=f"Promise recorded for {describe(customer)}", fields=tuple(fields), tone=Tone.SUCCESS)]


def promise_button(value: dict[str, Any], actor: Actor, ctx: AppContext, *,
                   session: Session) -> list[Reply] | Refusal:
    customer = customer_from_button(session, value)
    if isinstance(customer, Refusal):
        return customer
    name = typed_name(customer)
    balance = money(customer, account_balance(session, customer.id))
    return [Reply(
        title=f"Record a promise from {describe(customer)}",
        text=(f"Type: promise {name} <amount> <date> [note]\nOpen balance: {balance}\n"
              f"Example: promise {name} 1,200 fri check in the mail"),
        private=True,
    )]


COMMAND = Command(
    name="promise", usage=USAGE, parse=parse, handle=handle, aliases=("ptp",),
    summary=f"Record a promise to pay an amount by a date (at most {MAX_DAYS_AHEAD} days ahead).",
    examples=("promise acme dental 1,200 fri", 'promise "Summit Ortho, P.C." $1.2k 12/1 wire',
              "promise C100 USD 300 in 5 days"),
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
    registry.add_action(ButtonAction("promise", promise_button))
