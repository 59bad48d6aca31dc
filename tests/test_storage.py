"""The schema as the migrations build it: money round-trips exactly, instants stay aware,
the audit log refuses edits."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from commands.context import AppContext
from storage.audit import record
from storage.db import make_engine, make_session_factory, read_only
from storage.migrate import current_revision, upgrade
from storage.models import AuditEvent, Customer, Invoice, InvoiceKind, TeamMember


def _customer(session, erp_id: str = "C1") -> Customer:
    customer = Customer(erp_id=erp_id, name="Acme Dental Group", created_at=datetime(2026, 11, 1, tzinfo=UTC))
    session.add(customer)
    session.flush()
    return customer


def test_migrations_reach_head(ctx: AppContext) -> None:
    """The database is at the one head the migrations folder has: a new migration needs no edit
    here, and two migrations claiming the same parent (two heads) fail this test."""
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    assert current_revision(ctx.sessions.kw["bind"]) == heads[0]


def test_money_is_exact_decimal_and_sums_exactly(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        customer = _customer(session)
        for i, amount in enumerate(["0.10", "0.20", "1234567.89", "-0.30"]):
            session.add(
                Invoice(
                    customer_id=customer.id,
                    number=str(i),
                    kind=InvoiceKind.STANDARD,
                    due_date=date(2026, 11, 1),
                    amount=Decimal(amount),
                    open_balance=Decimal(amount),
                )
            )
    with ctx.sessions() as session:
        total = session.scalar(select(func.sum(Invoice.open_balance)))
        first = session.scalar(select(Invoice.amount).where(Invoice.number == "0"))
    assert total == Decimal("1234567.89")
    assert isinstance(first, Decimal) and first == Decimal("0.10")


def test_sub_cent_money_is_refused(ctx: AppContext) -> None:
    with pytest.raises(Exception, match="more than two decimal places"), ctx.sessions.begin() as session:
        customer = _customer(session)
        session.add(
            Invoice(
                customer_id=customer.id,
                number="x",
                kind=InvoiceKind.STANDARD,
                due_date=date(2026, 11, 1),
                amount=Decimal("1.005"),
                open_balance=Decimal("1.005"),
            )
        )


def test_naive_datetimes_are_refused_and_aware_ones_round_trip(ctx: AppContext) -> None:
    with pytest.raises(Exception, match="timezone-aware"), ctx.sessions.begin() as session:
        session.add(Customer(erp_id="N", name="Naive", created_at=datetime(2026, 1, 1)))
    with ctx.sessions.begin() as session:
        _customer(session, "A")
    with ctx.sessions() as session:
        created = session.scalar(select(Customer.created_at).where(Customer.erp_id == "A"))
    assert created == datetime(2026, 11, 1, tzinfo=UTC)
    assert created.tzinfo is not None


def test_audit_log_is_append_only(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        record(
            session,
            at=ctx.clock.now(),
            actor="dana.reyes@example.com",
            action="test",
            entity_type="customer",
            amount=Decimal("1.50"),
            on=date(2026, 11, 23),
        )
    with ctx.sessions() as session:
        event = session.scalars(select(AuditEvent)).one()
        assert event.data == {"amount": "1.50", "on": "2026-11-23"}
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), ctx.sessions.begin() as session:
            session.execute(text(statement))
    with ctx.sessions() as session:
        assert session.scalar(select(AuditEvent.action)) == "test"


def test_models_and_migrations_agree(ctx: AppContext) -> None:
    """A model change without its migration fails here, before it fails on someone's server."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from storage.models import Base

    with ctx.sessions.kw["bind"].connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_a_read_only_session_leaves_the_sqlite_write_lock_free(tmp_path: Path) -> None:
    """While a long read (a team's call list) runs, a chat command can still write."""
    path = tmp_path / "arbot.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    sessions = make_session_factory(engine)

    def writer_can_lock() -> bool:
        other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()

    with sessions() as session:
        read_only(session).execute(select(TeamMember.id)).all()
        assert writer_can_lock()
    with sessions() as session:
        session.execute(select(TeamMember.id)).all()
        assert not writer_can_lock()  # the default transaction takes the write lock up front
    engine.dispose()
