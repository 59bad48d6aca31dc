"""The small ledger the chat tests talk to (two "Acme"s, a name with a comma, names with digits,
% and _, a euro customer and one with nothing open; today is Mon 23 Nov 2026), and helpers to talk
to it as a person would."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, select

from commands.context import AppContext
from commands.messages import Action, ChatUser, Incoming, Reply, Tone, Where
from commands.router import handle
from storage.models import (
    Activity,
    ActivityKind,
    Base,
    Customer,
    Dispute,
    Hold,
    Invoice,
    InvoiceKind,
    Outcome,
    Promise,
    PromiseStatus,
    TeamMember,
)

DANA = "dana.reyes@example.com"


PRIYA = "priya.shah@example.com"  # finance, not a collector


CREATED = datetime(2026, 10, 1, tzinfo=UTC)


# erp id, name, currency, collector, [(number, kind, due date, open balance)]
CUSTOMERS = [
    (
        "C100",
        "Acme Dental Group",
        "USD",
        DANA,
        [
            ("INV-1", InvoiceKind.STANDARD, date(2026, 10, 1), "1000.00"),  # 53 days: 31-60
            ("INV-2", InvoiceKind.RECURRING, date(2026, 11, 30), "500.00"),  # current
            ("INV-3", InvoiceKind.FINAL, date(2026, 8, 1), "2000.00"),  # 114 days: 90+
            ("CM-1", InvoiceKind.CREDIT_MEMO, date(2026, 11, 10), "-250.00"),  # 13 days: 1-30
            ("INV-4", InvoiceKind.STANDARD, date(2026, 9, 1), "100.10"),  # 83 days: 61-90
        ],
    ),
    ("C200", "Acme Ortho", "USD", DANA, [("A-1", InvoiceKind.STANDARD, date(2026, 11, 1), "800.00")]),
    ("C300", "Summit Ortho, P.C.", "USD", DANA, [("S-1", InvoiceKind.STANDARD, date(2026, 11, 2), "1500.00")]),
    ("C400", "Route 66 Dental", "USD", DANA, [("R-1", InvoiceKind.STANDARD, date(2026, 11, 3), "700.00")]),
    ("C500", "100% Smiles_Co", "USD", None, [("P-1", InvoiceKind.STANDARD, date(2026, 11, 4), "90.00")]),
    ("C501", "100 Smiles Co", "USD", None, [("P-2", InvoiceKind.STANDARD, date(2026, 11, 4), "95.00")]),
    ("C600", "Zenith Labs", "EUR", None, [("Z-1", InvoiceKind.STANDARD, date(2026, 11, 5), "900.00")]),
    ("C700", "Paid Up LLC", "USD", None, []),
]


def seed_world(ctx: AppContext) -> dict[str, int]:
    """The ledger above, with one open promise (Summit, Tue 1 Dec), an active hold and an open
    dispute on Acme Dental, and one earlier call. Returns erp id -> customer id."""
    with ctx.sessions.begin() as session:
        members = {m.email: m.id for m in session.scalars(select(TeamMember))}
        ids = {}
        for erp_id, name, currency, collector, items in CUSTOMERS:
            customer = Customer(
                erp_id=erp_id,
                name=name,
                currency=currency,
                created_at=CREATED,
                collector_id=members.get(collector or ""),
            )
            session.add(customer)
            session.flush()
            ids[erp_id] = customer.id
            for number, kind, due, balance in items:
                session.add(
                    Invoice(
                        customer_id=customer.id,
                        number=number,
                        kind=kind,
                        due_date=due,
                        amount=Decimal(balance),
                        open_balance=Decimal(balance),
                        currency=currency,
                    )
                )
        session.add(
            Promise(
                customer_id=ids["C300"],
                member_id=members[DANA],
                amount=Decimal("300.00"),
                promised_date=date(2026, 12, 1),
                status=PromiseStatus.OPEN,
                note="check in the mail",
                created_at=CREATED,
            )
        )
        session.add(
            Hold(
                customer_id=ids["C100"],
                reason="final invoice over 90 days",
                placed_by_id=members[DANA],
                placed_at=datetime(2026, 11, 20, 16, tzinfo=UTC),
            )
        )
        session.add(
            Dispute(
                customer_id=ids["C100"],
                amount=Decimal("100.10"),
                reason="INV-4 billed twice",
                opened_by_id=members[DANA],
                opened_at=datetime(2026, 11, 18, 15, tzinfo=UTC),
            )
        )
        session.add(
            Activity(
                customer_id=ids["C100"],
                member_id=members[DANA],
                kind=ActivityKind.CALL,
                outcome=Outcome.NO_ANSWER,
                occurred_at=datetime(2026, 11, 20, 15, 30, tzinfo=UTC),
            )
        )
    return ids


def say(ctx: AppContext, text: str, *, email: str | None = DANA) -> list[Reply]:
    user = ChatUser(platform="test", user_id=email or "anon", email=email)
    return handle(ctx, Incoming(user=user, where=Where(channel="C-test"), text=text))


def press(ctx: AppContext, name: str, value: dict, *, email: str = DANA) -> list[Reply]:
    user = ChatUser(platform="test", user_id=email, email=email)
    return handle(ctx, Incoming(user=user, where=Where(channel="C-test"), action=Action(name, value)))


def row_counts(ctx: AppContext) -> dict[str, int]:
    """Rows in every table: equal before and after means nothing was written."""
    tables = Base.metadata.sorted_tables
    counts = select(*(select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables))
    with ctx.sessions() as session:
        return dict(session.execute(counts).one()._mapping)


def refused(replies: list[Reply]) -> Reply:
    """The single refusal a user gets; fails when the reply is anything else."""
    assert len(replies) == 1, replies
    reply = replies[0]
    assert reply.tone is Tone.ERROR and reply.private, reply
    assert "Something went wrong" not in reply.title, reply
    return reply


def field(reply: Reply, label: str) -> str:
    return next(f.value for f in reply.fields if f.label == label)
