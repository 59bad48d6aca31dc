"""The call-list benchmark's data: a seeded portfolio of 100,000 customers and 1,300,000 invoices
(with promises, disputes and contacts), built once into ``bench/data/`` for SQLite or into a
database of its own on a PostgreSQL server, migrated to the current schema and packed
(bench.bench_calllist)."""

from __future__ import annotations

import sqlite3
import time
from datetime import date
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, func, select, text

from bench.cache import postgres_database, sqlite_file
from bot.settings import EXAMPLE_TEAM_FILE
from commands.team import load_team, sync_members
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Customer
from storage.open_items import rebuild_packs

CUSTOMERS, OPEN_INVOICES, CLOSED_INVOICES = 100_000, 1_000_000, 300_000
PROMISES, DISPUTES, ACTIVITIES, PLANS = 30_000, 5_000, 200_000, 500
VERSION = "calllist-v4"  # v3's rows; a new name as the schema gained migration 0023 (the old code cannot open it)


ANCHOR = date(2026, 11, 23)  # a Monday; the list is built for it at 09:00 in Chicago


KINDS = ["standard", "recurring", "final", "retainer", "credit_memo", "unapplied_payment"]


KIND_SHARES = [0.70, 0.12, 0.04, 0.04, 0.07, 0.03]


def _dates(days_before_anchor: np.ndarray) -> list[str]:
    anchor = np.datetime64(ANCHOR.isoformat())
    return np.datetime_as_string(anchor - days_before_anchor.astype("timedelta64[D]"), unit="D").tolist()


def _instants(days_before_anchor: np.ndarray, rng: np.random.Generator) -> list[str]:
    """UTC instants, business hours in Chicago (14:00-23:00 UTC), as SQLAlchemy stores them."""
    base = np.datetime64(f"{ANCHOR.isoformat()}T14:00:00") - days_before_anchor.astype("timedelta64[D]")
    stamps = base + rng.integers(0, 9 * 3600, len(days_before_anchor)).astype("timedelta64[s]")
    return [s.replace("T", " ") + ".000000" for s in np.datetime_as_string(stamps, unit="s")]


def portfolio(collector_ids: list[int]) -> dict[str, tuple[list[str], list[tuple]]]:
    """Table name -> (columns, rows). Deterministic (seeded)."""
    rng = np.random.default_rng(20261123)
    created = "2026-01-05 15:00:00.000000"
    ids = np.arange(1, CUSTOMERS + 1)
    owners = np.array(collector_ids + [None], dtype=object)[
        rng.choice(len(collector_ids) + 1, CUSTOMERS, p=[0.98 / len(collector_ids)] * len(collector_ids) + [0.02])
    ]
    customers = [
        (int(i), f"B{i:06d}", f"Bench Customer {i:06d}", o, "USD", created) for i, o in zip(ids, owners, strict=True)
    ]

    n = OPEN_INVOICES + CLOSED_INVOICES
    owner = rng.integers(1, CUSTOMERS + 1, n)
    kind = rng.choice(len(KINDS), n, p=KIND_SHARES)
    kind[OPEN_INVOICES:] = 0
    bucket_days = [(-45, 0), (1, 30), (31, 60), (61, 90), (91, 400)]
    bucket = rng.choice(len(bucket_days), n, p=[0.45, 0.25, 0.12, 0.08, 0.10])
    lows, highs = np.array([b[0] for b in bucket_days]), np.array([b[1] for b in bucket_days])
    dpd = rng.integers(lows[bucket], highs[bucket] + 1)
    dpd[OPEN_INVOICES:] = rng.integers(30, 700, CLOSED_INVOICES)
    cents = np.maximum(rng.lognormal(np.log(150_000), 1.1, n).astype(np.int64), 100)
    cents[np.isin(kind, [4, 5])] *= -1
    open_cents = np.where(rng.random(n) < 0.1, cents // 2, cents)
    open_cents[OPEN_INVOICES:] = 0
    late = np.clip(rng.normal(12, 15, CLOSED_INVOICES), -10, None).astype(int)
    closed = [None] * OPEN_INVOICES + _dates(np.maximum(dpd[OPEN_INVOICES:] - late, 1))
    invoices = list(
        zip(
            range(1, n + 1),
            owner.tolist(),
            [f"INV{i:07d}" for i in range(n)],
            [KINDS[k] for k in kind],
            _dates(dpd),
            cents.tolist(),
            open_cents.tolist(),
            ["USD"] * n,
            closed,
            strict=True,
        )
    )

    p_status = rng.choice(["open", "kept", "broken", "cancelled"], PROMISES, p=[0.3, 0.4, 0.25, 0.05])
    p_days = np.where(p_status == "open", rng.integers(-14, 6, PROMISES), rng.integers(1, 200, PROMISES))
    p_rows = zip(
        rng.integers(1, CUSTOMERS + 1, PROMISES).tolist(),
        rng.integers(10_000, 2_000_000, PROMISES).tolist(),
        _dates(p_days),
        p_status.tolist(),
        strict=True,
    )
    open_days = set()  # one open promise per customer and day (a unique index says so)
    promises = []
    for customer, cents, day, status in p_rows:
        if status == "open":
            if (customer, day) in open_days:
                continue
            open_days.add((customer, day))
        promises.append((len(promises) + 1, customer, cents, day, 0, status, created))

    positive_open = np.flatnonzero(open_cents[:OPEN_INVOICES] > 0)
    disputed = rng.choice(positive_open, DISPUTES, replace=False)
    whole = rng.random(DISPUTES) < 0.5
    disputes = [
        (
            i + 1,
            int(owner[inv]),
            int(inv) + 1,
            int(open_cents[inv] if w else open_cents[inv] // 3),
            "billing error",
            "open",
            created,
        )
        for i, (inv, w) in enumerate(zip(disputed, whole, strict=True))
    ]

    a_days = np.where(rng.random(ACTIVITIES) < 0.03, 0, rng.integers(1, 60, ACTIVITIES))
    a_kind = rng.choice(["call", "voicemail", "email"], ACTIVITIES, p=[0.5, 0.3, 0.2])
    a_outcome = np.where(
        a_kind == "email",
        "email-sent",
        rng.choice(["reached", "no-answer", "voicemail"], ACTIVITIES, p=[0.3, 0.4, 0.3]),
    )
    activities = list(
        zip(
            range(1, ACTIVITIES + 1),
            rng.integers(1, CUSTOMERS + 1, ACTIVITIES).tolist(),
            a_kind.tolist(),
            a_outcome.tolist(),
            _instants(a_days, rng),
            strict=True,
        )
    )

    plans = [
        (i + 1, int(c), 300_000, "monthly", "active", created)
        for i, c in enumerate(rng.choice(ids, PLANS, replace=False))
    ]
    instalments = [
        (
            3 * i + k + 1,
            i + 1,
            f"2026-{9 + k:02d}-01",
            100_000,
            0,
            "missed" if k == 1 and i % 5 == 0 else ("due" if k == 2 else "paid"),
        )
        for i in range(PLANS)
        for k in range(3)
    ]
    return {
        "customers": (["id", "erp_id", "name", "collector_id", "currency", "created_at"], customers),
        "invoices": (
            ["id", "customer_id", "number", "kind", "due_date", "amount", "open_balance", "currency", "closed_on"],
            invoices,
        ),
        "promises": (["id", "customer_id", "amount", "promised_date", "paid_amount", "status", "created_at"], promises),
        "disputes": (["id", "customer_id", "invoice_id", "amount", "reason", "status", "opened_at"], disputes),
        "activities": (["id", "customer_id", "kind", "outcome", "occurred_at"], activities),
        "payment_plans": (["id", "customer_id", "total", "cadence", "status", "created_at"], plans),
        "plan_instalments": (["id", "plan_id", "due_date", "amount", "paid_amount", "status"], instalments),
    }


def _migrated(engine: Engine) -> list[int]:
    """Schema and team in place; returns the collectors' member ids."""
    upgrade(engine)
    team = load_team(EXAMPLE_TEAM_FILE)
    with make_session_factory(engine).begin() as session:
        ids = sync_members(session, team)
    return [ids[m.email] for m in team.collectors]


def sqlite_engine() -> Engine:
    engine = sqlite_file(VERSION, _build_sqlite)
    upgrade(engine)  # a file built before the latest migration gets it, as `arbot db upgrade` gives it
    return engine


def _build_sqlite(path: Path) -> None:
    engine = make_engine(f"sqlite:///{path}")
    collectors = _migrated(engine)
    engine.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    for table, (columns, rows) in portfolio(collectors).items():
        marks = ", ".join("?" * len(columns))
        con.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    con.commit()
    con.close()
    packing = make_engine(f"sqlite:///{path}")
    _pack(packing)
    packing.dispose()


def postgres_engine(url: str) -> Engine:
    engine = postgres_database(url, VERSION)
    collectors = _migrated(engine)
    with engine.connect() as conn:
        loaded = conn.scalar(select(func.count()).select_from(Customer))
    if loaded != CUSTOMERS:
        started = time.perf_counter()
        _copy_into_postgres(engine, portfolio(collectors))
        _pack(engine)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))  # fresh statistics and a visibility map for index-only scans
        print(f"built PostgreSQL database for {VERSION} in {time.perf_counter() - started:.1f} s")
    return engine


def _pack(engine: Engine) -> None:
    """The rows went in around the ORM, so the call list's packed open items are built once
    here, as the migration builds them for an existing ledger."""
    with engine.begin() as conn:
        rebuild_packs(conn)


def _copy_into_postgres(engine: Engine, tables: dict[str, tuple[list[str], list[tuple]]]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SET TIME ZONE 'UTC'")  # the generated instants are UTC wall times
        cur.execute("SET LOCAL session_replication_role = replica")  # the cascade reaches the append-only audit log
        cur.execute("TRUNCATE " + ", ".join(reversed(list(tables))) + " CASCADE")
        cur.execute("SET LOCAL session_replication_role = origin")
        for table, (columns, rows) in tables.items():
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()
