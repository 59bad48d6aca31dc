"""A large load on PostgreSQL builds the foreign keys and indexes after the rows instead of keeping
them up row by row (storage.aging.upkeep). The ledger comes out as a row-by-row load leaves it,
the definitions come back exactly as they were, and a failure or a dry run rolls both back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import IntegrityError

from commands.context import AppContext
from commands.importing import import_aging_file
from storage.aging import upkeep
from storage.aging.upkeep import drop_upkeep, restore_upkeep, worth_rebuilding
from storage.models import Customer, Invoice, Payment
from storage.open_items import read_packs, stale_packs

HEADER = "Customer ID,Customer Name,Invoice No.,Invoice Type,Due Date,Original Amount,Amount Due\n"
FRIDAY, MONDAY = date(2026, 11, 20), date(2026, 11, 23)
TABLES = ("customers", "invoices", "open_item_packs")


def _file(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(row + "\n" for row in rows))
    return path


def _definitions(conn: Connection) -> list[Any]:
    """Every constraint and index of the tables a large import loads, as the catalog states them."""
    constraints = conn.execute(
        text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint"
            " WHERE conrelid::regclass::text = ANY(:tables) ORDER BY 1, 2"
        ),
        {"tables": list(TABLES)},
    ).all()
    indexes = conn.execute(
        text("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:tables) ORDER BY 1, 2"),
        {"tables": list(TABLES)},
    ).all()
    return [*constraints, *indexes]


@pytest.fixture
def rebuild_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every load counts as large, so the sample files take the rebuild route."""
    monkeypatch.setattr(upkeep, "MIN_ROWS", 0)
    monkeypatch.setattr(upkeep, "SHARE_OF_TABLE", 10**9)


def _postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the rebuild route is PostgreSQL's; SQLite loads row by row")


def test_the_rule_rebuilds_only_for_loads_large_beside_the_table() -> None:
    assert worth_rebuilding(1_000_000, 0)
    assert worth_rebuilding(100_000, 300_000)
    assert not worth_rebuilding(100_000, 1_000_000)  # a day's new invoices in a large ledger
    assert not worth_rebuilding(upkeep.MIN_ROWS - 1, 0)  # a small first import


def test_snapshots_loaded_with_a_rebuild_leave_the_ledger_and_definitions_right(
    ctx: AppContext, engine: Engine, tmp_path: Path, rebuild_always: None
) -> None:
    with engine.connect() as conn:
        before = _definitions(conn) if engine.dialect.name == "postgresql" else None
    first = [
        "A,Acme Dental,A1,Standard,2026-11-10,100.00,100.00",
        "A,Acme Dental,A2,Standard,2026-12-10,50.00,50.00",
        "B,Birch & Sons,B1,Standard,2026-11-01,300.00,300.00",
    ]
    monday = [
        "A,Acme Dental,A2,Standard,2026-12-10,50.00,50.00",  # A1 paid
        "B,Birch & Sons,B1,Standard,2026-11-01,300.00,120.00",  # 180.00 paid
        "C,Cobalt Imaging,C1,Final,2026-11-01,400.00,400.00",
    ]  # new customer, new invoice

    import_aging_file(ctx, _file(tmp_path, "friday.csv", first), as_of=FRIDAY)
    result = import_aging_file(ctx, _file(tmp_path, "monday.csv", monday), as_of=MONDAY)

    assert (result.inserted, result.updated, result.closed, result.customers_created) == (1, 1, 1, 1)
    with ctx.sessions() as session:
        invoices = {
            (n, str(b), c)
            for n, b, c in session.execute(select(Invoice.number, Invoice.open_balance, Invoice.closed_on))
        }
        assert invoices == {
            ("A1", "0.00", MONDAY),
            ("A2", "50.00", None),
            ("B1", "120.00", None),
            ("C1", "400.00", None),
        }
        assert sorted(str(p) for p in session.scalars(select(Payment.amount))) == ["100.00", "180.00"]
        assert stale_packs(session.connection()) == []
        assert len(read_packs(session.connection())) == 3
    if before is not None:
        with engine.connect() as conn:
            assert _definitions(conn) == before
            for table in ("customers", "invoices"):  # ids were drawn for the rows: the next one is new
                assert conn.scalar(text(f"SELECT last_value FROM {table}_id_seq")) == conn.scalar(
                    text(f"SELECT max(id) FROM {table}")
                )


def test_a_dry_run_with_a_rebuild_leaves_rows_and_definitions_as_they_were(
    ctx: AppContext, engine: Engine, samples: Path, rebuild_always: None
) -> None:
    _postgresql(engine)
    with engine.connect() as conn:
        before = _definitions(conn)

    result = import_aging_file(ctx, samples / "erp_open_items.csv", dry_run=True)

    assert result.dry_run and result.inserted == 60
    with engine.connect() as conn:
        assert _definitions(conn) == before
        assert conn.scalar(select(func.count()).select_from(Invoice)) == 0


def test_a_row_the_constraints_refuse_fails_the_rebuild_and_the_rollback_restores_them(engine: Engine) -> None:
    _postgresql(engine)
    row = {"erp_id": "A", "name": "Acme", "currency": "USD"}
    with engine.connect() as conn:
        before = _definitions(conn)
        conn.rollback()
        transaction = conn.begin()
        dropped = drop_upkeep(conn, "customers")
        assert dropped.unique and dropped.indexes and dropped.foreign
        for _ in range(2):  # the same ERP id twice: nothing checks it while the constraint is away
            conn.execute(Customer.__table__.insert().values(**row, created_at=func.now()))
        with pytest.raises(IntegrityError, match="uq_customers_erp_id"):
            restore_upkeep(conn, "customers", dropped)
        transaction.rollback()
        assert _definitions(conn) == before
        assert conn.scalar(select(func.count()).select_from(Customer)) == 0


def test_bulk_insert_keeps_text_exactly_and_nulls_apart(ctx: AppContext, engine: Engine) -> None:
    """The rows a bulk insert writes read back as given: an empty text stays empty and a missing
    one NULL; quotes, separators, line breaks and backslashes survive. On PostgreSQL integer and
    text columns go as CSV (the invoices here) and a frame with an instant row by row (the
    customers)."""
    import pandas as pd

    from storage.aging.bulk import Bulk

    texts = ["plain", "", 'say "hi", then\nleave', "back\\slash;tab\t", "ümlaut €"]
    segments = [None, "", "a,b", None, "x"]
    with ctx.sessions.begin() as session:
        bulk = Bulk(session)
        customers = pd.DataFrame(
            {
                "erp_id": [f"T{i}" for i in range(len(texts))],
                "name": texts,
                "segment": pd.Series(segments, dtype=object),
                "currency": "USD",
                "created_at": bulk.instant(Customer.__table__.c.created_at, ctx.clock.now()),
            }
        )
        bulk.insert("customers", list(customers.columns), customers, stage="customers")
        ids = session.scalars(select(Customer.id).where(Customer.erp_id.like("T%")).order_by(Customer.erp_id)).all()
        invoices = pd.DataFrame(
            {
                "customer_id": pd.Series(ids, dtype="int64"),
                "number": texts,
                "kind": "standard",
                "issue_date": pd.Series([None, "2026-11-01", None, None, None], dtype=object),
                "due_date": "2026-12-01",
                "amount": pd.Series([100, -5, 0, 7, 12_345_678_901], dtype="int64"),
                "open_balance": pd.Series([100, -5, 0, 7, 1], dtype="int64"),
                "currency": pd.Series(["USD", "EUR", "USD", "USD", "GBP"], dtype=object),
            }
        )
        bulk.insert("invoices", list(invoices.columns), invoices, stage="invoices")
        stored = session.execute(
            select(
                Customer.name, Customer.segment, Invoice.number, Invoice.issue_date, Invoice.amount, Invoice.currency
            )
            .join(Invoice, Invoice.customer_id == Customer.id)
            .where(Customer.erp_id.like("T%"))
            .order_by(Customer.erp_id)
        ).all()
        session.rollback()
    assert [tuple(row) for row in stored] == [
        (text_, segment, text_, issue, amount, currency)
        for text_, segment, issue, amount, currency in zip(
            texts,
            segments,
            [None, date(2026, 11, 1), None, None, None],
            [Decimal("1.00"), Decimal("-0.05"), Decimal("0.00"), Decimal("0.07"), Decimal("123456789.01")],
            ["USD", "EUR", "USD", "USD", "GBP"],
            strict=True,
        )
    ]
