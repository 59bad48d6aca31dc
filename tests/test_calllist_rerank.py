"""A kept list ranked again for the few accounts that changed gives exactly what a full ranking
gives: after each of a seeded random run of ledger changes made as people make them (calls logged,
promises, payments confirmed by finance, disputes, new invoices, accounts moved between
collectors), every collector's list and the team's, as the cache answers it, equals a fresh full
ranking row for row (rank, score, reasons, tier order). Small capacities and heavy payment history
make the cut, the shortlist and the history rule matter. On SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from commands.calllist import build_call_list
from commands.calllist.portfolio import merged_items
from commands.calllist.rerank import INCREMENTAL_LIMIT
from commands.context import AppContext
from storage.audit import record
from storage.models import Customer, Invoice, InvoiceKind, TeamMember
from storage.open_items import OpenItems, item_dtype
from tests.support.harness import Conversation
from tests.support.ledger import DANA, LEE, MONDAY, SAM, Ledger
from tests.support.world import PRIYA

COLLECTORS = (DANA, SAM, LEE)
LATER = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


def _portfolio(ctx: AppContext, rng: random.Random) -> list[str]:
    """Thirty accounts of three collectors and nobody, alike enough that ties and tier floors
    matter, with payment history that decides places near the cut."""
    erp_ids = []
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        for n in range(30):
            customer = ledger.customer(f"G{n:02d}", collector=rng.choice([*COLLECTORS, None]))
            erp_ids.append(customer.erp_id)
            for _ in range(rng.randint(1, 4)):
                kind = rng.choice([InvoiceKind.STANDARD, InvoiceKind.RECURRING, InvoiceKind.FINAL])
                ledger.invoice(customer, str(rng.choice([90, 800, 2000, 2000])), rng.randint(-5, 120), kind)
            for _ in range(rng.randint(0, 3)):
                ledger.paid_invoice(customer, "700", rng.randint(60, 300), rng.randint(0, 45))
    return erp_ids


def _owner(ctx: AppContext, erp_id: str) -> str:
    with ctx.sessions() as session:
        email = session.scalar(
            select(TeamMember.email)
            .join(Customer, Customer.collector_id == TeamMember.id)
            .where(Customer.erp_id == erp_id)
        )
    return email or DANA


def _open_invoice(ctx: AppContext, erp_id: str, rng: random.Random) -> str | None:
    with ctx.sessions() as session:
        numbers = session.scalars(
            select(Invoice.number)
            .join(Customer, Customer.id == Invoice.customer_id)
            .where(Customer.erp_id == erp_id, Invoice.closed_on.is_(None), Invoice.amount > 0)
            .order_by(Invoice.number)
        ).all()
    return rng.choice(numbers) if numbers else None


def _recorded(ctx: AppContext, erp_id: str, action: str, change: object) -> None:
    """A change made in one transaction with the audit event that names its customer, as every
    ledger change is made (no chat command moves an account or adds an invoice: imports do)."""
    with ctx.sessions.begin() as session:
        customer = session.scalars(select(Customer).where(Customer.erp_id == erp_id)).one()
        change(session, customer)  # type: ignore[operator]
        record(
            session,
            at=LATER,
            actor="admin@example.com",
            action=action,
            entity_type="customer",
            entity_id=customer.id,
            customer_id=customer.id,
        )


def _step(ctx: AppContext, chat: Conversation, rng: random.Random, erp_ids: list[str], done: list[str]) -> str:
    """One random ledger change; returns what it was, for the failure message."""
    erp_id = rng.choice(erp_ids)
    who = _owner(ctx, erp_id)
    op = rng.choice(["log", "log", "promise", "paid", "dispute", "invoice", "move"])
    if op == "log":
        text = f"log {erp_id} {rng.choice(['reached', 'no-answer', 'voicemail'])}"
        chat.say(who, text)
    elif op == "promise":
        text = f"promise {erp_id} {rng.choice(['300', '1,500'])} {rng.choice(['fri', 'tomorrow', 'in 5 days'])}"
        chat.say(who, text)
    elif op == "paid":
        text = f"paid {erp_id} {rng.choice(['200', '900', '2,500'])} today"
        before = len(chat.messenger.posts("finance"))
        chat.say(who, text)
        cards = chat.messenger.posts("finance")[before:]
        if cards and cards[0].reply.buttons and rng.random() < 0.8:
            chat.click(PRIYA, cards[0], "Confirm")
    elif op == "dispute":
        number = _open_invoice(ctx, erp_id, rng)
        text = f"dispute {erp_id} {number} {rng.choice(['50', '400'])} billed twice" if number else f"status {erp_id}"
        chat.say(who, text)
    elif op == "invoice":
        dpd, amount = rng.randint(-3, 95), str(rng.choice([120, 1500, 6000]))
        text = f"new invoice of {amount}, {dpd} days past due, for {erp_id}"

        kind, number = rng.choice(list(InvoiceKind)[:3]), f"N-{len(done)}"

        def add(session, customer):  # type: ignore[no-untyped-def]
            due = MONDAY - timedelta(days=dpd)
            money = Decimal(amount)
            session.add(
                Invoice(
                    customer_id=customer.id, number=number, kind=kind, due_date=due, amount=money, open_balance=money
                )
            )

        _recorded(ctx, erp_id, "invoice.added", add)
    else:
        to = rng.choice([*COLLECTORS, None])
        text = f"{erp_id} moved to {to}"

        def move(session, customer):  # type: ignore[no-untyped-def]
            customer.collector_id = session.scalar(select(TeamMember.id).where(TeamMember.email == to)) if to else None

        _recorded(ctx, erp_id, "customer.reassigned", move)
    return text


def _every_list_is_fresh(ctx: AppContext, done: list[str]) -> None:
    for email in (*COLLECTORS, None):
        with ctx.sessions() as session:
            kept = ctx.call_lists.call_list(session, ctx, day=MONDAY, collector_email=email)
        with ctx.sessions() as session:
            fresh = build_call_list(session, ctx, day=MONDAY, collector_email=email)
        assert kept == fresh, f"{email or 'the team'}'s list after {done}"


@pytest.mark.parametrize("seed", [1, 2])
def test_lists_ranked_again_for_changed_accounts_are_full_rankings(ctx: AppContext, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    ctx.policy_file = tmp_path / "policy.toml"
    ctx.policy_file.write_text("[list]\ncapacity = 4\n\n[rules.days_late]\nweight = 700\nmin_paid_invoices = 1\n")
    erp_ids = _portfolio(ctx, rng)
    chat = Conversation(ctx)
    done: list[str] = []
    _every_list_is_fresh(ctx, done)
    for _ in range(24):
        done.append(_step(ctx, chat, rng, erp_ids, done))
        _every_list_is_fresh(ctx, done)
    cache = ctx.call_lists
    assert cache.incremental >= 24, (cache.computed, cache.incremental)
    assert cache.computed > cache.incremental, "the first lists were ranked in full"


def test_an_event_naming_no_customer_ranks_in_full(ctx: AppContext, tmp_path: Path) -> None:
    erp_ids = _portfolio(ctx, random.Random(4))
    _every_list_is_fresh(ctx, [])
    full = ctx.call_lists.computed - ctx.call_lists.incremental
    with ctx.sessions.begin() as session:
        record(session, at=LATER, actor="system:import", action="import", entity_type="import_batch")
    _every_list_is_fresh(ctx, ["an import"])
    assert ctx.call_lists.computed - ctx.call_lists.incremental == full + 4
    Conversation(ctx).say(_owner(ctx, erp_ids[0]), f"log {erp_ids[0]} voicemail")
    before = ctx.call_lists.incremental
    _every_list_is_fresh(ctx, ["a voicemail"])
    assert ctx.call_lists.incremental - before >= 2, "the owner's list and the team's: incrementally"


def test_more_changed_accounts_than_the_limit_rank_in_full(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        customers = [ledger.customer(f"M{n:03d}", collector=DANA) for n in range(INCREMENTAL_LIMIT + 1)]
        for customer in customers:
            ledger.invoice(customer, "1000", 40)
    _every_list_is_fresh(ctx, [])
    before = (ctx.call_lists.computed, ctx.call_lists.incremental)
    for customer in customers:
        _recorded(ctx, customer.erp_id, "note", lambda session, c: None)
    _every_list_is_fresh(ctx, ["a note on every account"])
    assert ctx.call_lists.incremental == before[1], "too many changed: ranked in full"
    assert ctx.call_lists.computed == before[0] + 2, "Dana's list and the team's"


def test_merged_items_keep_customers_ascending_with_their_own_items() -> None:
    def items(pairs: list[tuple[int, list[int]]]) -> OpenItems:
        table = np.zeros(sum(len(c) for _, c in pairs), item_dtype())
        table["cents"] = [cents for _, cs in pairs for cents in cs]
        return OpenItems(
            np.array([c for c, _ in pairs], dtype=np.int64),
            np.array([len(cs) for _, cs in pairs], dtype=np.int64),
            table,
        )

    kept = items([(1, [10, 11]), (3, [30]), (5, [50, 51, 52])])
    merged = merged_items(kept, np.array([3, 5]), items([(2, [20]), (5, [55]), (7, [70, 71])]))
    assert merged.customer_ids.tolist() == [1, 2, 5, 7]
    assert merged.counts.tolist() == [2, 1, 1, 2]
    assert merged.items["cents"].tolist() == [10, 11, 20, 55, 70, 71]
