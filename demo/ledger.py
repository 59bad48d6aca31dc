"""The demo's ledger: customers, their invoices, and the payments that closed the paid ones.

Each customer gets a payer profile that decides how late it pays. An invoice is open on the
anchor day only if its payment day has not come yet, so the aging buckets fall out of payer
behaviour (prompt payers show current items, delinquent ones reach 90+) instead of being
painted on, and the closed invoices are a believable payment history."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from demo.names import contacts
from demo.timeline import Timeline
from storage.models import Contact, Customer, Invoice, InvoiceKind, Payment
from storage.types import from_cents

# Stories some customers are cast in so the list always has every case to show.
REGULAR, CREDIT, MRR_BEHIND, FINAL_DUE, HOLD, PLAN = "", "credit", "mrr-behind", "final-due", "hold", "plan"
BROKE_PROMISE, PROMISED, DISPUTING, REACHED, TRIED = "broke-promise", "promised", "disputing", "reached", "tried"
# Parts played about money already past due: these accounts get an invoice 8-50 days late.
CHASED = (BROKE_PROMISE, PROMISED, DISPUTING, REACHED, TRIED)

INDUSTRIES = (("healthcare", 0.40), ("legal", 0.20), ("construction", 0.18), ("lab", 0.12), ("services", 0.10))
# Chance a customer of the industry is billed monthly (MRR), on retainer, or with a final invoice.
BILLING = {
    "healthcare": (0.35, 0.05, 0.10),
    "legal": (0.10, 0.60, 0.35),
    "construction": (0.05, 0.15, 0.60),
    "lab": (0.50, 0.05, 0.05),
    "services": (0.40, 0.10, 0.20),
}
# Segment, share of customers, median invoice in dollars, payment terms in days.
SEGMENTS = (
    ("SMB", 0.68, 850, (15, 30, 30)),
    ("mid-market", 0.25, 6_500, (30,)),
    ("enterprise", 0.07, 38_000, (30, 45, 60)),
)
PROFILES = (("prompt", 0.45), ("slow", 0.37), ("delinquent", 0.18))
METHODS = (("ACH", 0.55), ("check", 0.25), ("wire", 0.10), ("card", 0.10))
NUMBER_PREFIX = {InvoiceKind.CREDIT_MEMO: "CM", InvoiceKind.UNAPPLIED_PAYMENT: "PMT"}


@dataclass
class Account:
    """One customer while the demo is being written: its rows and the story it plays."""

    customer: Customer
    industry: str
    profile: str
    story: str
    typical_cents: int
    terms: int
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)

    def bind(self) -> None:
        """Point the rows at the customer once the database has given it an id."""
        rows: list[Invoice | Payment] = [*self.invoices, *self.payments]
        for row in rows:
            row.customer_id = self.customer.id

    def past_due(self, anchor: date) -> list[Invoice]:
        """Open positive items due before ``anchor``, oldest first."""
        items = [i for i in self.invoices if i.closed_on is None and i.amount > 0 and i.due_date < anchor]
        return sorted(items, key=lambda i: (i.due_date, i.number))

    def balance(self) -> Decimal:
        return sum((i.open_balance for i in self.invoices if i.closed_on is None), Decimal("0.00"))


def weighted(rng: random.Random, options: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    """Pick one row of ``options`` by its second field (its weight)."""
    return rng.choices(options, weights=[o[1] for o in options])[0]


def cast_stories(rng: random.Random, count: int) -> list[str]:
    """Which customers play which part; the rest are regular accounts."""
    cast = (
        [CREDIT] * max(3, count // 100)
        + [MRR_BEHIND] * max(3, count // 60)
        + [FINAL_DUE] * max(3, count // 60)
        + [HOLD, PLAN]
        + [BROKE_PROMISE] * max(3, count // 60)
        + [PROMISED] * max(4, count // 35)
        + [DISPUTING] * 2
        + [REACHED] * 2
        + [TRIED] * 2
    )
    stories = [REGULAR] * count
    for index, story in zip(rng.sample(range(count), len(cast)), cast, strict=True):
        stories[index] = story
    return stories


def open_account(
    rng: random.Random, t: Timeline, erp_id: str, name: str, industry: str, story: str, collector_id: int | None
) -> Account:
    """The customer row with its two contacts, a segment and a payer profile."""
    segment, _, median, terms = weighted(rng, SEGMENTS)
    customer = Customer(
        erp_id=erp_id,
        name=name,
        collector_id=collector_id,
        segment=segment,
        currency="USD",
        created_at=t.at(t.days_ago(rng.randint(200, 2400)), 9),
        contacts=[
            Contact(name=p.name, title=p.title, email=p.email, phone=p.phone, is_primary=(i == 0))
            for i, p in enumerate(contacts(rng, name, industry))
        ],
    )
    # Some parts need a payer habit: a good payer gone quiet (MRR behind), a plan customer who
    # pays new invoices on time while the old debt goes through the plan.
    fixed = {CREDIT: "prompt", MRR_BEHIND: "prompt", HOLD: "delinquent", PLAN: "prompt"}
    profile = fixed[story] if story in fixed else weighted(rng, PROFILES)[0]
    typical = int(median * 100 * rng.lognormvariate(0, 0.7))
    return Account(customer, industry, profile, story, typical, rng.choice(terms))


def bill(rng: random.Random, t: Timeline, a: Account) -> None:
    """Issue the account's invoices (8-15 of them) and settle the ones paid before the anchor."""
    if a.story == CREDIT:
        for _ in range(rng.randint(6, 11)):
            _standard(rng, t, a, age=rng.randint(90, 300))
        kind = rng.choice((InvoiceKind.CREDIT_MEMO, InvoiceKind.UNAPPLIED_PAYMENT))
        _credit(rng, t, a, kind, int(a.typical_cents * rng.uniform(0.4, 1.5)), stays_open=True)
        return
    if a.story == MRR_BEHIND:
        months = rng.randint(5, 8)
        _recurring(rng, t, a, months, behind=rng.randint(2, 3))
        _regular(rng, t, a, slots=rng.randint(8, 15) - months)
        return
    if a.story == FINAL_DUE:
        due = t.business_days_ago(rng.randint(1, 5))
        _invoice(a, InvoiceKind.FINAL, due - timedelta(days=15), due, _amount(rng, a.typical_cents * 2))
    elif a.story in CHASED:
        due = t.days_ago(rng.randint(8, 50))
        _invoice(a, InvoiceKind.STANDARD, due - timedelta(days=a.terms), due, _amount(rng, a.typical_cents))
    elif a.story in (HOLD, PLAN):
        for _ in range(rng.randint(2, 3) if a.story == HOLD else 3):
            due = t.days_ago(rng.randint(95, 160) if a.story == HOLD else rng.randint(60, 120))
            _invoice(a, InvoiceKind.STANDARD, due - timedelta(days=a.terms), due, _amount(rng, a.typical_cents))
    _regular(rng, t, a, slots=rng.randint(6, 12))


def _regular(rng: random.Random, t: Timeline, a: Account, slots: int) -> None:
    """The everyday mix for the customer's industry: MRR series, retainers, finals, credits."""
    mrr, retainer, final = BILLING[a.industry]
    if a.story != MRR_BEHIND and rng.random() < mrr and slots >= 6:
        months = rng.randint(4, min(9, slots - 2))
        _recurring(rng, t, a, months, behind=0)
        slots -= months
    if rng.random() < retainer:
        issue = t.workday(t.days_ago(rng.randint(1, 150)))
        _settle(
            rng,
            t,
            a,
            _invoice(
                a,
                InvoiceKind.RETAINER,
                issue,
                issue + timedelta(days=rng.choice((0, 7, 10))),
                _amount(rng, a.typical_cents * 2),
            ),
        )
        slots -= 1
    if rng.random() < final:
        issue = t.workday(t.days_ago(rng.randint(10, 180)))
        _settle(
            rng,
            t,
            a,
            _invoice(a, InvoiceKind.FINAL, issue, issue + timedelta(days=15), _amount(rng, a.typical_cents * 2)),
        )
        slots -= 1
    if rng.random() < 0.14:
        _credit(
            rng,
            t,
            a,
            InvoiceKind.CREDIT_MEMO,
            int(a.typical_cents * rng.uniform(0.1, 0.35)),
            stays_open=rng.random() < 0.6,
        )
        slots -= 1
    if rng.random() < 0.06 and a.story not in CHASED:  # keep their net balance owed
        _credit(rng, t, a, InvoiceKind.UNAPPLIED_PAYMENT, _amount(rng, a.typical_cents), stays_open=True)
        slots -= 1
    for _ in range(max(slots, 2)):
        _standard(rng, t, a, age=rng.randint(0, 210))


def _standard(rng: random.Random, t: Timeline, a: Account, age: int) -> None:
    issue = t.workday(t.days_ago(age))
    invoice = _invoice(a, InvoiceKind.STANDARD, issue, issue + timedelta(days=a.terms), _amount(rng, a.typical_cents))
    _settle(rng, t, a, invoice)


def _recurring(rng: random.Random, t: Timeline, a: Account, months: int, behind: int) -> None:
    """A monthly series issued on the 1st, net 30. ``behind`` forces the latest past-due months
    to stay unpaid: the two-or-more-months-of-MRR red flag."""
    fee = _amount(rng, a.typical_cents // 2)
    issues = [_months_back(t.anchor.replace(day=1), k) for k in reversed(range(months))]
    past_due = [d for d in issues if d + timedelta(days=30) < t.anchor]
    unpaid = set(past_due[-behind:]) if behind else set()
    for issue in issues:
        invoice = _invoice(a, InvoiceKind.RECURRING, issue, issue + timedelta(days=30), fee)
        if issue not in unpaid:
            _settle(rng, t, a, invoice)


def _credit(rng: random.Random, t: Timeline, a: Account, kind: InvoiceKind, cents: int, stays_open: bool) -> None:
    """Credit memos and unapplied payments: negative open items. An unapplied payment is money
    that arrived without remittance advice, so it also has a payment row."""
    day = t.business_days_ago(rng.randint(2, 90))
    item = _invoice(a, kind, day, day, -cents)
    if kind == InvoiceKind.UNAPPLIED_PAYMENT:
        a.payments.append(_payment(rng, t, from_cents(cents), day))
        if rng.random() < 0.3:  # partly applied already
            item.open_balance = from_cents(-int(cents * rng.uniform(0.3, 0.7)))
    elif not stays_open:
        applied = t.workday(day + timedelta(days=rng.randint(3, 30)))
        if applied < t.anchor:
            item.open_balance, item.closed_on = Decimal("0.00"), applied


def _settle(rng: random.Random, t: Timeline, a: Account, invoice: Invoice) -> None:
    """Close the invoice if this payer would have paid it before the anchor, else leave it open
    (sometimes with a partial payment already received)."""
    due, issued = invoice.due_date, invoice.issue_date
    if due is None or issued is None:  # never so here: the generator dates every invoice it makes
        return
    late = _lateness(rng, a.profile)
    if late is not None:
        paid = t.workday(max(due + timedelta(days=late), issued + timedelta(days=1)))
        if paid < t.anchor:
            invoice.open_balance, invoice.closed_on = Decimal("0.00"), paid
            a.payments.append(_payment(rng, t, invoice.amount, paid))
            return
    overdue = (t.anchor - due).days
    if overdue > 2 and rng.random() < 0.15:
        part = from_cents(int(round(int(invoice.amount * 100) * rng.uniform(0.2, 0.7), -2)))
        if Decimal("0") < part < invoice.amount:
            invoice.open_balance = invoice.amount - part
            received = t.workday(due + timedelta(days=rng.randint(0, overdue - 2)))
            a.payments.append(_payment(rng, t, part, min(received, t.business_days_ago(1))))


def _lateness(rng: random.Random, profile: str) -> int | None:
    """Days after the due date the payer pays; None for an invoice it is not paying at all."""
    if profile == "prompt":
        return max(-10, min(20, round(rng.gauss(-1, 5))))
    if profile == "slow":
        return None if rng.random() < 0.04 else 3 + round(rng.expovariate(1 / 22))
    return None if rng.random() < 0.22 else 15 + round(rng.expovariate(1 / 55))


def _invoice(a: Account, kind: InvoiceKind, issue: date, due: date, cents: int) -> Invoice:
    amount = from_cents(cents)
    invoice = Invoice(
        number="", kind=kind, issue_date=issue, due_date=due, amount=amount, open_balance=amount, currency="USD"
    )
    a.invoices.append(invoice)
    return invoice


def _payment(rng: random.Random, t: Timeline, amount: Decimal, day: date) -> Payment:
    method = weighted(rng, METHODS)[0]
    reference = {
        "ACH": f"ACH {rng.randint(100000, 999999)}",
        "check": f"CHK {rng.randint(1001, 9999)}",
        "wire": f"FED {rng.randint(10**7, 10**8 - 1)}",
        "card": f"VISA x{rng.randint(1000, 9999)}",
    }
    return Payment(
        amount=amount,
        received_on=day,
        method=method,
        reference=reference[method],
        source="import",
        created_at=t.at(day, 17, 30),
    )


def _amount(rng: random.Random, typical_cents: int) -> int:
    """Invoice sizes are log-normal around the customer's typical invoice: many small, a few large."""
    return max(5_000, int(typical_cents * rng.lognormvariate(0, 0.45)))


def _months_back(first: date, months: int) -> date:
    year, month = divmod(first.year * 12 + first.month - 1 - months, 12)
    return date(year, month + 1, 1)


def number_invoices(accounts: list[Account], start: int = 240_001) -> None:
    """One company-wide sequence in issue-date order, as an ERP numbers them."""
    rows = [(inv.issue_date, i, j, inv) for i, a in enumerate(accounts) for j, inv in enumerate(a.invoices)]
    rows.sort(key=lambda row: row[:3])
    for number, (*_, invoice) in enumerate(rows, start=start):
        invoice.number = f"{NUMBER_PREFIX.get(invoice.kind, 'INV')}-{number}"
