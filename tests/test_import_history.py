"""Imports reconciled against history: repeats change nothing, an invoice that comes back takes
back the payment its disappearance recorded (and what that payment settled), confirmed payments
hold through a lagging export and count once, and --dry-run writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import build_parser
from bot.cli_import import run
from commands.context import AppContext
from commands.import_refusals import ImportRefused
from commands.importing import import_aging_file
from commands.settlement import settle_payment
from commands.snapshots import awaiting_erp
from storage.models import (
    AuditEvent,
    Customer,
    ImportBatch,
    Invoice,
    Payment,
    PaymentPlan,
    PlanInstalment,
    PlanStatus,
    Promise,
    PromiseStatus,
)

FRIDAY, MONDAY, TUESDAY, WEDNESDAY = date(2026, 11, 20), date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)
BIRCH_5002 = "C1001,Birch & Sons Plumbing,5002,"
PAID = Decimal("11833.92")


def _a(samples: Path) -> bytes:
    return (samples / "erp_open_items.csv").read_bytes()


def _b(samples: Path) -> bytes:
    """A without Birch's invoice 5002 ($11,833.92)."""
    return b"".join(line for line in _a(samples).splitlines(keepends=True) if not line.startswith(BIRCH_5002.encode()))


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _birch(ctx: AppContext) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(Customer.id).where(Customer.erp_id == "C1001"))


def _promise(ctx: AppContext, amount: str, promised: date) -> int:
    birch = _birch(ctx)
    with ctx.sessions.begin() as session:
        promise = Promise(
            customer_id=birch,
            amount=Decimal(amount),
            promised_date=promised,
            created_at=datetime(2026, 11, 16, tzinfo=UTC),
        )
        session.add(promise)
        session.flush()
        return promise.id


def _payments(ctx: AppContext, source: str = "import") -> list[Decimal]:
    birch = _birch(ctx)
    with ctx.sessions() as session:
        return list(
            session.scalars(
                select(Payment.amount)
                .where(Payment.customer_id == birch, Payment.source == source)
                .order_by(Payment.id)
            )
        )


def _promise_state(ctx: AppContext, promise_id: int) -> tuple[PromiseStatus, Decimal]:
    with ctx.sessions() as session:
        promise = session.get(Promise, promise_id)
        return promise.status, promise.paid_amount


def _ledger(ctx: AppContext) -> tuple[int, int, int, int]:
    with ctx.sessions() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table))
            for table in (ImportBatch, Invoice, Payment, AuditEvent)
        )  # type: ignore[return-value]


def test_a_b_a_b_the_same_morning_records_one_payment(ctx: AppContext, samples: Path, tmp_path: Path) -> None:
    """The probe: A, then B (A without one invoice), then A and B again, all as of Monday."""
    a, b = _write(tmp_path, "a.csv", _a(samples)), _write(tmp_path, "b.csv", _b(samples))
    import_aging_file(ctx, a, as_of=FRIDAY)
    promise = _promise(ctx, "11833.92", date(2026, 11, 30))

    import_aging_file(ctx, a)  # Monday's first export: the same items, the day's snapshot
    paid = import_aging_file(ctx, b)
    for again in (a, b):
        before = _ledger(ctx)
        with pytest.raises(ImportRefused, match="already imported as of 2026-11-23"):
            import_aging_file(ctx, _write(tmp_path, f"again_{again.name}", again.read_bytes() + b"\n"))
        assert _ledger(ctx) == before

    assert (paid.payments, paid.payments_total, paid.promises_kept) == (1, PAID, 1)
    assert _payments(ctx) == [PAID]
    assert _promise_state(ctx, promise) == (PromiseStatus.KEPT, PAID)


def test_an_invoice_that_comes_back_takes_its_payment_and_promise_back(
    ctx: AppContext, samples: Path, tmp_path: Path
) -> None:
    a, b = _write(tmp_path, "a.csv", _a(samples)), _write(tmp_path, "b.csv", _b(samples))
    import_aging_file(ctx, a, as_of=FRIDAY)
    promise = _promise(ctx, "11833.92", date(2026, 11, 30))
    import_aging_file(ctx, b, as_of=MONDAY)
    assert _promise_state(ctx, promise) == (PromiseStatus.KEPT, PAID)

    back = import_aging_file(ctx, a, as_of=TUESDAY)  # the ERP reversed the payment: 5002 is open again

    assert (back.reopened, back.payments, back.reversed_total, back.promises_reopened) == (1, 0, PAID, 1)
    assert _payments(ctx) == [PAID, -PAID] and sum(_payments(ctx)) == 0
    assert _promise_state(ctx, promise) == (PromiseStatus.OPEN, Decimal("0.00"))
    birch = _birch(ctx)
    with ctx.sessions() as session:
        assert session.scalar(select(Invoice.closed_on).where(Invoice.number == "5002")) is None
        actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.customer_id == birch)))
    assert {"payment_reversed", "promise.unsettled", "payment.unapplied", "payment_seen"} <= actions

    gone_again = import_aging_file(ctx, b, as_of=WEDNESDAY)  # and now it really is paid
    assert (gone_again.payments, gone_again.payments_total) == (1, PAID)
    assert sum(_payments(ctx)) == PAID
    assert _promise_state(ctx, promise)[1] == PAID


def test_a_balance_that_rises_back_takes_back_only_what_was_recorded(ctx: AppContext, tmp_path: Path) -> None:
    header = "Customer ID,Customer Name,Invoice No.,Due Date,Original Amount,Amount Due\n"

    def snapshot(balance: str, day: date) -> None:
        import_aging_file(
            ctx,
            _write(tmp_path, f"{day}.csv", (header + f"C1001,Birch,1,2026-11-10,500.00,{balance}\n").encode()),
            as_of=day,
        )

    snapshot("300.00", FRIDAY)
    snapshot("100.00", MONDAY)  # 200 paid
    snapshot("400.00", TUESDAY)  # 300 back on it: 200 was recorded, the other 100 is an adjustment
    assert _payments(ctx) == [Decimal("200.00"), Decimal("-200.00")]
    snapshot("350.00", WEDNESDAY)
    assert sum(_payments(ctx)) == Decimal("50.00")


def test_moves_that_cancel_out_keep_their_history(ctx: AppContext, tmp_path: Path) -> None:
    """One invoice back and another gone in the same export: no payment, but each invoice's
    share is remembered, so the next export takes back exactly what is owed back."""
    header = "Customer ID,Customer Name,Invoice No.,Due Date,Amount Due\n"

    def snapshot(day: date, *numbers: str) -> None:
        rows = "".join(f"C1001,Birch,{n},2026-11-10,100.00\n" for n in numbers)
        import_aging_file(ctx, _write(tmp_path, f"{day}.csv", (header + rows).encode()), as_of=day)

    snapshot(FRIDAY, "1", "2")
    snapshot(MONDAY, "2")  # 1 paid
    snapshot(TUESDAY, "1")  # 1 back, 2 paid: nets to nothing
    assert _payments(ctx) == [Decimal("100.00")]
    snapshot(WEDNESDAY, "2")  # 1 paid again, 2 back
    assert _payments(ctx) == [Decimal("100.00")]
    snapshot(date(2026, 11, 26), "3")  # both paid (and a new invoice): 2 is new money, 1 was paid Wednesday
    assert sum(_payments(ctx)) == Decimal("200.00")


def test_a_plan_instalment_paid_by_a_vanished_invoice_is_due_again(
    ctx: AppContext, samples: Path, tmp_path: Path
) -> None:
    a, b = _write(tmp_path, "a.csv", _a(samples)), _write(tmp_path, "b.csv", _b(samples))
    import_aging_file(ctx, a, as_of=FRIDAY)
    birch = _birch(ctx)
    with ctx.sessions.begin() as session:
        plan = PaymentPlan(
            customer_id=birch,
            total=Decimal("12000.00"),
            cadence="monthly",
            status=PlanStatus.ACTIVE,
            created_at=datetime(2026, 11, 16, tzinfo=UTC),
        )
        session.add(plan)
        session.flush()
        session.add(PlanInstalment(plan_id=plan.id, due_date=date(2026, 12, 1), amount=Decimal("12000.00")))
    import_aging_file(ctx, b, as_of=MONDAY)
    with ctx.sessions() as session:
        assert session.scalar(select(PlanInstalment.paid_amount)) == PAID
    import_aging_file(ctx, a, as_of=TUESDAY)
    with ctx.sessions() as session:
        instalment = session.scalars(select(PlanInstalment)).one()
        assert (instalment.paid_amount, instalment.status) == (Decimal("0.00"), "due")


def test_an_unchanged_export_on_a_later_day_is_that_days_snapshot(
    ctx: AppContext, samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_aging_file(ctx, samples / "erp_open_items.csv", as_of=FRIDAY)
    args = build_parser().parse_args(["import", str(samples / "erp_open_items.csv"), "--as-of", "2026-11-23"])

    assert run(ctx, args) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Imported erp_open_items.csv as batch #2") and "as of 2026-11-23" in out[0]
    assert out[1] == "  no changes: the ledger already shows this snapshot"
    with ctx.sessions() as session:
        assert session.scalars(select(ImportBatch.as_of).order_by(ImportBatch.id)).all() == [FRIDAY, MONDAY]
    assert run(ctx, args) == 1  # the same day again: nothing to record
    assert "already imported as of 2026-11-23" in capsys.readouterr().err


def _confirm(ctx: AppContext, amount: str, received: date, at: datetime) -> int:
    """What finance's confirmation in chat records: a payment that settles promises at once."""
    birch = _birch(ctx)
    with ctx.sessions.begin() as session:
        payment = Payment(
            customer_id=birch, amount=Decimal(amount), received_on=received, source="finance", created_at=at
        )
        session.add(payment)
        session.flush()
        settle_payment(session, payment=payment, at=at, actor="priya.shah@example.com", calendar=ctx.calendar)
        return payment.id


def test_a_confirmed_payment_holds_through_a_lagging_export_and_counts_once(
    ctx: AppContext, samples: Path, tmp_path: Path
) -> None:
    a, b = _write(tmp_path, "a.csv", _a(samples)), _write(tmp_path, "b.csv", _b(samples))
    import_aging_file(ctx, a, as_of=FRIDAY)
    promise = _promise(ctx, "11833.92", date(2026, 11, 24))
    confirmed = _confirm(ctx, "11833.92", FRIDAY, datetime(2026, 11, 20, 20, tzinfo=UTC))
    assert _promise_state(ctx, promise) == (PromiseStatus.KEPT, PAID)

    lagging = import_aging_file(ctx, a, as_of=MONDAY)  # the ERP has not posted it yet
    assert lagging.unchanged and _payments(ctx) == []
    with ctx.sessions() as session:
        assert session.scalars(select(Payment.id).where(awaiting_erp())).all() == [confirmed]
    shows = import_aging_file(ctx, b, as_of=TUESDAY)  # now it has

    assert (shows.payments, shows.confirmed_in_erp, shows.confirmed_in_erp_total) == (0, 1, PAID)
    assert _payments(ctx) == [] and _payments(ctx, "finance") == [PAID]
    assert _promise_state(ctx, promise) == (PromiseStatus.KEPT, PAID)
    with ctx.sessions() as session:
        assert session.get(Payment, confirmed).batch_id == shows.batch_id
        assert session.scalars(select(Payment.id).where(awaiting_erp())).all() == []


def test_a_fall_larger_than_the_confirmed_money_records_the_rest(
    ctx: AppContext, samples: Path, tmp_path: Path
) -> None:
    import_aging_file(ctx, _write(tmp_path, "a.csv", _a(samples)), as_of=FRIDAY)
    _confirm(ctx, "1833.92", FRIDAY, datetime(2026, 11, 20, 20, tzinfo=UTC))
    result = import_aging_file(ctx, _write(tmp_path, "b.csv", _b(samples)), as_of=MONDAY)
    assert (result.payments_total, result.confirmed_in_erp) == (Decimal("10000.00"), 1)


def test_a_confirmed_payment_not_yet_received_by_the_export_date_is_not_taken(
    ctx: AppContext, samples: Path, tmp_path: Path
) -> None:
    import_aging_file(ctx, _write(tmp_path, "a.csv", _a(samples)), as_of=FRIDAY)
    _confirm(ctx, "11833.92", TUESDAY, datetime(2026, 11, 24, 20, tzinfo=UTC))
    result = import_aging_file(ctx, _write(tmp_path, "b.csv", _b(samples)), as_of=MONDAY)
    assert (result.payments_total, result.confirmed_in_erp) == (PAID, 0)


def test_dry_run_reports_and_writes_nothing(
    ctx: AppContext, samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_aging_file(ctx, _write(tmp_path, "a.csv", _a(samples)), as_of=FRIDAY)
    _promise(ctx, "11833.92", date(2026, 11, 30))
    before = _ledger(ctx)
    args = build_parser().parse_args(
        ["import", str(_write(tmp_path, "b.csv", _b(samples))), "--dry-run", "--as-of", "2026-11-23"]
    )

    assert run(ctx, args) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Dry run of b.csv: nothing was written")
    assert "  invoices:   0 inserted, 0 updated, 1 closed" in out
    assert "  payments:   1 seen, $11,833.92 in all" in out
    assert "  promises:   1 kept, 0 broken" in out
    assert _ledger(ctx) == before
    assert import_aging_file(ctx, tmp_path / "b.csv", as_of=MONDAY).payments_total == PAID
