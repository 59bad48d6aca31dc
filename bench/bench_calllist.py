"""Call-list benchmark: 100,000 customers with 1,000,000 open invoices.

Builds the portfolio once (plus closed invoices for payment history, promises, disputes, plans and
contacts) straight into an SQLite file under bench/data/, named by ``VERSION`` so a change to the
generator builds a new one; with ``BENCH_DATABASE_URL`` set, the same rows go into a PostgreSQL
database on that server (kept between runs too). Then it times ``build_call_list`` for the whole
team and for one collector, and the same ranking done naively, one ORM query per customer,
checking both give the same list.

Last, the CPU one list costs in the shape `arbot serve` ranks it all day: one collector's 300
past-due accounts of the soak portfolio (bench.bench_soak), in a throwaway database (on the
PostgreSQL server when ``BENCH_DATABASE_URL`` is set).

    python -m bench.bench_calllist [--naive-full]
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from bench.cache import postgres_database, sqlite_file, throwaway_database, timed
from bot.settings import EXAMPLE_TEAM_FILE
from commands.calendar import BusinessCalendar
from commands.calllist import Policy, build_call_list, load_policy
from commands.calllist.account_facts import load_history
from commands.calllist.cutoffs import Cutoffs, cutoffs_for
from commands.calllist.features import open_item_features, with_account_facts
from commands.calllist.ranking import cut_to_capacity, score
from commands.calllist.table import Table
from commands.clock import FixedClock
from commands.context import AppContext
from commands.team import load_team, sync_members
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Customer, Dispute, DisputeStatus, Invoice, InvoiceKind
from storage.open_items import rebuild_packs

VERSION = "calllist-v4"  # v3's rows; a new name as the schema gained migration 0023 (the old code cannot open it)
CUSTOMERS, OPEN_INVOICES, CLOSED_INVOICES = 100_000, 1_000_000, 300_000
PROMISES, DISPUTES, ACTIVITIES, PLANS = 30_000, 5_000, 200_000, 500
NAIVE_SUBSET = 5_000
ANCHOR = date(2026, 11, 23)  # a Monday; the list is built for it at 09:00 in Chicago
KINDS = ["standard", "recurring", "final", "retainer", "credit_memo", "unapplied_payment"]
KIND_SHARES = [0.70, 0.12, 0.04, 0.04, 0.07, 0.03]


# -- the portfolio -------------------------------------------------------------------------------


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


# -- the databases -------------------------------------------------------------------------------


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


# -- the naive way: one ORM query per customer ---------------------------------------------------

_ITEM_COLUMNS = [
    "balance",
    "past_due",
    "oldest_dpd",
    "window",
    "finals",
    "mrr_months",
    "crossing",
    "amount_final_invoice",
    "amount_unpaid_mrr",
    "amount_over_30_days",
    "amount_crossing_soon",
]


def naive_items(session: Session, cut: Cutoffs, customer_ids: list[int]) -> pd.DataFrame:
    """The open-item columns worked out item by item in Python from each customer's invoices,
    loaded with one ORM query per customer."""
    disputed: dict[int, int] = {}
    for invoice_id, amount in session.execute(
        select(Dispute.invoice_id, Dispute.amount).where(
            Dispute.status == DisputeStatus.OPEN, Dispute.invoice_id.is_not(None)
        )
    ):
        disputed[invoice_id] = disputed.get(invoice_id, 0) + int(amount * 100)
    records = {}
    for customer_id in customer_ids:
        items = session.scalars(
            select(Invoice).where(Invoice.customer_id == customer_id, Invoice.closed_on.is_(None))
        ).all()
        if items:
            records[customer_id] = _naive_row(items, disputed, cut)
    frame = pd.DataFrame.from_dict(records, orient="index", columns=_ITEM_COLUMNS)
    frame.index.name = "customer_id"
    return frame


def _naive_row(items: list[Invoice], disputed: dict[int, int], cut: Cutoffs) -> dict[str, Any]:
    """One customer's open-item columns, item by item: the counts the rules read and the cents
    behind each tier's fact, which the tier floor compares."""
    row: dict[str, Any] = dict.fromkeys(_ITEM_COLUMNS, 0)
    ages = []
    for item in items:
        row["balance"] += int(item.open_balance * 100)
        cents = int(item.open_balance * 100) - disputed.get(item.id, 0)
        if cents <= 0:
            continue
        due, kind, dpd = item.due_date, item.kind, (cut.day - item.due_date).days
        ages.append(dpd)
        final = kind == InvoiceKind.FINAL and cut.final_from <= due <= cut.final_until
        mrr = kind == InvoiceKind.RECURRING and due < cut.day
        crossing = any(c.due_after < due <= c.due_until for c in cut.crossings)
        row["past_due"] += cents if due < cut.day else 0
        row["window"] += cut.window_from <= due <= cut.window_until
        row["finals"] += final
        row["mrr_months"] += mrr
        row["crossing"] += crossing
        row["amount_final_invoice"] += cents if final else 0
        row["amount_unpaid_mrr"] += cents if mrr else 0
        row["amount_over_30_days"] += cents if due <= cut.over[30] else 0
        row["amount_crossing_soon"] += cents if crossing else 0
    row["oldest_dpd"] = max(ages, default=float("nan"))
    return row


# -- timing --------------------------------------------------------------------------------------


def _context(engine: Engine) -> AppContext:
    team = load_team(EXAMPLE_TEAM_FILE)
    return AppContext(
        sessions=make_session_factory(engine),
        team=team,
        calendar=BusinessCalendar(team.country),
        clock=FixedClock(datetime(2026, 11, 23, 15, tzinfo=UTC)),
    )


def _ranked(session: Session, cut: Cutoffs, items: Table, policy: Policy, capacity: int) -> Table:
    """The list from open-item columns, with every account's facts and payment history."""
    features = with_account_facts(session, cut, items, collector_id=None)
    history = load_history(session, cut, None, collector_id=None).reindex(pd.Index(features.ids))
    features = features.assign(
        avg_days_late=history["avg_days_late"].to_numpy(),
        paid_invoices=history["paid_invoices"].fillna(0).astype("int64").to_numpy(),
    )
    return cut_to_capacity(score(features, policy), capacity)


def measure(engine: Engine, label: str, naive_full: bool) -> None:
    ctx = _context(engine)

    def call_list(**kwargs: Any) -> list:
        with ctx.sessions() as session:
            return build_call_list(session, ctx, day=ANCHOR, **kwargs)

    best, median, rows, cpu = _timed_with_cpu(call_list)
    print(
        f"{label}: whole team ({len(rows)} rows): best {best:.3f} s, median {median:.3f} s, "
        f"CPU median {cpu:.3f} s (of 5)"
    )
    one_best, one_median, mine, one_cpu = _timed_with_cpu(
        lambda: call_list(collector_email=ctx.team.collectors[0].email)
    )
    print(
        f"{label}: one collector ({len(mine)} rows): best {one_best:.3f} s, median {one_median:.3f} s, "
        f"CPU median {one_cpu:.3f} s (of 5)"
    )
    measure_reuse(ctx, mine, label)
    naive = measure_naive(ctx, CUSTOMERS if naive_full else NAIVE_SUBSET, label)
    print(f"{label}: naive / set-based (whole team, best) = {naive / best:.0f}x")


def _timed_with_cpu(fn: Any, repeat: int = 5) -> tuple[float, float, Any, float]:
    """:func:`bench.cache.timed`'s (best, median, result), and the median of this process's CPU
    seconds per run: on the shared machine the wall time says as much about the others' load as
    about the list (PostgreSQL's own work is not in it)."""
    cpu: list[float] = []

    def counted() -> Any:
        started = time.process_time()
        try:
            return fn()
        finally:
            cpu.append(time.process_time() - started)

    best, median, result = timed(counted, repeat)
    return best, median, result, statistics.median(cpu)


def measure_reuse(ctx: AppContext, ranked: list, label: str) -> None:
    """`list` asked again with no ledger change since: the kept list after two small queries
    (commands.calllist.reuse)."""
    email = ctx.team.collectors[0].email

    def asked() -> list:
        with ctx.sessions() as session:
            return ctx.call_lists.call_list(session, ctx, day=ANCHOR, collector_email=email)

    asked()  # ranked and kept
    best, median, again = timed(asked)
    print(
        f"{label}: one collector, asked again with no change since: best {best * 1000:.2f} ms, "
        f"median {median * 1000:.2f} ms (of 5); same rows as ranked: {'yes' if again == ranked else 'NO'}"
    )


def measure_naive(ctx: AppContext, customers: int, label: str) -> float:
    """Seconds the naive way takes for all customers: measured, or extrapolated from a subset
    (the per-customer queries scale with customers; the rest is paid once). Checks that it gives
    the same list as the set-based features for the same customers."""
    subset = list(range(1, customers + 1))
    policy, capacity = load_policy(None), ctx.team.capacity
    cut = cutoffs_for(ANCHOR, policy, ctx.calendar, ctx.team.timezone)
    with ctx.sessions() as session:
        started = time.perf_counter()
        items = naive_items(session, cut, subset)
        per_customer = time.perf_counter() - started
        naive = _ranked(session, cut, Table.from_frame(items), policy, capacity)
        once = time.perf_counter() - started - per_customer
        fast = open_item_features(session, cut, collector_id=None)
        fast = _ranked(session, cut, fast.take(np.isin(fast.ids, subset)), policy, capacity)
    same = naive.ids.tolist() == fast.ids.tolist() and np.allclose(naive["score"], fast["score"])
    whole = per_customer * CUSTOMERS / customers + once
    how = (
        "measured"
        if customers == CUSTOMERS
        else (
            f"EXTRAPOLATED from {customers:,} customers ({per_customer:.2f} s of per-customer queries, x"
            f"{CUSTOMERS // customers}, plus {once:.2f} s once)"
        )
    )
    print(
        f"{label}: naive, one ORM query per customer, for {CUSTOMERS:,} customers: {whole:.1f} s {how}; "
        f"same list as set-based on those customers: {'yes' if same else 'NO'}"
    )
    return whole


def measure_cpu_per_list(repeat: int = 40) -> None:
    """Process CPU seconds for one collector's list of the soak portfolio: what a busy server
    pays per `list` it has to rank (the wall time on a loaded machine says less). Then the same
    list after a call logged on one of its accounts, ranked again for that account only by the
    cache (commands.calllist.rerank), against a full ranking of the same ledger, alternating."""
    import tempfile

    from bench.soak_world import MONDAY, TODAY, _prepare, team_file

    with tempfile.TemporaryDirectory() as folder, throwaway_database("calllist_cpu") as url:
        team_path = team_file(Path(folder))
        _prepare(url, team_path)
        team = load_team(team_path)
        engine = make_engine(url)
        ctx = AppContext(
            sessions=make_session_factory(engine),
            team=team,
            calendar=BusinessCalendar(team.country),
            clock=FixedClock(MONDAY),
        )
        emails = [m.email for m in team.collectors]
        cpu = []
        for n in range(repeat + 5):
            started = time.process_time()
            with ctx.sessions() as session:
                rows = build_call_list(session, ctx, day=TODAY, collector_email=emails[n % len(emails)])
            if n >= 5:  # the first lists warm the caches
                cpu.append(time.process_time() - started)
        full, again, same = _after_one_call(ctx, emails[0], TODAY, repeat)
        engine.dispose()
    where = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(
        f"{where}: CPU per list, one collector of the soak portfolio (300 accounts, {len(rows)} rows): "
        f"median {statistics.median(cpu) * 1000:.1f} ms, best {min(cpu) * 1000:.1f} ms (of {repeat})"
    )
    print(
        f"{where}: CPU per list after a call on one account: ranked again for it "
        f"{statistics.median(again) * 1000:.1f} ms median ({min(again) * 1000:.1f}-{max(again) * 1000:.1f}), "
        f"full ranking {statistics.median(full) * 1000:.1f} ms ({min(full) * 1000:.1f}-{max(full) * 1000:.1f}) "
        f"(of {len(again)}, alternating; {ctx.call_lists.incremental} incremental); same rows: "
        f"{'yes' if same else 'NO'}"
    )


def _after_one_call(ctx: AppContext, email: str, day: date, repeat: int) -> tuple[list[float], list[float], bool]:
    """CPU seconds of a full ranking and of the cache's ranking again, each after a call logged
    (with its audit event) on the next of the collector's accounts; and whether every list the
    cache gave was the full ranking's."""
    from storage.audit import record
    from storage.models import Activity, ActivityKind, Outcome, TeamMember

    with ctx.sessions() as session:
        member = session.scalars(select(TeamMember).where(TeamMember.email == email)).one()
        accounts = list(session.scalars(select(Customer.id).where(Customer.collector_id == member.id)))
        member_id = member.id
    full, again, same = [], [], True
    for n in range(repeat + 2):
        with ctx.sessions.begin() as session:
            at = ctx.clock.now()
            customer = accounts[n % len(accounts)]
            session.add(
                Activity(
                    customer_id=customer,
                    member_id=member_id,
                    kind=ActivityKind.CALL,
                    outcome=Outcome.NO_ANSWER,
                    occurred_at=at,
                )
            )
            record(
                session,
                at=at,
                actor=email,
                action="call.logged",
                entity_type="customer",
                entity_id=customer,
                customer_id=customer,
            )
        started = time.process_time()
        with ctx.sessions() as session:
            kept = ctx.call_lists.call_list(session, ctx, day=day, collector_email=email)
        if n >= 2:  # the first one ranks in full and is kept
            again.append(time.process_time() - started)
        started = time.process_time()
        with ctx.sessions() as session:
            fresh = build_call_list(session, ctx, day=day, collector_email=email)
        if n >= 2:
            full.append(time.process_time() - started)
        same = same and kept == fresh
    return full, again, same


def main(argv: list[str] | None = None) -> None:
    naive_full = "--naive-full" in (argv or [])
    print(
        f"call list: {CUSTOMERS:,} customers, {OPEN_INVOICES:,} open invoices, "
        f"{CLOSED_INVOICES:,} closed, {PROMISES:,} promises, {DISPUTES:,} disputes, {ACTIVITIES:,} contacts"
    )
    measure(sqlite_engine(), "SQLite", naive_full)
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        measure(postgres_engine(url), "PostgreSQL", naive_full)
    measure_cpu_per_list()


if __name__ == "__main__":
    main(sys.argv[1:])
