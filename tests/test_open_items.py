"""The call list's packed open items (storage/open_items.py) follow every way invoices change:
ORM flushes, rollbacks, imports (including rows refused and closed invoices reopened) and the
migration that creates them for an existing ledger. The ``ctx`` fixture also checks, after every
test, that no pack disagrees with the ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from commands.context import AppContext
from commands.importing import import_aging_file
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Customer, Invoice, InvoiceKind
from storage.open_items import EPOCH, KINDS, read_packs, stale_packs
from tests.support.ledger import MONDAY, Ledger

HEADER = "Customer ID,Customer Name,Invoice No.,Invoice Type,Due Date,Original Amount,Amount Due\n"


def packed(ctx: AppContext) -> dict[str, list[tuple[date, InvoiceKind, int]]]:
    """Each customer's packed items, decoded and in due order: ERP id -> [(due date, kind, cents)]."""
    with ctx.sessions() as session:
        erp = dict(session.execute(select(Customer.id, Customer.erp_id)).all())
        found = read_packs(session.connection())
    starts = found.starts
    return {
        erp[int(customer)]: sorted(
            ((EPOCH + int(item["due"])).astype(date), KINDS[item["kind"]], int(item["cents"]))
            for item in found.items[start : start + count]
        )
        for customer, start, count in zip(found.customer_ids, starts, found.counts, strict=True)
    }


def test_orm_changes_rewrite_the_customers_packs(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        acme, birch = ledger.customer("A"), ledger.customer("B")
        first = ledger.invoice(acme, "100", 10)
        ledger.invoice(acme, "-20", 5, InvoiceKind.CREDIT_MEMO)
        moved = ledger.invoice(acme, "70", 40, InvoiceKind.FINAL)
    assert packed(ctx) == {
        "A": [
            (date(2026, 10, 14), InvoiceKind.FINAL, 7000),
            (date(2026, 11, 13), InvoiceKind.STANDARD, 10000),
            (date(2026, 11, 18), InvoiceKind.CREDIT_MEMO, -2000),
        ]
    }

    with ctx.sessions.begin() as session:
        session.get(Invoice, first.id).open_balance = Decimal("40.00")
        session.get(Invoice, moved.id).customer_id = birch.id
    assert packed(ctx)["A"][0] == (date(2026, 11, 13), InvoiceKind.STANDARD, 4000)
    assert packed(ctx)["B"] == [(date(2026, 10, 14), InvoiceKind.FINAL, 7000)]

    with ctx.sessions.begin() as session:
        session.get(Invoice, moved.id).closed_on = MONDAY
    assert "B" not in packed(ctx)  # no open items, no pack


def test_a_rolled_back_change_leaves_the_packs_as_they_were(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        item = ledger.invoice(ledger.customer("A"), "100", 10)
    before = packed(ctx)
    with ctx.sessions() as session:
        session.get(Invoice, item.id).open_balance = Decimal("1.00")
        session.flush()
        assert read_packs(session.connection()).items["cents"].tolist() == [100]
        session.rollback()
    assert packed(ctx) == before


def test_imports_pack_what_is_open_after_them(ctx: AppContext, tmp_path: Path) -> None:
    def load(name: str, rows: list[str], **kwargs: object) -> None:
        (tmp_path / name).write_text(HEADER + "".join(row + "\n" for row in rows))
        import_aging_file(ctx, tmp_path / name, as_of=MONDAY, **kwargs)

    load(
        "1.csv",
        [
            "A,Acme,A1,Final,2026-11-10,100.00,100.00",
            "A,Acme,A2,Standard,2026-12-10,50.00,50.00",
            "B,Birch,B1,Recurring,2026-11-01,300.00,300.00",
        ],
    )
    load("2.csv", ["A,Acme,A2,Standard,2026-12-10,50.00,20.00", "B,Birch,B1,Recurring,2026-11-01,300.00,300.00"])
    assert packed(ctx)["A"] == [(date(2026, 12, 10), InvoiceKind.STANDARD, 2000)]  # A1 closed, A2 part paid

    # A1 reopens (its payment bounced) in a file without an Invoice Type column: it keeps its kind.
    (tmp_path / "3.csv").write_text(
        "Customer ID,Customer Name,Invoice No.,Due Date,Amount Due\n"
        "A,Acme,A1,2026-11-10,100.00\nA,Acme,A2,2026-12-10,20.00\n"
        "B,Birch,B1,2026-11-01,300.00\n"
    )
    import_aging_file(ctx, tmp_path / "3.csv", as_of=MONDAY)
    assert packed(ctx)["A"] == [
        (date(2026, 11, 10), InvoiceKind.FINAL, 10000),
        (date(2026, 12, 10), InvoiceKind.STANDARD, 2000),
    ]

    # B's only row is refused: its items stay open (and packed) while A's new one is added.
    load(
        "4.csv",
        [
            "A,Acme,A1,Final,2026-11-10,100.00,100.00",
            "A,Acme,A2,Standard,2026-12-10,20.00,20.00",
            "A,Acme,A3,Standard,2026-12-20,5.00,5.00",
            "B,Birch,B2,Standard,not a date,1.00,1.00",
        ],
        skip_invalid=True,
    )
    assert [item[2] for item in packed(ctx)["A"]] == [10000, 2000, 500]
    assert packed(ctx)["B"] == [(date(2026, 11, 1), InvoiceKind.RECURRING, 30000)]


def test_a_change_written_around_the_packs_is_found(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        acme = ledger.customer("A")
        ledger.invoice(acme, "100", 10)
    with ctx.sessions.begin() as session:
        session.execute(text("UPDATE invoices SET open_balance = 1"))
        assert stale_packs(session.connection()) == [acme.id]
        session.rollback()


def test_the_migration_packs_an_existing_ledger(tmp_path: Path) -> None:
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0005")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customers (id, erp_id, name, currency, created_at) "
                "VALUES (1, 'A', 'Acme', 'USD', '2026-01-05 15:00:00.000000')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO invoices (customer_id, number, kind, due_date, amount, open_balance, currency)"
                " VALUES (1, 'A1', 'recurring', '2026-11-01', 8000, 8000, 'USD'),"
                " (1, 'A2', 'standard', '2026-10-01', 500, 0, 'USD')"
            )
        )
        conn.execute(text("UPDATE invoices SET closed_on = '2026-11-02' WHERE number = 'A2'"))
    upgrade(engine)
    with engine.connect() as conn:
        found = read_packs(conn)
        assert stale_packs(conn) == []
    assert found.customer_ids.tolist() == [1]
    assert found.items["cents"].tolist() == [8000]
    engine.dispose()


def test_db_check_finds_drift_and_repack_mends_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    url = f"sqlite:///{tmp_path / 'arbot.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        ledger = Ledger(session)
        ledger.invoice(ledger.customer("A", collector=None), "100", 10)
    assert main(["db", "check"]) == 0
    with engine.begin() as conn:
        conn.execute(text("UPDATE invoices SET open_balance = 1"))  # around the packs
    assert main(["db", "check"]) == 1
    assert "disagree with the invoices for 1 customer(s)" in capsys.readouterr().out
    assert main(["db", "repack"]) == 0
    assert main(["db", "check"]) == 0
    engine.dispose()
