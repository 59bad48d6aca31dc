"""How :func:`commands.calllist.build_call_list` builds the list: policy, features, scores, cut,
rows. numpy and pandas come in with this module, which the package imports only when a list is
built."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from commands.calllist import CallListError, CallListRow
from commands.calllist.account_facts import load_history
from commands.calllist.cutoffs import Cutoffs, cutoffs_for
from commands.calllist.features import load_details, load_features_and_items
from commands.calllist.gc_pause import gc_paused
from commands.calllist.policy import Policy, load_policy
from commands.calllist.portfolio import NO_HISTORY, Portfolio, Ranked, Setup
from commands.calllist.ranking import SORT_KEYS, cut_to_capacity, reasons, rescore_history, score_every, shortlist
from commands.calllist.rules import present
from commands.calllist.sql import Statement, without_jit
from commands.calllist.table import Table
from commands.context import AppContext
from storage.models import TeamMember
from storage.types import from_cents


def call_list(
    session: Session, ctx: AppContext, *, day: date, collector_email: str | None = None, capacity: int | None = None
) -> list[CallListRow]:
    """See :func:`commands.calllist.build_call_list`."""
    return rank(session, ctx, day=day, collector_email=collector_email, capacity=capacity).rows


def rank(
    session: Session, ctx: AppContext, *, day: date, collector_email: str | None = None, capacity: int | None = None
) -> Ranked:
    """The list ranked from everything its accounts hold, with what it was made of
    (:class:`commands.calllist.portfolio.Portfolio`), so that a few accounts' changes can rank it
    again (:func:`commands.calllist.rerank.rerank`)."""
    with gc_paused(), without_jit(session):
        setup = list_setup(session, ctx, day=day, collector_email=collector_email, capacity=capacity)
        features, collectible = load_features_and_items(session, setup.cut, collector_id=setup.collector_id)
        return finish(session, ctx, Portfolio.start(setup, features, collectible))


def list_setup(
    session: Session, ctx: AppContext, *, day: date, collector_email: str | None, capacity: int | None
) -> Setup:
    """The policy, capacity, collector and cut-offs a list on ``day`` is ranked with."""
    policy = load_policy(ctx.policy_file)
    collector_id = _collector_id(session, collector_email) if collector_email is not None else None
    cut = cutoffs_for(
        day, policy, ctx.calendar, ctx.team.timezone, promise_grace_days=ctx.team.workflow.timers.promise_grace_days
    )
    return Setup(policy, _capacity(capacity, policy, ctx), collector_id, cut)


def finish(session: Session, ctx: AppContext, portfolio: Portfolio) -> Ranked:
    """Every step across accounts, on the whole portfolio: scores and tiers, the shortlist, the
    cut at capacity, the ranks and the team's order. Payment history and the listed accounts'
    rows are read and made only for the accounts the portfolio does not hold them for yet."""
    setup = portfolio.setup
    policy, capacity = setup.policy, setup.capacity
    emails: dict[int, str] = {int(i): str(e) for i, e in session.execute(_member_emails())}
    every, scored = score_every(portfolio.features, policy)
    keys = every.select(SORT_KEYS).take(scored)  # a few columns of the scored rows, not all of them
    candidates = every.take(scored[shortlist(keys, capacity, headroom=policy.rules.days_late.weight)])
    portfolio = portfolio.with_history(_history_of(session, portfolio, candidates.ids.tolist()))
    listed = cut_to_capacity(_with_history(candidates, portfolio.history, policy), capacity)
    ids: list[int] = listed.ids.tolist()
    fresh = portfolio.lacking_rows(ids, emails)
    made = _rows(session, ctx, portfolio, listed.take(listed.positions(fresh)), emails)
    rows = [
        made[cid] if cid in made else replace(portfolio.rows[cid], rank=rank)  # made rows carry their rank
        for cid, rank in zip(ids, listed["rank"].tolist(), strict=True)
    ]
    portfolio = portfolio.with_rows(made, emails)
    return Ranked(sorted(rows, key=_team_order(ctx)), portfolio)


# Up to this many accounts, payment history is read customer by customer through an index;
# beyond it, one scan of closed invoices is cheaper.
HISTORY_BY_CUSTOMER_LIMIT = 5000


def _history_of(session: Session, portfolio: Portfolio, ids: list[int]) -> pd.DataFrame:
    """Payment history of the shortlisted accounts the portfolio has none for yet, the one input
    read only for those that can still make the list."""
    wanted = portfolio.lacking_history(ids)
    if not wanted:
        return NO_HISTORY
    setup = portfolio.setup
    by_customer = wanted if len(wanted) <= HISTORY_BY_CUSTOMER_LIMIT else None
    return load_history(session, setup.cut, by_customer, collector_id=setup.collector_id).reindex(
        pd.Index(wanted, name="customer_id")
    )


def _with_history(scored: Table, history: pd.DataFrame, policy: Policy) -> Table:
    """The shortlisted accounts with their payment history (none: NaN days late, 0 paid), and
    their scores with its points (:func:`rescore_history`)."""
    at = history.index.get_indexer(pd.Index(scored.ids))
    known = at >= 0
    avg_days_late = np.full(len(scored), np.nan)
    avg_days_late[known] = history["avg_days_late"].to_numpy(dtype=np.float64)[at[known]]
    paid = np.nan_to_num(history["paid_invoices"].to_numpy(dtype=np.float64)[at[known]])
    paid_invoices = np.zeros(len(scored), dtype=np.int64)
    paid_invoices[known] = paid.astype(np.int64)
    return rescore_history(scored.assign(avg_days_late=avg_days_late, paid_invoices=paid_invoices), policy)


def _rows(
    session: Session, ctx: AppContext, portfolio: Portfolio, listed: Table, emails: dict[int, str]
) -> dict[int, CallListRow]:
    """The rows of listed accounts the portfolio holds none for yet, with their names and the
    amounts and dates behind their reasons (read for these accounts only)."""
    if len(listed) == 0:
        return {}
    ids: list[int] = listed.ids.tolist()
    setup = portfolio.setup
    details = _records_by_id(load_details(session, setup.cut, ids, ctx.team, portfolio.collectible))
    return {
        cid: _row(cid, fields, details[cid], emails, setup.policy, setup.cut)
        for cid, fields in zip(ids, listed.records(), strict=True)
    }


def _records_by_id(frame: pd.DataFrame) -> dict[int, dict[str, Any]]:
    """A frame's rows as dicts of Python values by customer id, as ``to_dict("index")`` gives
    them, column by column (pandas' own way goes cell by cell)."""
    names = [str(name) for name in frame.columns]
    values = [frame[name].tolist() for name in frame.columns]
    return {
        int(cid): dict(zip(names, row, strict=True))
        for cid, row in zip(frame.index.tolist(), zip(*values, strict=True), strict=True)
    }


def _capacity(asked: int | None, policy: Policy, ctx: AppContext) -> int:
    capacity = asked if asked is not None else policy.list.capacity or ctx.team.capacity
    if capacity < 1:
        raise CallListError(f"capacity must be at least 1, not {capacity}")
    return capacity


@cache
def _member_emails() -> Statement:
    return select(TeamMember.id, TeamMember.email)


@cache
def _member_by_email() -> Statement:
    return select(TeamMember.id).where(func.lower(TeamMember.email) == bindparam("email"))


def _collector_id(session: Session, email: str) -> int:
    wanted = email.strip().lower()
    member_id: int | None = session.scalar(_member_by_email(), {"email": wanted})
    if member_id is None:
        raise CallListError(f"{email} is not a member of the team")
    return member_id


def _row(
    customer_id: int,
    fields: Mapping[str, Any],
    details: Mapping[str, Any],
    emails: dict[int, str],
    policy: Policy,
    cut: Cutoffs,
) -> CallListRow:
    row = {**fields, **details}
    oldest = row["oldest_due"]
    collector = row["collector_id"]
    return CallListRow(
        rank=int(row["rank"]),
        customer_id=customer_id,
        erp_id=row["erp_id"],
        customer_name=row["name"],
        collector_email=emails.get(int(collector)) if present(collector) else None,
        score=round(float(row["score"]), 1),
        balance_due=from_cents(int(row["balance"])),
        days_past_due=cut.dpd(oldest) if present(oldest) else 0,
        reasons=reasons(row, policy, cut),
    )


def _team_order(ctx: AppContext) -> Callable[[CallListRow], tuple[int, str, int]]:
    """Lists grouped by collector in team-file order, then anyone else by email, then accounts
    without a collector; ranks in order within each."""
    order = {m.email: i for i, m in enumerate(ctx.team.collectors)}

    def key(row: CallListRow) -> tuple[int, str, int]:
        email = row.collector_email
        group = order.get(email, len(order)) if email is not None else len(order) + 1
        return group, email or "", row.rank

    return key
