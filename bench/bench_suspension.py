"""The suspension sequence's first morning on a large portfolio: how long ``run_daily`` takes to
put every account more than 30 days past due into the sequence, set-based (one multi-row INSERT
of the sequences and one of their audit events, :func:`commands.suspension.sequence.enter_all`)
against the way it did before, one account at a time (an ORM object, a flush and an audit event
per account; reproduced here as ``_one_by_one``). Both run in the same process on identical
freshly built databases, one after the other, so their ratio is measured side by side.

Each run builds a throwaway database (SQLite in a temporary folder; with ``BENCH_DATABASE_URL``
a PostgreSQL database made on that server) with ``--accounts`` customers, each with one invoice
45 days past due, then times the morning job (its transaction and commit included). Reported per
variant: the seconds, the sequences and ``suspension.entered`` events written, and whether the
audit chain verifies.

    python -m bench.bench_suspension [--accounts 74000] [--runs 1]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select

import commands.suspension.sequence as sequence_module
from bench.cache import throwaway_database
from bot.settings import EXAMPLE_TEAM_FILE
from commands.calendar import BusinessCalendar
from commands.clock import FixedClock
from commands.context import AppContext
from commands.team import load_team, sync_members
from storage.audit import record, verify
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import AuditEvent, Customer, Invoice, InvoiceKind, SuspensionSequence

MORNING = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # Monday 08:30 in Chicago
CHUNK = 10_000
Enter = Callable[..., list[int]]


def _build(url: str, accounts: int) -> AppContext:
    engine = make_engine(url)
    upgrade(engine)
    team = load_team(EXAMPLE_TEAM_FILE)
    sessions = make_session_factory(engine)
    created = MORNING - timedelta(days=90)
    due = MORNING.date() - timedelta(days=45)
    with sessions.begin() as session:
        collector = sync_members(session, team)[team.collectors[0].email]
        for first in range(0, accounts, CHUNK):
            rows = range(first, min(first + CHUNK, accounts))
            ids = session.execute(
                insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
                [
                    {
                        "erp_id": f"S{n:06d}",
                        "name": f"Clinic {n}",
                        "currency": "USD",
                        "created_at": created,
                        "collector_id": collector,
                    }
                    for n in rows
                ],
            ).scalars()
            session.execute(
                insert(Invoice),
                [
                    {
                        "customer_id": customer_id,
                        "number": f"INV-{customer_id}",
                        "kind": InvoiceKind.STANDARD,
                        "due_date": due,
                        "amount": Decimal("1250.00"),
                        "open_balance": Decimal("1250.00"),
                        "currency": "USD",
                    }
                    for customer_id in ids
                ],
            )
    return AppContext(sessions=sessions, team=team, calendar=BusinessCalendar(team.country), clock=FixedClock(MORNING))


def _one_by_one(session: Any, ctx: AppContext, owed: dict[int, Decimal], day: date) -> list[int]:
    """How accounts entered before: per account an ORM object, a flush and an audit event."""
    ids = []
    for customer_id in sorted(owed):
        start = ctx.calendar.on_or_after(day)
        dues = [ctx.calendar.add_business_days(start, s.day) for s in ctx.team.workflow.suspension.steps]
        steps = [
            {"name": s.name, "does": s.does, "due": due.isoformat(), "done_on": None, "done_by": None}
            for s, due in zip(ctx.team.workflow.suspension.steps, dues, strict=True)
        ]
        now = ctx.clock.now()
        sequence = SuspensionSequence(
            customer_id=customer_id, entered_on=day, steps=steps, step=0, step_due=dues[0], created_at=now
        )
        session.add(sequence)
        session.flush()
        record(
            session,
            at=now,
            actor=sequence_module.JOB_ACTOR,
            action="suspension.entered",
            entity_type="suspension_sequence",
            entity_id=sequence.id,
            customer_id=customer_id,
            over_threshold=owed[customer_id],
            threshold_days=ctx.team.workflow.suspension.threshold_days,
            steps=steps,
        )
        ids.append(sequence.id)
    return ids


@contextmanager
def _entering_with(enter: Enter) -> Iterator[None]:
    original = sequence_module.enter_all
    sequence_module.enter_all = enter  # type: ignore[assignment]  # the variant under measurement
    try:
        yield
    finally:
        sequence_module.enter_all = original


def _morning(ctx: AppContext) -> float:
    started = time.perf_counter()
    with ctx.sessions.begin() as session:
        sequence_module.run_daily(session, ctx)
    return time.perf_counter() - started


def _run(label: str, enter: Enter, accounts: int) -> tuple[float, str]:
    with throwaway_database(f"susp_{label}") as url:
        ctx = _build(url, accounts)
        with _entering_with(enter):
            seconds = _morning(ctx)
        with ctx.sessions() as session:
            sequences = session.scalar(select(func.count()).select_from(SuspensionSequence))
            events = session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "suspension.entered")
            )
            chain = verify(session.connection())
        ctx.sessions.kw["bind"].dispose()
    check = f"{sequences} sequences, {events} events, chain {'intact' if chain.intact else 'BROKEN'}"
    return seconds, check


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_suspension")
    parser.add_argument("--accounts", type=int, default=74_000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    variants: list[tuple[str, Enter]] = [("set-based", sequence_module.enter_all), ("one by one", _one_by_one)]
    results: dict[str, list[float]] = {label: [] for label, _ in variants}
    for _ in range(args.runs):
        for label, enter in variants:
            seconds, check = _run(label.replace(" ", "_").replace("-", "_"), enter, args.accounts)
            results[label].append(seconds)
            print(f"{label:>11}: {seconds:7.2f} s  ({check})", flush=True)
    fast, slow = (statistics.median(results[label]) for label, _ in variants)
    print(f"{args.accounts} accounts: set-based {fast:.2f} s, one by one {slow:.2f} s, ratio {slow / fast:.1f}x")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
