"""A file is the full list of open items as of its date: a later snapshot closes what disappeared,
records what was paid, settles promises, updates what changed and assigns owners."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from commands.context import AppContext
from commands.importing import import_aging_file
from storage.models import AuditEvent, Customer, Invoice, InvoiceKind, Payment, Promise, PromiseStatus, TeamMember

HEADER = "Customer ID,Customer Name,Invoice No.,Invoice Type,Due Date,Original Amount,Amount Due\n"
FRIDAY, MONDAY = date(2026, 11, 20), date(2026, 11, 23)


def _file(tmp_path: Path, name: str, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + "".join(row + "\n" for row in rows))
    return path


def _promise(ctx: AppContext, erp_id: str, amount: str, promised: date) -> int:
    with ctx.sessions.begin() as session:
        customer = session.scalars(select(Customer).where(Customer.erp_id == erp_id)).one()
        promise = Promise(
            customer_id=customer.id,
            amount=Decimal(amount),
            promised_date=promised,
            created_at=datetime(2026, 11, 16, tzinfo=UTC),
        )
        session.add(promise)
        session.flush()
        return promise.id


FIRST = [
    "A,Acme Dental,A1,Standard,2026-11-10,100.00,100.00",
    "A,Acme Dental,A2,Standard,2026-12-10,50.00,50.00",
    "B,Birch & Sons,B1,Standard,2026-11-01,300.00,300.00",
    "C,Cobalt Imaging,C1,Final,2026-11-01,400.00,400.00",
    "D,Delta Health,D1,Recurring,2026-11-01,80.00,80.00",
    "D,Delta Health,D2,Credit Memo,2026-11-01,-20.00,-20.00",
]


def test_second_snapshot_closes_pays_and_settles_promises(ctx: AppContext, tmp_path: Path) -> None:
    import_aging_file(ctx, _file(tmp_path, "friday.csv", FIRST), as_of=FRIDAY)
    kept = _promise(ctx, "A", "100.00", FRIDAY)  # deadline: Monday (one business day of grace)
    overdue = _promise(ctx, "B", "300.00", date(2026, 11, 18))  # deadline Thursday, nothing paid
    partial = _promise(ctx, "C", "500.00", date(2026, 11, 30))
    late = _promise(ctx, "D", "80.00", date(2026, 11, 18))  # paid in full, but after its deadline
    monday = [
        "A,Acme Dental,A2,Standard,2026-12-10,50.00,50.00",  # A1 paid
        "B,Birch & Sons,B1,Standard,2026-11-01,300.00,300.00",
        "C,Cobalt Imaging,C1,Final,2026-11-01,400.00,150.00",  # 250.00 paid
        # D1 paid and the credit memo D2 applied: only the invoice counts as money received
    ]

    result = import_aging_file(ctx, _file(tmp_path, "monday.csv", monday), as_of=MONDAY)

    assert (result.inserted, result.updated, result.closed) == (0, 1, 3)
    assert (result.payments, result.payments_total) == (3, Decimal("430.00"))
    assert (result.promises_kept, result.promises_broken) == (1, 2)
    with ctx.sessions() as session:
        a1 = session.scalars(select(Invoice).where(Invoice.number == "A1")).one()
        c1 = session.scalars(select(Invoice).where(Invoice.number == "C1")).one()
        paid = {
            erp_id: (amount, received, source, batch)
            for erp_id, amount, received, source, batch in session.execute(
                select(Customer.erp_id, Payment.amount, Payment.received_on, Payment.source, Payment.batch_id).join(
                    Customer, Payment.customer_id == Customer.id
                )
            )
        }
        promises = {p.id: (p.status, p.paid_amount, p.settled_on) for p in session.scalars(select(Promise))}
        actions = sorted(session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "promise")))
    assert (a1.open_balance, a1.closed_on, a1.last_batch_id) == (Decimal("0.00"), MONDAY, result.batch_id)
    assert (c1.open_balance, c1.closed_on) == (Decimal("150.00"), None)
    assert paid == {
        "A": (Decimal("100.00"), MONDAY, "import", result.batch_id),
        "C": (Decimal("250.00"), MONDAY, "import", result.batch_id),
        "D": (Decimal("80.00"), MONDAY, "import", result.batch_id),
    }
    assert promises[kept] == (PromiseStatus.KEPT, Decimal("100.00"), MONDAY)
    assert promises[overdue] == (PromiseStatus.BROKEN, Decimal("0.00"), MONDAY)
    assert promises[partial] == (PromiseStatus.OPEN, Decimal("250.00"), None)
    assert promises[late] == (PromiseStatus.BROKEN, Decimal("80.00"), MONDAY)
    assert actions == ["promise.broken", "promise.broken", "promise.kept", "promise.part_paid"]


def test_a_promise_not_yet_past_its_grace_day_stays_open(ctx: AppContext, tmp_path: Path) -> None:
    import_aging_file(ctx, _file(tmp_path, "friday.csv", FIRST), as_of=FRIDAY)
    waiting = _promise(ctx, "B", "300.00", FRIDAY)  # deadline is Monday itself
    import_aging_file(ctx, _file(tmp_path, "monday.csv", FIRST[2:]), as_of=MONDAY)
    with ctx.sessions() as session:
        assert session.get(Promise, waiting).status == PromiseStatus.OPEN


def test_changes_update_and_a_listed_closed_invoice_reopens(ctx: AppContext, tmp_path: Path) -> None:
    import_aging_file(ctx, _file(tmp_path, "1.csv", FIRST), as_of=FRIDAY)
    import_aging_file(ctx, _file(tmp_path, "2.csv", FIRST[1:]), as_of=FRIDAY)  # A1 paid...
    changed = [
        "A,Acme Dental Group,A1,Standard,2026-11-10,100.00,100.00",  # ...the payment bounced
        "A,Acme Dental Group,A2,Retainer,2026-12-15,50.00,50.00",  # new kind and due date
        *FIRST[2:],
    ]
    result = import_aging_file(ctx, _file(tmp_path, "3.csv", changed), as_of=MONDAY)

    assert (result.inserted, result.updated, result.reopened, result.closed) == (0, 1, 1, 0)
    assert result.customers_updated == 1
    assert (result.payments, result.reversed_total) == (0, Decimal("100.00"))  # the bounced payment is taken back
    with ctx.sessions() as session:
        a1 = session.scalars(select(Invoice).where(Invoice.number == "A1")).one()
        a2 = session.scalars(select(Invoice).where(Invoice.number == "A2")).one()
        acme = session.scalars(select(Customer).where(Customer.erp_id == "A")).one()
    assert (a1.open_balance, a1.closed_on) == (Decimal("100.00"), None)
    assert (a2.kind, a2.due_date) == (InvoiceKind.RETAINER, date(2026, 12, 15))
    assert acme.name == "Acme Dental Group"


def test_a_quickbooks_invoice_does_not_undo_a_known_kind(ctx: AppContext, tmp_path: Path) -> None:
    header = "Customer,Num,Transaction Type,Due Date,Open Balance\n"
    import_aging_file(
        ctx,
        _file(
            tmp_path,
            "erp.csv",
            ["Acme Dental,1,Final,2026-11-10,5.00"],
            header="Customer,Num,Invoice Type,Due Date,Open Balance\n",
        ),
        as_of=FRIDAY,
    )
    result = import_aging_file(
        ctx,
        _file(tmp_path, "qb.csv", ["Acme Dental,1,Invoice,11/10/2026,5.00"], header=header),
        as_of=MONDAY,
        date_format="mdy",
    )
    assert result.updated == 0
    with ctx.sessions() as session:
        assert session.scalar(select(Invoice.kind)) == InvoiceKind.FINAL


def test_owner_column_assigns_collectors_and_silence_keeps_them(ctx: AppContext, tmp_path: Path) -> None:
    header = "Customer ID,Customer,Invoice No.,Due Date,Balance,Owner\n"
    rows = [
        "A,Acme,1,2026-11-10,5.00,dana.reyes@example.com",
        "B,Birch,2,2026-11-10,5.00,SAM OKAFOR",
        "C,Cobalt,3,2026-11-10,5.00,",
    ]
    import_aging_file(ctx, _file(tmp_path, "1.csv", rows, header), as_of=FRIDAY)

    def owners() -> dict[str, str]:
        with ctx.sessions() as session:
            return dict(
                session.execute(
                    select(Customer.erp_id, TeamMember.email).join(TeamMember, Customer.collector_id == TeamMember.id)
                ).all()
            )

    assert owners() == {
        "A": "dana.reyes@example.com",
        "B": "sam.okafor@example.com",
        "C": ctx.team.collector_for("C", "Cobalt").email,
    }
    moved = ["A,Acme,1,2026-11-10,5.00,Lee Marsh", "B,Birch,2,2026-11-10,5.00,", "C,Cobalt,3,2026-11-10,5.00,"]
    result = import_aging_file(ctx, _file(tmp_path, "2.csv", moved, header), as_of=MONDAY)

    assert result.customers_updated == 1
    assert owners()["A"] == "lee.marsh@example.com" and owners()["B"] == "sam.okafor@example.com"
    with ctx.sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "customer_updated")).one()
        lee = session.scalar(select(TeamMember.id).where(TeamMember.email == "lee.marsh@example.com"))
    assert event.data["collector_id"]["to"] == lee


def test_segment_and_currency_columns_describe_the_customer(ctx: AppContext, tmp_path: Path) -> None:
    header = "Account No,Account Name,Doc No,Due Date,Amount Remaining,Segment,Currency\n"
    import_aging_file(ctx, _file(tmp_path, "1.csv", ["A,Acme,1,2026-11-10,5.00,Enterprise,cad"], header), as_of=FRIDAY)
    import_aging_file(ctx, _file(tmp_path, "2.csv", ["A,Acme,1,2026-11-10,5.00,,cad"], header), as_of=MONDAY)
    with ctx.sessions() as session:
        acme = session.scalars(select(Customer).where(Customer.erp_id == "A")).one()
        invoice = session.scalars(select(Invoice)).one()
    assert (acme.segment, acme.currency, invoice.currency) == ("Enterprise", "CAD", "CAD")
