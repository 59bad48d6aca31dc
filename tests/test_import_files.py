"""Importing real exports: the QuickBooks A/R Aging Detail and a generic ERP file land in the
ledger with the right totals, counts, kinds and signs; XLSX works the same."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
from sqlalchemy import func, select

from commands.context import AppContext
from commands.importing import import_aging_file
from storage.models import AuditEvent, Customer, ImportBatch, Invoice, InvoiceKind, TeamMember


def _open_total(ctx: AppContext) -> Decimal:
    with ctx.sessions() as session:
        return session.scalar(select(func.sum(Invoice.open_balance)).where(Invoice.closed_on.is_(None)))


def test_quickbooks_sample_imports_to_the_report_totals(ctx: AppContext, samples: Path) -> None:
    result = import_aging_file(ctx, samples / "quickbooks_ar_aging_detail.csv")

    assert (result.layout, result.as_of, result.rows) == ("quickbooks_aging_detail", date(2026, 11, 23), 60)
    assert (result.inserted, result.customers_created, result.skipped_rows) == (60, 25, 0)
    assert result.open_total == Decimal("369527.08")
    assert _open_total(ctx) == Decimal("369527.08")
    with ctx.sessions() as session:
        assert session.scalar(select(func.sum(Invoice.amount))) == Decimal("393391.24")
        assert session.scalar(select(func.count(Customer.id))) == 25
        credits = session.execute(
            select(Invoice.kind, func.count(), func.max(Invoice.open_balance))
            .where(Invoice.kind != InvoiceKind.STANDARD)
            .group_by(Invoice.kind)
        ).all()
        summit = session.scalars(select(Customer).where(Customer.name == "Summit Ortho, P.C.")).one()
        batch = session.scalars(select(ImportBatch)).one()
    assert sorted((kind, count) for kind, count, _ in credits) == [
        (InvoiceKind.CREDIT_MEMO, 3),
        (InvoiceKind.UNAPPLIED_PAYMENT, 7),
    ]
    assert all(largest < 0 for _, _, largest in credits)  # credit memos and payments are negative
    assert summit.erp_id.startswith("name:")  # QuickBooks has no ids: one is derived from the name
    assert (batch.layout, batch.rows, batch.inserted, batch.as_of) == (
        "quickbooks_aging_detail",
        60,
        60,
        date(2026, 11, 23),
    )


def test_erp_sample_imports_with_kinds_and_ids(ctx: AppContext, samples: Path) -> None:
    result = import_aging_file(ctx, samples / "erp_open_items.csv")

    assert (result.layout, result.inserted, result.customers) == ("generic", 60, 25)
    assert result.as_of == ctx.today()  # no "As of" title: the snapshot is today's
    with ctx.sessions() as session:
        kinds = dict(session.execute(select(Invoice.kind, func.count()).group_by(Invoice.kind)).all())
        redwood = session.scalars(select(Customer).where(Customer.erp_id == "C1017")).one()
        invoice = session.scalars(select(Invoice).where(Invoice.number == "5005")).one()
    assert kinds == {
        InvoiceKind.STANDARD: 20,
        InvoiceKind.FINAL: 11,
        InvoiceKind.RECURRING: 11,
        InvoiceKind.RETAINER: 8,
        InvoiceKind.CREDIT_MEMO: 3,
        InvoiceKind.UNAPPLIED_PAYMENT: 7,
    }
    assert redwood.name == "Redwood Neurology"
    assert (invoice.customer_id, invoice.amount, invoice.open_balance) == (
        redwood.id,
        Decimal("37349.17"),
        Decimal("27858.03"),
    )
    assert (invoice.issue_date, invoice.due_date, invoice.currency) == (date(2026, 7, 4), date(2026, 8, 18), "USD")
    assert _open_total(ctx) == Decimal("369527.08")


def test_customers_without_an_owner_are_spread_by_the_team_rule(ctx: AppContext, samples: Path) -> None:
    import_aging_file(ctx, samples / "erp_open_items.csv")
    with ctx.sessions() as session:
        owners = session.execute(
            select(Customer.erp_id, Customer.name, TeamMember.email).join(
                TeamMember, Customer.collector_id == TeamMember.id
            )
        ).all()
    assert len(owners) == 25
    assert all(email == ctx.team.collector_for(erp_id, name).email for erp_id, name, email in owners)


def test_quickbooks_then_erp_file_keeps_one_customer_per_name(ctx: AppContext, samples: Path) -> None:
    """A customer first known by name takes over the ERP id; the ERP's kinds refine the items."""
    import_aging_file(ctx, samples / "quickbooks_ar_aging_detail.csv")
    result = import_aging_file(ctx, samples / "erp_open_items.csv")

    assert (result.customers_created, result.inserted, result.closed, result.payments) == (0, 0, 0, 0)
    assert result.updated == 30  # the final, recurring and retainer invoices QuickBooks calls "Invoice"
    with ctx.sessions() as session:
        ids = session.scalars(select(Customer.erp_id)).all()
        kinds = dict(session.execute(select(Invoice.kind, func.count()).group_by(Invoice.kind)).all())
        renamed = session.scalars(select(AuditEvent).where(AuditEvent.action == "customer_updated")).all()
    assert len(ids) == 25 and all(erp_id.startswith("C1") for erp_id in ids)
    assert kinds[InvoiceKind.FINAL] == 11
    assert len(renamed) == 25 and renamed[0].data["erp_id"]["from"].startswith("name:")


def test_xlsx_export_imports_like_csv(ctx: AppContext, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["A/R Aging Detail"])
    sheet.append(["As of November 20, 2026"])
    sheet.append(["Customer ID", "Customer", "Doc No", "Type", "Due Date", "Amount", "Balance", "Collector"])
    sheet.append(["C1", "Acme Dental Group", 5001, "Final", datetime(2026, 11, 18), 1385.02, 1385.02, "Sam Okafor"])
    sheet.append(["C1", "Acme Dental Group", 5002, "Credit Memo", datetime(2026, 11, 1), -66.3, -42.44, None])
    sheet.append(["C2", "Birch & Sons", "5003", "Invoice", "12/13/2026", "33,454.83", "33,454.83", None])
    path = tmp_path / "aging.xlsx"
    workbook.save(path)

    result = import_aging_file(ctx, path)

    assert (result.rows, result.inserted, result.as_of) == (3, 3, date(2026, 11, 20))
    assert result.open_total == Decimal("34797.41")
    with ctx.sessions() as session:
        items = {
            number: (kind, amount, balance)
            for number, kind, amount, balance in session.execute(
                select(Invoice.number, Invoice.kind, Invoice.amount, Invoice.open_balance)
            )
        }
        owner = session.scalar(
            select(TeamMember.email)
            .join(Customer, Customer.collector_id == TeamMember.id)
            .where(Customer.erp_id == "C1")
        )
    assert items == {
        "5001": (InvoiceKind.FINAL, Decimal("1385.02"), Decimal("1385.02")),
        "5002": (InvoiceKind.CREDIT_MEMO, Decimal("-66.30"), Decimal("-42.44")),
        "5003": (InvoiceKind.STANDARD, Decimal("33454.83"), Decimal("33454.83")),
    }
    assert owner == "sam.okafor@example.com"


def test_every_import_writes_its_batch_and_an_audit_event(ctx: AppContext, samples: Path) -> None:
    result = import_aging_file(ctx, samples / "erp_open_items.csv")
    with ctx.sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).one()
        last_batches = set(session.scalars(select(Invoice.last_batch_id)))
    assert (event.entity_type, event.entity_id) == ("import_batch", result.batch_id)
    assert event.data["inserted"] == 60 and event.data["open_total"] == "369527.08"
    assert last_batches == {result.batch_id}


def test_many_rows_go_in_whole(ctx: AppContext, tmp_path: Path) -> None:
    """More rows than one multi-row INSERT holds, and not a multiple of it."""
    rows = "".join(
        f"C{n % 7},Customer {n % 7},INV-{n},2026-11-{1 + n % 28:02d},{n}.{n % 100:02d}\n" for n in range(1, 251)
    )
    path = tmp_path / "many.csv"
    path.write_text("Customer ID,Customer Name,Invoice No.,Due Date,Amount Due\n" + rows)

    result = import_aging_file(ctx, path)

    expected = sum(Decimal(f"{n}.{n % 100:02d}") for n in range(1, 251))
    assert (result.inserted, result.customers, result.open_total) == (250, 7, expected)
    assert _open_total(ctx) == expected
    with ctx.sessions() as session:
        invoice = session.scalars(select(Invoice).where(Invoice.number == "INV-201")).one()
    assert (invoice.open_balance, invoice.due_date) == (Decimal("201.01"), date(2026, 11, 6))
