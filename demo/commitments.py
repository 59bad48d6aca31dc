"""What customers have committed to and what the team has decided: promises to pay (kept,
broken, open), disputes, holds and a payment plan.

Each is tied to real rows of the ledger (a kept promise to the invoice its payment closed, a
hold to the account's 90+ invoices, the plan to the debt it spreads) so every card the bot
shows about a demo account adds up."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from demo.activities import call, money, short
from demo.ledger import METHODS, Account, weighted
from demo.timeline import Timeline
from storage.models import (
    Base,
    Dispute,
    DisputeStatus,
    Hold,
    HoldStatus,
    Invoice,
    Payment,
    PaymentPlan,
    PlanInstalment,
    PlanStatus,
    Promise,
    PromiseStatus,
)
from storage.types import from_cents

RESOLUTIONS = (
    "Proof of delivery sent; customer withdrew the dispute and paid",
    "Signed timesheets provided; customer accepted the invoice",
    "Corrected PO number on the invoice; paid in full",
)


def kept_promises(rng: random.Random, t: Timeline, accounts: list[Account], count: int) -> list[Base]:
    """Late invoices that were paid by the day the customer promised: the promise history."""
    pool = [
        (a, inv, closed, due)
        for a in accounts
        for inv in a.invoices
        if (closed := inv.closed_on)
        and (due := inv.due_date)
        and inv.amount > 0
        and closed > due
        and 5 <= (t.anchor - closed).days <= 90
    ]
    rows: list[Base] = []
    for a, inv, closed, due in rng.sample(pool, min(count, len(pool))):
        made = max(t.calendar.add_business_days(closed, -rng.randint(2, 8)), t.workday(due))
        promised = t.workday(closed + timedelta(days=rng.choice((0, 0, 1, 2))))
        at = t.at(made, rng.randint(9, 16), rng.randint(0, 59))
        note = f"{inv.number} {money(inv.amount)} by {short(promised)}"
        rows += [
            _promise(a, inv.amount, promised, at, note, PromiseStatus.KEPT, inv.amount, inv.closed_on),
            call(a, at, f"Promised {note}"),
        ]
    return rows


def broken_promises(rng: random.Random, t: Timeline, accounts: list[Account]) -> list[Base]:
    """Promises whose day (and a business day of grace) passed a few days ago with no money,
    each from a customer who had already broken one the month before."""
    rows: list[Base] = []
    for a in accounts:
        items = a.past_due(t.anchor)[: rng.randint(1, 2)]
        amount = sum((i.open_balance for i in items), Decimal("0.00"))
        numbers = ", ".join(i.number for i in items)
        for promised in (t.business_days_ago(rng.randint(25, 35)), t.business_days_ago(rng.randint(3, 7))):
            at = t.at(
                t.calendar.add_business_days(promised, -rng.randint(3, 6)), rng.randint(9, 16), rng.randint(0, 59)
            )
            note = f"{numbers} {money(amount)} by {short(promised)}"
            settled = t.calendar.add_business_days(promised, 2)
            rows += [
                _promise(a, amount, promised, at, note, PromiseStatus.BROKEN, Decimal("0.00"), settled),
                call(a, at, f"Promised {note}"),
            ]
    return rows


def open_promises(rng: random.Random, t: Timeline, accounts: list[Account]) -> list[Base]:
    """Promises made this week for a day still ahead: these accounts rest until then."""
    rows: list[Base] = []
    for a in accounts:
        amount = sum((i.open_balance for i in a.past_due(t.anchor)), Decimal("0.00"))
        promised = t.business_days_ahead(rng.randint(1, 8))
        at = t.at(t.business_days_ago(rng.randint(1, 4)), rng.randint(9, 16), rng.randint(0, 59))
        note = f"full past-due balance {money(amount)} by {short(promised)}"
        rows += [
            _promise(a, amount, promised, at, note, PromiseStatus.OPEN, Decimal("0.00"), None),
            call(a, at, f"Promised {note}"),
        ]
    return rows


def _promise(
    a: Account,
    amount: Decimal,
    promised: date,
    at: datetime,
    note: str,
    status: PromiseStatus,
    paid: Decimal,
    settled: date | None,
) -> Promise:
    return Promise(
        customer_id=a.customer.id,
        member_id=a.customer.collector_id,
        amount=amount,
        promised_date=promised,
        paid_amount=paid,
        status=status,
        note=note,
        created_at=at,
        settled_on=settled,
    )


def open_disputes(rng: random.Random, t: Timeline, accounts: list[Account]) -> list[Base]:
    """One whole invoice contested, one partly: the disputed amount leaves collection."""
    rows: list[Base] = []
    for n, a in enumerate(accounts):
        inv = a.past_due(t.anchor)[0]
        if n % 2 == 0:
            amount, reason = inv.open_balance, "Customer says the work billed on this invoice was never completed"
        else:
            share = int(round(int(inv.open_balance * 100) * rng.uniform(0.15, 0.4), -2))
            amount = max(from_cents(share), Decimal("1.00"))
            reason = "Quantity billed does not match the signed purchase order"
        at = t.at(t.business_days_ago(rng.randint(3, 12)), 10, rng.randint(0, 59))
        rows += [
            Dispute(
                customer_id=a.customer.id,
                invoice_id=inv.id,
                amount=amount,
                reason=reason,
                status=DisputeStatus.OPEN,
                opened_by_id=a.customer.collector_id,
                opened_at=at,
            ),
            call(a, at, f"Disputes {money(amount)} of {inv.number}: {reason.lower()}"),
        ]
    return rows


def resolved_disputes(rng: random.Random, t: Timeline, accounts: list[Account], count: int) -> list[Base]:
    """Settled disputes on paid invoices, so dispute cycle time has history to measure."""
    pool = [
        (a, inv, closed, issued)
        for a in accounts
        for inv in a.invoices
        if (closed := inv.closed_on) and (issued := inv.issue_date) and inv.amount > 0 and (closed - issued).days > 25
    ]
    rows: list[Base] = []
    for a, inv, closed, issued in rng.sample(pool, min(count, len(pool))):
        opened = t.workday(max(closed - timedelta(days=rng.randint(10, 25)), issued))
        rows.append(
            Dispute(
                customer_id=a.customer.id,
                invoice_id=inv.id,
                amount=inv.amount,
                reason="Customer questioned the charges",
                status=DisputeStatus.RESOLVED,
                opened_by_id=a.customer.collector_id,
                opened_at=t.at(opened, 11),
                resolved_at=t.at(closed, 15),
                outcome=rng.choice(RESOLUTIONS),
            )
        )
    return rows


def active_hold(rng: random.Random, t: Timeline, a: Account, approver: int | None) -> Hold:
    """A stop on the account whose debt is past 90 days, with the reason the team gave."""
    old = [i for i in a.past_due(t.anchor) if (t.anchor - i.due_date).days > 90]
    total = sum((i.open_balance for i in old), Decimal("0.00"))
    return Hold(
        customer_id=a.customer.id,
        status=HoldStatus.ACTIVE,
        placed_by_id=approver,
        reason=f"{len(old)} invoices over 90 days past due ({money(total)}); "
        "product release stopped until paid or released by leadership",
        placed_at=t.at(t.business_days_ago(rng.randint(5, 12)), 11, 15),
    )


def payment_plan(
    rng: random.Random, t: Timeline, a: Account, approver: int | None, hold_approver: int | None
) -> list[Base]:
    """Four monthly instalments over the account's old debt, every one due so far paid on time.
    The hold that preceded the plan was released when the plan was approved."""
    start = t.business_days_ago(32)
    debt = [i for i in a.past_due(t.anchor) if i.due_date < start]
    total = sum((i.open_balance for i in debt), Decimal("0.00"))
    cents = int(total * 100)
    shares = [cents // 4] * 3 + [cents - 3 * (cents // 4)]
    plan = PaymentPlan(
        customer_id=a.customer.id,
        total=total,
        cadence="monthly",
        status=PlanStatus.ACTIVE,
        approved_by_id=approver,
        created_at=t.at(start, 14),
    )
    rows: list[Base] = [
        plan,
        Hold(
            customer_id=a.customer.id,
            status=HoldStatus.RELEASED,
            placed_by_id=hold_approver,
            reason="Past-due balance unpaid after repeated calls; scheduling stopped",
            placed_at=t.at(t.workday(start - timedelta(days=rng.randint(15, 25))), 10),
            released_by_id=approver,
            released_at=t.at(start, 14, 30),
            release_reason="Payment plan approved by finance management",
        ),
    ]
    for n, share in enumerate(shares):
        due = t.workday(start + timedelta(days=14 + 30 * n))
        instalment = PlanInstalment(due_date=due, amount=from_cents(share), paid_amount=Decimal("0.00"), status="due")
        plan.instalments.append(instalment)
        if due < t.anchor:
            instalment.paid_amount, instalment.status = instalment.amount, "paid"
            rows.append(_pay_down(rng, t, a, debt, instalment.amount, due, f"PLAN {n + 1}/4"))
    return rows


def _pay_down(
    rng: random.Random, t: Timeline, a: Account, debt: list[Invoice], amount: Decimal, day: date, reference: str
) -> Payment:
    """Apply a plan payment to the oldest debt first, closing what it covers."""
    left = amount
    for inv in debt:
        if left <= 0:
            break
        applied = min(left, inv.open_balance)
        inv.open_balance -= applied
        left -= applied
        if inv.open_balance == 0:
            inv.closed_on = day
    return Payment(
        customer_id=a.customer.id,
        amount=amount,
        received_on=day,
        method=weighted(rng, METHODS)[0],
        reference=reference,
        source="import",
        created_at=t.at(day, 17, 30),
    )
