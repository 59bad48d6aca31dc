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
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bench.cache import throwaway_database, timed
from bench.calllist_data import (
    ACTIVITIES,
    ANCHOR,
    CLOSED_INVOICES,
    CUSTOMERS,
    DISPUTES,
    OPEN_INVOICES,
    PROMISES,
    postgres_engine,
    sqlite_engine,
)
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
from commands.team import load_team
from storage.db import make_engine, make_session_factory
from storage.models import Customer, Dispute, DisputeStatus, Invoice, InvoiceKind

NAIVE_SUBSET = 5_000


# -- the portfolio -------------------------------------------------------------------------------


# -- the databases -------------------------------------------------------------------------------


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
