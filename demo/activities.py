"""The collectors' log for the last three weeks, and this morning's first calls.

History makes the account cards look worked (calls, voicemails, emails, each with an
outcome); the morning entries put a few accounts in the states the call list must respect:
already reached today, and tried three times today without reaching anyone. The demo pictures
the anchor day at about 9:00, so those calls are logged between 8:00 and 8:50 local time (on a
weekend that is the coming Monday morning, the day the list is for)."""

from __future__ import annotations

import random
from datetime import date, datetime
from decimal import Decimal

from demo.ledger import Account, weighted
from demo.timeline import Timeline
from storage.models import Activity, ActivityKind, Invoice, Outcome

CALL, VOICEMAIL, EMAIL = ActivityKind.CALL, ActivityKind.VOICEMAIL, ActivityKind.EMAIL
TOUCHES = (
    ((CALL, Outcome.REACHED), 0.18),
    ((CALL, Outcome.NO_ANSWER), 0.20),
    ((VOICEMAIL, Outcome.VOICEMAIL), 0.22),
    ((CALL, Outcome.WRONG_NUMBER), 0.02),
    ((CALL, Outcome.REFUSED), 0.03),
    ((EMAIL, Outcome.EMAIL_SENT), 0.35),
)
NOTES = {
    Outcome.REACHED: (
        "Spoke with {first}; {inv} is in this week's check run",
        "Spoke with {first}; sent a copy of {inv} at their request",
        "{first} says {inv} is waiting on sign-off from the {title}",
    ),
    Outcome.NO_ANSWER: ("No answer on the AP line", "Rang out, no voicemail box"),
    Outcome.VOICEMAIL: ("Left voicemail for {first} about {inv} ({amount} past due)",),
    Outcome.WRONG_NUMBER: ("Number reaches a different office; asked for the current AP contact",),
    Outcome.REFUSED: ("{first} would not discuss {inv} until the {title} is back",),
    Outcome.EMAIL_SENT: (
        "Emailed statement and a copy of {inv} to {email}",
        "Emailed past-due reminder for {inv} ({amount})",
    ),
}


def history(rng: random.Random, t: Timeline, accounts: list[Account]) -> list[Activity]:
    """Touches over the last 15 business days on every account with something past due; the
    older the debt, the more it has been worked."""
    rows: list[Activity] = []
    for a in accounts:
        items = a.past_due(t.anchor)
        if not items or a.balance() <= 0:
            continue
        oldest = (t.anchor - items[0].due_date).days
        lo, hi = (0, 1) if oldest <= 5 else (1, 3) if oldest <= 30 else (2, 5)
        for _ in range(rng.randint(lo, hi)):
            kind, outcome = weighted(rng, TOUCHES)[0]
            day = t.business_days_ago(rng.randint(1, 15))
            when = t.at(day, rng.randint(8, 16), rng.randint(0, 59))
            rows.append(_entry(rng, a, kind, outcome, when, rng.choice(items)))
    return rows


def reached_this_morning(rng: random.Random, t: Timeline, accounts: list[Account]) -> list[Activity]:
    """Accounts a collector already got through to on the anchor day, before 9:00."""
    return [
        _entry(rng, a, CALL, Outcome.REACHED, t.at(t.anchor, 8, rng.randint(5, 45)), a.past_due(t.anchor)[0])
        for a in accounts
    ]


def tried_three_times(rng: random.Random, t: Timeline, accounts: list[Account]) -> list[Activity]:
    """Three unanswered calls on the anchor day: the daily call limit is used up."""
    rows = []
    for a in accounts:
        item = a.past_due(t.anchor)[0]
        for minute, outcome in ((2, Outcome.NO_ANSWER), (21, Outcome.VOICEMAIL), (47, Outcome.NO_ANSWER)):
            rows.append(_entry(rng, a, CALL, outcome, t.at(t.anchor, 8, minute), item))
    return rows


def call(a: Account, when: datetime, note: str) -> Activity:
    """A reached call with a note written by the caller (a promise, a dispute)."""
    return Activity(
        customer_id=a.customer.id,
        member_id=a.customer.collector_id,
        kind=CALL,
        outcome=Outcome.REACHED,
        contact_name=a.customer.contacts[0].name,
        note=note,
        occurred_at=when,
    )


def _entry(
    rng: random.Random, a: Account, kind: ActivityKind, outcome: Outcome, when: datetime, item: Invoice
) -> Activity:
    contact = a.customer.contacts[0] if rng.random() < 0.8 else a.customer.contacts[1]
    boss = a.customer.contacts[1]
    note = rng.choice(NOTES[outcome]).format(
        first=contact.name.split()[0],
        inv=item.number,
        amount=money(item.open_balance),
        title=(boss.title or "controller").lower(),
        email=contact.email,
    )
    return Activity(
        customer_id=a.customer.id,
        member_id=a.customer.collector_id,
        kind=kind,
        outcome=outcome,
        contact_name=contact.name,
        note=note,
        occurred_at=when,
    )


def money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def short(day: date) -> str:
    return f"{day:%a %b} {day.day}"
