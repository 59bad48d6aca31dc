"""Billing emails come in with imports: a "Billing Email" column gives each customer its
billing contact (added, or its address changed on a later export, each audited); a contact the
customer already has with that address is left as it is; a cell that is not an address is
skipped while the invoices on its line still come in."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from commands.context import AppContext
from commands.importing import import_aging_file
from storage.models import AuditEvent, Contact, Customer, Invoice
from tests.support.harness import Conversation
from tests.support.world import DANA

HEADER = "Customer ID,Customer Name,Invoice No.,Due Date,Amount Due,Billing Email\n"


def _import(ctx: AppContext, tmp_path: Path, day: date, rows: str) -> None:
    path = tmp_path / f"{day}.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    import_aging_file(ctx, path, as_of=day)


def _contacts(ctx: AppContext) -> dict[str, list[tuple[str, str | None, str | None]]]:
    with ctx.sessions() as session:
        found: dict[str, list[tuple[str, str | None, str | None]]] = {}
        for erp_id, contact in session.execute(select(Customer.erp_id, Contact).join(Contact).order_by(Contact.id)):
            found.setdefault(erp_id, []).append((contact.name, contact.email, contact.title))
        return found


def test_a_billing_email_column_gives_each_customer_its_billing_contact(ctx: AppContext, tmp_path: Path) -> None:
    _import(
        ctx,
        tmp_path,
        date(2026, 11, 20),
        (
            "C1,Birch Dental,1,2026-11-10,100.00,AP@Birch.Example\n"
            "C1,Birch Dental,2,2026-11-12,50.00,\n"
            "C2,Cedar Ortho,3,2026-11-10,70.00,not an address\n"
            "C3,Dale Labs,4,2026-11-10,90.00,\n"
        ),
    )
    assert _contacts(ctx) == {"C1": [("Billing", "AP@birch.example", "billing")]}
    with ctx.sessions() as session:
        assert session.scalar(select(Invoice.number).where(Invoice.number == "3")) == "3", "its invoice came in"

    Conversation(ctx).say(DANA, "contact C2 Kim Lee kim@cedar.example billing")
    _import(
        ctx,
        tmp_path,
        date(2026, 11, 23),
        (
            "C1,Birch Dental,1,2026-11-10,100.00,billing@birch.example\n"
            "C2,Cedar Ortho,3,2026-11-10,70.00,kim@cedar.example\n"
        ),
    )
    assert _contacts(ctx) == {
        "C1": [("Billing", "billing@birch.example", "billing")],
        "C2": [("Kim Lee", "kim@cedar.example", "billing")],
    }
    with ctx.sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "contact.imported").order_by(AuditEvent.id)
        ).all()
    assert [e.data["email"] for e in events] == [
        {"from": None, "to": "AP@birch.example"},
        {"from": "AP@birch.example", "to": "billing@birch.example"},
    ]
