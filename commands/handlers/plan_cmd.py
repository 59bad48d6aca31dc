"""``plan <customer> <total> <n> <weekly|biweekly|monthly> <first date> [reason]``: ask finance
management for a payment plan. The card shows the exact schedule (dates on business days,
amounts to the cent), and that schedule is what an approval creates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from commands.accounts import account_balance
from commands.actor import Actor
from commands.context import AppContext
from commands.handlers.common import money
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.messages import Reply
from commands.parsing.amounts import Amount, read_amount
from commands.parsing.customers import MAX_NAME_LENGTH, describe, resolve_first
from commands.parsing.dates import format_day, read_date
from commands.parsing.notes import read_note
from commands.parsing.text import Token, name_ends, phrase, quote, tokenize
from commands.refusal import Refusal
from commands.workflows.approvals import open_request, pending_request
from commands.workflows.plans import CADENCES, MAX_INSTALMENTS, MIN_INSTALMENTS, schedule, to_details
from storage.models import ApprovalKind, Customer

USAGE = "plan <customer> <total> <n> <weekly|biweekly|monthly> <first date> [reason]"
MAX_FIRST_DAYS_AHEAD = 90  # as for promises: further out is a date misread, or a plan not yet agreed
_CADENCE_WORDS = {**{c: c for c in CADENCES}, "bi-weekly": "biweekly", "fortnightly": "biweekly"}


@dataclass(frozen=True)
class PlanRequest:
    customer: Customer
    total: Amount
    n: int
    cadence: str
    first: date
    reason: str | None


@dataclass(frozen=True)
class _Reading:
    """One way to read the words after the customer's name."""

    total: Amount
    n: int
    cadence: str
    first: date
    rest_at: int  # where the reason begins in the typed text


def parse(args: str, env: ParseEnv) -> PlanRequest | Refusal:
    tokens = tokenize(args)
    readings, problem = _readings(tokens, env.today())
    if not readings:
        said = f"customer {quote(phrase(tokens))}" if tokens else ""
        return problem or Refusal(
            "I need a customer, the total, the number of instalments, how often "
            "(weekly, biweekly or monthly) and the first date",
            said,
        )
    found = resolve_first(env.session, [(phrase(tokens[:i]), r) for i, r in readings])
    if isinstance(found, Refusal):
        return found
    customer, reading = found
    understood = (
        f"customer {describe(customer)}, total {money(customer, reading.total.value)}, "
        f"{reading.n} {reading.cadence} instalments from {format_day(reading.first)}"
    )
    checked = _check(customer, reading, env.today())
    if checked is not None:
        return checked.with_understood(understood)
    reason = read_note(args[reading.rest_at :])
    if isinstance(reason, Refusal):
        return reason.with_understood(understood)
    return PlanRequest(customer, reading.total, reading.n, reading.cadence, reading.first, reason)


def _readings(tokens: list[Token], today: date) -> tuple[list[tuple[int, _Reading]], Refusal | None]:
    """Every split ``<name> <total> <n> <cadence> <date>`` that reads, by where the total
    starts, and the first problem seen (to explain a message where no split reads)."""
    readings: list[tuple[int, _Reading]] = []
    first_problem: Refusal | None = None
    for i in name_ends(tokens, MAX_NAME_LENGTH):
        total = None if tokens[i].quoted else read_amount(tokens[i].text)
        if total is None:
            continue
        said = f"customer {quote(phrase(tokens[:i]))}"
        if isinstance(total, Refusal):
            return readings, first_problem or total.with_understood(said)
        read = _after_total(tokens, i + 1, today, total)
        if isinstance(read, Refusal):
            first_problem = first_problem or read.with_understood(said)
        else:
            readings.append((i, read))
    return readings, first_problem


def _after_total(tokens: list[Token], j: int, today: date, total: Amount) -> _Reading | Refusal:
    words = [t.text.lower() for t in tokens[j : j + 2]]
    if not words or not words[0].isdigit() or len(words[0]) > 3:
        return Refusal("after the total, say how many instalments (a number) and how often")
    if len(words) < 2 or words[1] not in _CADENCE_WORDS:
        return Refusal("how often? Say weekly, biweekly or monthly after the number of instalments")
    for width in (3, 2, 1):
        date_words = tokens[j + 2 : j + 2 + width]
        if len(date_words) < width or any(t.quoted for t in date_words):
            continue
        day = read_date(phrase(date_words), today)
        if isinstance(day, Refusal):
            return day
        if isinstance(day, date):
            return _Reading(total, int(words[0]), _CADENCE_WORDS[words[1]], day, date_words[-1].end)
    return Refusal("when is the first instalment due? Put a date after the cadence, like 12/1 or next fri")


def _check(customer: Customer, reading: _Reading, today: date) -> Refusal | None:
    if reading.total.currency and reading.total.currency != customer.currency:
        return Refusal(f"{describe(customer)} is billed in {customer.currency}, not {reading.total.currency}")
    if not MIN_INSTALMENTS <= reading.n <= MAX_INSTALMENTS:
        return Refusal(f"a plan has {MIN_INSTALMENTS} to {MAX_INSTALMENTS} instalments, not {reading.n}")
    if reading.total.value * 100 < reading.n:
        return Refusal(f"{money(customer, reading.total.value)} can't be split into {reading.n} instalments")
    if reading.first < today:
        return Refusal(f"the first instalment can't be due in the past ({format_day(reading.first)})")
    latest = today + timedelta(days=MAX_FIRST_DAYS_AHEAD)
    if reading.first > latest:
        return Refusal(
            f"the first instalment can be at most {MAX_FIRST_DAYS_AHEAD} days ahead (until "
            f"{format_day(latest)}), like a promise; I read the date as {format_day(reading.first)}"
        )
    return None


def handle(request: PlanRequest, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    customer, total = request.customer, request.total.value
    understood = f"customer {describe(customer)}, total {money(customer, total)}"
    balance = account_balance(session, customer.id)
    if total > balance:
        return Refusal(
            f"{money(customer, total)} is more than the open balance of {describe(customer)}, "
            f"which is {money(customer, balance)}",
            understood,
        )
    waiting = pending_request(session, customer_id=customer.id, kind=ApprovalKind.PLAN)
    if waiting is not None:
        return Refusal(
            f"a payment plan for {describe(customer)} is already waiting for approval (request #{waiting.id})",
            understood,
        )
    instalments = schedule(total, request.n, request.cadence, request.first, ctx.calendar)
    details = {
        "n": request.n,
        "cadence": request.cadence,
        "first": request.first.isoformat(),
        "schedule": to_details(instalments),
    }
    return open_request(
        session,
        ctx,
        actor=actor,
        kind=ApprovalKind.PLAN,
        customer=customer,
        reason=request.reason or "",
        amount=total,
        details=details,
    )


COMMAND = Command(
    name="plan",
    usage=USAGE,
    parse=parse,
    handle=handle,
    summary="Ask for a payment plan (2 to 24 instalments); finance management decides.",
    examples=(
        "plan acme dental 3,000 6 monthly 12/1 cash flow after losing a contract",
        "plan C100 1200 4 weekly next fri",
    ),
    try_it="plan <customer> <amount> 4 weekly next fri cash flow after losing a contract",
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
