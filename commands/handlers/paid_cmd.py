"""``paid <customer> <amount> [date] [method] [reference] [--urgent]``: the customer says it
paid; finance is asked to confirm the money arrived (commands.workflows.payments).

Dates here look back, not ahead: ``fri`` is the latest Friday (today if it is Friday),
``11/20`` the latest 20 November, ``yesterday`` works; a date in the future is refused. Anything
after the date and the method is the reference, as typed. ``--urgent`` (a hold blocks product
release or scheduling) may stand anywhere and shortens finance's reminder and escalation times;
the same claim typed again with ``--urgent`` makes the pending request urgent. A claim for more
than the customer still owes, or on an account in credit, is refused with the balance
(commands.workflows.payments).

Also the "Paid" button on call-list lines: Slack and Teams open the Paid form (commands.forms)
and send its submission as ``form.paid``; a client without forms (the terminal) answers the
button with the typed command for that customer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.context import AppContext
from commands.forms import (
    METHODS,
    PAID,
    check_currency,
    check_paid_day,
    check_reference,
    read_paid,
)
from commands.handlers.account_buttons import form_submission, typing_hint
from commands.handlers.common import money
from commands.handlers.registry import ButtonAction, Command, ParseEnv, Registry
from commands.messages import Reply
from commands.parsing.amounts import Amount, amount_widths, format_money, read_amount
from commands.parsing.customers import MAX_NAME_LENGTH, describe, resolve_customer
from commands.parsing.dates import MONTHS, WEEKDAYS, format_day, read_date
from commands.parsing.text import Token, clean_text, name_ends, phrase, quote, tokenize
from commands.refusal import Refusal
from commands.workflows.payments import PaymentClaim, request_confirmation
from storage.models import Customer

USAGE = "paid <customer> <amount> [date] [method] [reference] [--urgent]"
# How people name a method: the words (one or two) and the method they mean.
METHOD_WORDS = {
    "wire": "wire",
    "wired": "wire",
    "wire transfer": "wire",
    "bank wire": "wire",
    "ach": "ach",
    "eft": "ach",
    "bank transfer": "ach",
    "direct deposit": "ach",
    "check": "check",
    "cheque": "check",
    "chk": "check",
    "card": "card",
    "credit card": "card",
    "debit card": "card",
    "cc": "card",
    "visa": "card",
    "mastercard": "card",
    "amex": "card",
    "cash": "cash",
    "zelle": "zelle",
    "paypal": "paypal",
    "other": "other",
}
# Phones turn "--" into a dash.
URGENT_FLAGS = frozenset({"--urgent", "\u2014urgent", "\u2013urgent"})
_MONTH_WORDS = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY_NUMBER = r"\d{1,2}(?:st|nd|rd|th)?"
# Month and day without a year: read as the latest such day, not the next one.
_YEARLESS = re.compile(
    rf"\d{{1,2}}/\d{{1,2}}|(?:{_MONTH_WORDS}) {_DAY_NUMBER}|{_DAY_NUMBER} (?:of )?(?:{_MONTH_WORDS})"
)


@dataclass(frozen=True)
class _Reading:
    """One way to read the words after the customer: the amount, the day (None: today) and
    where the method and reference start."""

    amount: Amount
    day: date | None
    day_text: str
    rest: int


def parse(args: str, env: ParseEnv) -> PaymentClaim | Refusal:
    tokens = tokenize(args)
    urgent = any(_is_urgent(t) for t in tokens)
    tokens = [t for t in tokens if not _is_urgent(t)]
    today = env.today()
    found = _customer_and_reading(env.session, tokens, today)
    if isinstance(found, Refusal):
        return found
    customer, reading = found
    day = reading.day or today
    understood = (
        f"customer {describe(customer)}, amount {money(customer, reading.amount.value)}, paid {format_day(day)}"
    )
    problem = check_currency(customer, reading.amount) or _check_day(reading, today)
    if problem:
        return problem.with_understood(understood)
    method, reference = _method_and_reference(tokens[reading.rest :])
    too_long = check_reference(reference)
    if too_long is not None:
        return too_long.with_understood(understood)
    return PaymentClaim(
        customer=customer, amount=reading.amount.value, paid_on=day, method=method, reference=reference, urgent=urgent
    )


def _is_urgent(token: Token) -> bool:
    return not token.quoted and token.lower in URGENT_FLAGS


def _customer_and_reading(session: Session, tokens: list[Token], today: date) -> tuple[Customer, _Reading] | Refusal:
    """The longest customer phrase that names one customer and is followed by an amount wins
    (so ``route 66 dental 700`` is 700 from Route 66 Dental, not 66 from "route"). When that
    amount or its date cannot be taken as written, the user hears why."""
    splits = [
        (i, reading)
        for i in name_ends(tokens, MAX_NAME_LENGTH)
        if (reading := _reading_at(tokens, i, today)) is not None
    ]
    if not splits:
        said = f" I read the customer as {quote(phrase(tokens))}." if tokens else ""
        return Refusal(f"I need a customer, then the amount it paid.{said}")
    shortest_problem: Refusal | None = None
    for i, reading in reversed(splits):
        customer = resolve_customer(session, phrase(tokens[:i]))
        if isinstance(customer, Refusal):
            shortest_problem = customer
            continue
        if isinstance(reading, Refusal):
            return reading.with_understood(f"customer {describe(customer)}")
        return customer, reading
    return shortest_problem or Refusal("which customer? Name it by its ERP id or by part of its name")


def _reading_at(tokens: list[Token], i: int, today: date) -> _Reading | Refusal | None:
    """The amount starting at word ``i`` and the date after it; None if word ``i`` is no amount."""
    for width in amount_widths(tokens, i):
        amount = read_amount(phrase(tokens[i : i + width]))
        if amount is None:
            continue
        if isinstance(amount, Refusal):
            return amount
        return _day_after(tokens, i + width, amount, today)
    return None


def _day_after(tokens: list[Token], j: int, amount: Amount, today: date) -> _Reading | Refusal:
    """The longest run of up to three words after the amount that reads as a date, if any."""
    for width in (3, 2, 1):
        words = tokens[j : j + width]
        if len(words) < width or any(t.quoted for t in words):
            continue
        day = read_paid_day(phrase(words), today)
        if isinstance(day, Refusal):
            return day.with_understood(f"amount {format_money(amount.value, amount.currency or 'USD')}")
        if day is not None:
            return _Reading(amount, day, phrase(words), j + width)
    return _Reading(amount, None, "", j)


def read_paid_day(text: str, today: date) -> date | Refusal | None:
    """A day a payment was made, read looking back from ``today``; None if it is no date."""
    cleaned = re.sub(r"\s+", " ", text.lower().replace(",", " ")).strip().rstrip(".")
    cleaned = re.sub(r"^on ", "", cleaned)
    if cleaned == "yesterday":
        return today - timedelta(days=1)
    last, _, name = cleaned.rpartition(" ")
    if name in WEEKDAYS and last in ("", "last"):
        back = (today.weekday() - WEEKDAYS[name]) % 7
        return today - timedelta(days=back or (7 if last else 0))
    day = read_date(cleaned, today)
    if isinstance(day, date) and day > today and _YEARLESS.fullmatch(cleaned):
        try:
            return day.replace(year=day.year - 1)
        except ValueError:  # 29 Feb: no such day the year before
            return day
    return day


def _check_day(reading: _Reading, today: date) -> Refusal | None:
    if reading.day is None:
        return None
    return check_paid_day(reading.day, today, f"I read {quote(reading.day_text)} as {format_day(reading.day)}")


def _method_and_reference(tokens: list[Token]) -> tuple[str | None, str | None]:
    """A method as people name it first ("zelle", "via wire", "by check", "credit card"), if
    there is one; everything else is the reference."""
    method = None
    lead = 1 if tokens and not tokens[0].quoted and tokens[0].lower in ("via", "by", "with") else 0
    for width in (2, 1):
        words = tokens[lead : lead + width]
        if len(words) == width and not any(t.quoted for t in words):
            method = METHOD_WORDS.get(" ".join(t.lower for t in words))
            if method is not None:
                tokens = tokens[lead + width :]
                break
    reference = clean_text(phrase(tokens)).strip()
    return method, reference or None


def handle(request: PaymentClaim, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    return request_confirmation(session, ctx, claim=request, actor=actor)


paid_button = typing_hint(
    "Tell finance {customer} paid",
    (f"Type: {USAGE}", "Example: paid <customer> 1,200 yesterday wire FED-REF 8841"),
)
paid_form = form_submission(PAID, read_paid, handle)


COMMAND = Command(
    name="paid",
    usage=USAGE,
    parse=parse,
    handle=handle,
    summary=(
        "The customer says it paid: asks finance to confirm the money arrived "
        f"(method: {', '.join(METHODS)}; --urgent when a hold blocks release or scheduling)."
    ),
    examples=(
        "paid acme dental 1,200",
        "paid C100 1200 fri wire FED-REF 8841",
        'paid "Summit Ortho, P.C." 1,500 11/20 check 10233 --urgent',
    ),
    try_it="paid <customer> <amount> today wire",
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
    registry.add_action(ButtonAction("paid", paid_button))
    registry.add_action(ButtonAction(PAID.action or "form.paid", paid_form))
