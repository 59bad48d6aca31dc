"""``load_demo``: write the deterministic demo portfolio into an empty ledger.

Determinism contract: the same seed, customer count and anchor day (the team's work day at
load time) give the same rows, because everything is drawn from one ``random.Random(seed)``
in a fixed order and every date is computed from the anchor, never from the wall clock.

Demo customers are marked by their ERP id prefix ``DEMO-C`` (``DEMO-C10000`` ...). The demo
refuses to load next to other customers, so demo data never mixes into a real ledger."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.team import Team, sync_members
from demo import activities, commitments
from demo.ledger import (
    BROKE_PROMISE,
    DISPUTING,
    HOLD,
    INDUSTRIES,
    PLAN,
    PROMISED,
    REACHED,
    REGULAR,
    TRIED,
    Account,
    bill,
    cast_stories,
    number_invoices,
    open_account,
    weighted,
)
from demo.names import company_names
from demo.summary import DemoSummary, summarize
from demo.timeline import Timeline
from storage.audit import record
from storage.models import Base, Customer, PaymentPlan

DEMO_ERP_PREFIX = "DEMO-C"
MIN_CUSTOMERS, MAX_CUSTOMERS = 40, 5000
ACTOR = "system:demo"
HOLD_APPROVERS = frozenset({"manager", "controller", "vp_finance"})
PLAN_APPROVERS = frozenset({"controller", "vp_finance"})


class DemoError(ValueError):
    """The demo cannot be loaded here; the message says why. Nothing was written."""


class DemoAlreadyLoaded(DemoError):
    """The database already holds the demo: a rerun is a no-op, not a failure."""

    def __init__(self, customers: int) -> None:
        self.customers = customers
        super().__init__(f"demo portfolio already loaded ({customers} customers); use a fresh DATABASE_URL to reload")


def load_demo(session: Session, ctx: AppContext, *, seed: int = 7, customers: int = 300) -> DemoSummary:
    """Load the portfolio in the caller's transaction and return what was stored.

    Writes one ``demo.load`` audit event with the counts instead of one per row: the demo is a
    seed, not changes anybody made to the ledger."""
    if not MIN_CUSTOMERS <= customers <= MAX_CUSTOMERS:
        raise DemoError(f"the demo needs between {MIN_CUSTOMERS} and {MAX_CUSTOMERS} customers (got {customers})")
    if not ctx.team.collectors:
        raise DemoError("the team file names no collector to own the demo accounts")
    _refuse_if_not_empty(session)
    ids = sync_members(session, ctx.team)
    t = Timeline(ctx.work_day(), ctx.calendar, ctx.team.timezone)
    rng = random.Random(seed)

    accounts = _ledger(rng, t, customers, ctx.team, ids)
    session.add_all([a.customer for a in accounts])
    session.flush()
    for a in accounts:
        a.bind()
    session.add_all([row for a in accounts for row in (*a.invoices, *a.payments)])
    session.flush()
    rows = _commitments(
        rng,
        t,
        accounts,
        hold_by=_first_with(ctx.team, ids, HOLD_APPROVERS),
        plan_by=_first_with(ctx.team, ids, PLAN_APPROVERS),
    )
    session.add_all(rows)
    session.flush()

    counts = Counter(row.__tablename__ for row in rows)
    counts.update(
        customers=len(accounts),
        contacts=sum(len(a.customer.contacts) for a in accounts),
        invoices=sum(len(a.invoices) for a in accounts),
        payments=sum(len(a.payments) for a in accounts),
        plan_instalments=sum(len(r.instalments) for r in rows if isinstance(r, PaymentPlan)),
    )
    record(
        session,
        at=ctx.clock.now(),
        actor=ACTOR,
        action="demo.load",
        entity_type="portfolio",
        seed=seed,
        anchor=t.anchor,
        counts=dict(sorted(counts.items())),
    )
    session.flush()
    return summarize(session, t)


def _refuse_if_not_empty(session: Session) -> None:
    is_demo = Customer.erp_id.startswith(DEMO_ERP_PREFIX, autoescape=True)
    demo = session.scalar(select(func.count(Customer.id)).where(is_demo)) or 0
    other = session.scalar(select(func.count(Customer.id)).where(~is_demo)) or 0
    if other:
        noun = "customer that is" if other == 1 else "customers that are"
        raise DemoError(
            f"this database already holds {other} {noun} not demo data; "
            "the demo loads only into an empty ledger (use a fresh DATABASE_URL)"
        )
    if demo:
        raise DemoAlreadyLoaded(demo)


def _ledger(rng: random.Random, t: Timeline, count: int, team: Team, ids: dict[str, int]) -> list[Account]:
    industries = [weighted(rng, INDUSTRIES)[0] for _ in range(count)]
    names = company_names(rng, industries)
    accounts = []
    for i, (industry, name, story) in enumerate(zip(industries, names, cast_stories(rng, count), strict=True)):
        erp_id = f"{DEMO_ERP_PREFIX}{10000 + i}"
        owner = team.collector_for(erp_id, name)
        account = open_account(rng, t, erp_id, name, industry, story, ids[owner.email] if owner else None)
        bill(rng, t, account)
        accounts.append(account)
    number_invoices(accounts)
    return accounts


def _commitments(
    rng: random.Random, t: Timeline, accounts: list[Account], *, hold_by: int | None, plan_by: int | None
) -> list[Base]:
    """Promises, disputes, the hold, the plan and the activity log, in a fixed draw order."""
    cast: dict[str, list[Account]] = defaultdict(list)
    for a in accounts:
        cast[a.story].append(a)
    rows: list[Base] = commitments.kept_promises(rng, t, accounts, max(6, len(accounts) // 12))
    rows += commitments.broken_promises(rng, t, cast[BROKE_PROMISE])
    rows += commitments.open_promises(rng, t, cast[PROMISED])
    rows += commitments.open_disputes(rng, t, cast[DISPUTING])
    rows += commitments.resolved_disputes(rng, t, cast[REGULAR], 3)
    rows.append(commitments.active_hold(rng, t, cast[HOLD][0], hold_by))
    rows += commitments.payment_plan(rng, t, cast[PLAN][0], plan_by, hold_by)
    rows += activities.history(rng, t, accounts)
    rows += activities.reached_this_morning(rng, t, cast[REACHED])
    rows += activities.tried_three_times(rng, t, cast[TRIED])
    return rows


def _first_with(team: Team, ids: dict[str, int], roles: frozenset[str]) -> int | None:
    return next((ids[m.email] for m in team.members if m.roles & roles), None)
