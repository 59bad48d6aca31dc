"""KPI report benchmark: a ledger of 1,000,000 open items built by 24 monthly snapshots.

The ledger grows a month at a time, as imports would leave it: each month's invoices go in,
the items paid that month close (with the payment an import records), and the month-end
snapshot is recorded as an import batch whose receivables are kept by the real
:func:`commands.kpi.history.keep_receivables`. 100,000 customers, 1,000,000 items open at
the end and 300,000 paid along the way. Built once into an SQLite file under bench/data/
(``BENCH_DATABASE_URL`` for PostgreSQL), then it times ``kpi_report`` for the last month, for
the team and for one collector, reading the kept receivables, and the same report rolled back
from the ledger (the kept rows hidden in a transaction that is rolled back), checking both give
the same receivables.

    python -m bench report
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session

from bench.cache import postgres_database, sqlite_file, timed
from bot.settings import EXAMPLE_TEAM_FILE
from commands.calendar import BusinessCalendar
from commands.clock import FixedClock
from commands.context import AppContext
from commands.kpi import Period, as_dict, kpi_report
from commands.kpi.history import keep_receivables
from commands.team import load_team, sync_members
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Customer, ImportBatch, TeamMember

VERSION = "report-v1"
CUSTOMERS, OPEN_ITEMS, PAID_ITEMS, MONTHS = 100_000, 1_000_000, 300_000, 24
FIRST_MONTH = date(2024, 12, 1)
INVOICE_COLUMNS = (
    "id",
    "customer_id",
    "number",
    "kind",
    "issue_date",
    "due_date",
    "amount",
    "open_balance",
    "currency",
    "closed_on",
    "last_batch_id",
)


def month_start(index: int) -> date:
    n = FIRST_MONTH.year * 12 + FIRST_MONTH.month - 1 + index
    return date(n // 12, n % 12 + 1, 1)


def month_end(index: int) -> date:
    return month_start(index + 1) - timedelta(days=1)


def _items(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every item's customer, issue month and day, amount in cents, and the month it is paid
    (MONTHS: never, it is open at the end)."""
    n = OPEN_ITEMS + PAID_ITEMS
    issued = rng.integers(0, MONTHS, n)
    paid = np.full(n, MONTHS)
    closing = rng.choice(n, PAID_ITEMS, replace=False)
    closing = closing[issued[closing] < MONTHS - 1]
    paid[closing] = issued[closing] + 1 + rng.integers(0, MONTHS - 1 - issued[closing])
    return {
        "customer": rng.integers(1, CUSTOMERS + 1, n),
        "issued": issued,
        "day": rng.integers(0, 28, n),
        "cents": rng.integers(5_000, 2_500_000, n),
        "paid": paid,
    }


def _invoice_rows(items: dict[str, np.ndarray], ids: np.ndarray, batch_id: int) -> list[tuple[Any, ...]]:
    rows = []
    for i in ids.tolist():
        issue = month_start(int(items["issued"][i])) + timedelta(days=int(items["day"][i]))
        cents = int(items["cents"][i])
        rows.append(
            (
                i + 1,
                int(items["customer"][i]),
                f"R{i + 1:08d}",
                "standard",
                issue.isoformat(),
                (issue + timedelta(days=30)).isoformat(),
                cents,
                cents,
                "USD",
                None,
                batch_id,
            )
        )
    return rows


def build(engine: Engine) -> None:
    """The 24 snapshots, oldest first, each in its own transaction as an import would be."""
    upgrade(engine)
    team = load_team(EXAMPLE_TEAM_FILE)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        members = sync_members(session, team)
    collectors = [members[m.email] for m in team.collectors]
    rng = np.random.default_rng(20261130)
    created = datetime(2024, 11, 1, 15, tzinfo=UTC)
    with sessions.begin() as session:
        owners = rng.choice(len(collectors), CUSTOMERS)
        mark, at = _driver(engine)
        session.connection().exec_driver_sql(
            f"INSERT INTO customers (id, erp_id, name, collector_id, currency, created_at) "
            f"VALUES ({', '.join([mark] * 6)})",
            [
                (c, f"R{c:06d}", f"Report Customer {c:06d}", collectors[int(owners[c - 1])], "USD", at(created))
                for c in range(1, CUSTOMERS + 1)
            ],
        )
    items = _items(rng)
    for month in range(MONTHS):
        with sessions.begin() as session:
            _month(session, engine, items, month, created)


def _driver(engine: Engine) -> tuple[str, Callable[[Any], Any]]:
    """The driver's parameter mark, and how a date or instant is passed to it (SQLite gets the
    text the ORM's types store; psycopg takes the objects)."""
    if engine.dialect.name != "sqlite":
        return "%s", lambda value: value

    def text_of(value: Any) -> str:
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value.isoformat()

    return "?", text_of


def _month(session: Session, engine: Engine, items: dict[str, np.ndarray], month: int, created: datetime) -> None:
    as_of = month_end(month)
    batch = ImportBatch(
        file_name=f"aging-{as_of.isoformat()}.csv",
        file_sha256=f"{month:064d}",
        layout="generic",
        as_of=as_of,
        rows=0,
        actor="bench",
        created_at=created + timedelta(days=31 * month),
    )
    session.add(batch)
    session.flush()
    mark, at = _driver(engine)
    marks = ", ".join([mark] * len(INVOICE_COLUMNS))
    conn = session.connection()
    new = np.flatnonzero(items["issued"] == month)
    conn.exec_driver_sql(
        f"INSERT INTO invoices ({', '.join(INVOICE_COLUMNS)}) VALUES ({marks})", _invoice_rows(items, new, batch.id)
    )
    paid = np.flatnonzero(items["paid"] == month)
    if paid.size:
        _close(conn, mark, at, items, paid, batch)
    batch.rows = int(np.count_nonzero((items["issued"] <= month) & (items["paid"] > month)))
    keep_receivables(session, batch)


def _close(
    conn: Any, mark: str, at: Callable[[Any], Any], items: dict[str, np.ndarray], paid: np.ndarray, batch: ImportBatch
) -> None:
    """The items paid this month leave the ledger with the payment an import records."""
    conn.exec_driver_sql(
        f"UPDATE invoices SET open_balance = 0, closed_on = {mark}, last_batch_id = {mark} WHERE id = {mark}",
        [(at(batch.as_of), batch.id, int(i) + 1) for i in paid],
    )
    conn.exec_driver_sql(
        f"INSERT INTO payments (customer_id, amount, received_on, source, batch_id, created_at) "
        f"VALUES ({mark}, {mark}, {mark}, 'import', {mark}, {mark})",
        [
            (int(items["customer"][i]), int(items["cents"][i]), at(batch.as_of), batch.id, at(batch.created_at))
            for i in paid
        ],
    )


def sqlite_engine() -> Engine:
    def build_file(path: Path) -> None:
        engine = make_engine(f"sqlite:///{path}")
        build(engine)
        engine.dispose()

    return sqlite_file(VERSION, build_file)


def postgres_engine(url: str) -> Engine:
    engine = postgres_database(url, VERSION)
    upgrade(engine)
    with engine.connect() as conn:
        built = conn.scalar(select(func.count()).select_from(ImportBatch))
    if built != MONTHS:
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # the cascade reaches the audit log
            conn.execute(text("TRUNCATE receivable_rollups, payments, invoices, import_batches, customers CASCADE"))
        build(engine)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        print(f"built PostgreSQL database for {VERSION} in {time.perf_counter() - started:.1f} s")
    return engine


def _receivables(figures: dict[str, Any]) -> tuple[str, str, str]:
    return figures["beginning_receivables"], figures["ending_receivables"], figures["credit_sales"]


def measure(engine: Engine, label: str) -> None:
    team = load_team(EXAMPLE_TEAM_FILE)
    ctx = AppContext(
        sessions=make_session_factory(engine),
        team=team,
        calendar=BusinessCalendar(team.country),
        clock=FixedClock(datetime(2026, 12, 1, 15, tzinfo=UTC)),
    )
    period = Period(month_start(MONTHS - 1), month_end(MONTHS - 1))
    with ctx.sessions() as session:
        open_items = session.scalar(text("SELECT count(*) FROM invoices WHERE closed_on IS NULL"))
        collector = session.execute(
            select(TeamMember.email, TeamMember.id).where(TeamMember.id.in_(select(Customer.collector_id))).limit(1)
        ).one()
        team_best, team_median, kept = timed(lambda: as_dict(kpi_report(ctx, session, period)))
        one_best, one_median, _ = timed(lambda: as_dict(kpi_report(ctx, session, period, collector=tuple(collector))))
        session.execute(update(ImportBatch).values(rollup_kept=False))  # rolled back below
        old_best, old_median, rolled = timed(lambda: as_dict(kpi_report(ctx, session, period)), repeat=3)
        session.rollback()
    print(f"[{label}] {open_items:,} open items, {MONTHS} monthly snapshots, report for {period}")
    print(f"  kpi report, team:          best {team_best:.3f} s, median {team_median:.3f} s")
    print(f"  kpi report, one collector: best {one_best:.3f} s, median {one_median:.3f} s")
    print(
        f"  rolled back from the ledger instead (same run): best {old_best:.3f} s, median {old_median:.3f} s "
        f"({old_best / team_best:.1f}x the kept receivables)"
    )
    same = _receivables(kept) == _receivables(rolled)
    print(
        f"  same beginning/ending receivables and sales both ways: {'yes' if same else 'NO'} "
        f"(B {kept['beginning_receivables']}, E {kept['ending_receivables']}, S {kept['credit_sales']}, "
        f"DSO {kept['dso']}, CEI {kept['cei']})"
    )


def main(argv: list[str] | None = None) -> None:
    cpu = time.process_time()
    measure(sqlite_engine(), "SQLite")
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        measure(postgres_engine(url), "PostgreSQL")
    print(f"  CPU time of this benchmark process: {time.process_time() - cpu:.1f} s")


if __name__ == "__main__":
    main()
