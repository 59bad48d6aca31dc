"""What the ranking needs to know about every account, read in a handful of set-based queries.

The heavy one is a single aggregate over open items: it walks the partial covering index
``ix_invoices_open_items`` (customer_id, due_date, kind, open_balance WHERE closed_on IS NULL)
in customer order and counts or sums each item into a few columns, comparing due dates with the
constants from :mod:`commands.calllist.cutoffs`. Each aggregate costs time on every one of a
million rows, so it computes only what scoring needs; amounts and dates that only reasons need
are read by :func:`load_details` for the accounts that make the list. Money stays integer cents
(exact, and fast to sum); it becomes ``Decimal`` only on listed rows.

Disputed money leaves collection: for the few customers with a dispute tied to an invoice the
same columns are worked out again with each item's disputed part taken off (a wholly disputed
item then counts for nothing), and those rows replace theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import BigInteger, ColumnElement, Date, Select, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from commands.calllist.account_facts import COUNTS, account_facts, promise_dates
from commands.calllist.cutoffs import BUCKETS, Cutoffs
from commands.calllist.sql import days_between, number_frame, of_collector, total, typed_frame
from storage.models import Customer, Dispute, DisputeStatus, Invoice, InvoiceKind

_OPEN_DISPUTE = (Dispute.status == DisputeStatus.OPEN, Dispute.invoice_id.is_not(None))


def load_features(session: Session, cut: Cutoffs, *, collector_id: int | None) -> pd.DataFrame:
    """One row per customer with open items (of one collector, or everyone's), indexed by
    customer id. Payment history is left empty: it is read later, and only for the accounts it
    can still move (:func:`commands.calllist.account_facts.load_history`)."""
    return with_account_facts(session, cut, open_item_features(session, cut, collector_id=collector_id),
                              collector_id=collector_id)


def open_item_features(session: Session, cut: Cutoffs, *, collector_id: int | None) -> pd.DataFrame:
    """The open-item columns per customer, less what is in dispute."""
    items = _score_frame(session, cut, collector_id, less_disputes=False)
    disputed = _score_frame(session, cut, collector_id, less_disputes=True)
    return pd.concat([items.drop(disputed.index, errors="ignore"), disputed])


def with_account_facts(session: Session, cut: Cutoffs, items: pd.DataFrame, *,
                       collector_id: int | None) -> pd.DataFrame:
    """The collector and the facts from the smaller tables, joined onto the open-item columns."""
    owners = number_frame(session, of_collector(select(Customer.id, Customer.collector_id), Customer.id,
                                                collector_id), ["collector_id"], floats={"collector_id"})
    frame = items
    for part in (owners, *account_facts(session, cut, collector_id=collector_id)):
        frame = frame.join(part, how="left")  # one at a time: a list would outer-join and widen dtypes
    frame[list(COUNTS)] = frame[list(COUNTS)].fillna(0).astype("int64")
    return frame.assign(avg_days_late=float("nan"), paid_invoices=0)


def _score_frame(session: Session, cut: Cutoffs, collector_id: int | None, *,
                 less_disputes: bool) -> pd.DataFrame:
    customers = select(Dispute.customer_id).where(*_OPEN_DISPUTE) if less_disputes else None
    stmt, names = _aggregate(session, cut, _score_columns, collector_id=collector_id,
                             less_disputes=less_disputes, customers=customers)
    return number_frame(session, stmt, names, floats={"oldest_dpd"})


Columns = Callable[[Session, Cutoffs, Any], dict[str, ColumnElement[Any]]]


def _aggregate(session: Session, cut: Cutoffs, columns: Columns, *, collector_id: int | None,
               less_disputes: bool, customers: Any = None) -> tuple[Select[Any], list[str]]:
    """Open items grouped by customer. With ``less_disputes`` each item's amount is its open
    balance less its open disputes (so a wholly disputed item is not positive and counts for
    nothing); ``customers`` limits the customers read."""
    cents = type_coerce(Invoice.open_balance, BigInteger)
    stmt = select(Invoice.customer_id)
    if less_disputes:
        disputed = (select(Dispute.invoice_id, func.sum(type_coerce(Dispute.amount, BigInteger)).label("cents"))
                    .where(*_OPEN_DISPUTE).group_by(Dispute.invoice_id).subquery("disputed"))
        stmt = stmt.outerjoin(disputed, disputed.c.invoice_id == Invoice.id)
        cents = cents - func.coalesce(disputed.c.cents, 0)
    named = columns(session, cut, cents)
    stmt = stmt.add_columns(*(c.label(n) for n, c in named.items())).where(Invoice.closed_on.is_(None))
    if customers is not None:
        stmt = stmt.where(Invoice.customer_id.in_(customers))
    return of_collector(stmt.group_by(Invoice.customer_id), Invoice.customer_id, collector_id), list(named)


def _score_columns(session: Session, cut: Cutoffs, cents: Any) -> dict[str, ColumnElement[Any]]:
    """What scoring reads, kept to few aggregates: the age buckets an account reaches all follow
    from its oldest positive item, so one MIN stands in for four conditional sums. Conditions
    put the test that fails most often first (SQLite stops at the first false one), and the
    crossing windows are a list of dates (an OR of ranges costs SQLite several times more)."""
    due, kind, positive = Invoice.due_date, Invoice.kind, cents > 0
    return {
        "balance": total(type_coerce(Invoice.open_balance, BigInteger)),
        "past_due": total(cents, due < cut.day, positive),
        # Per customer, not per item: one subtraction for each group.
        "oldest_dpd": days_between(session, func.min(due).filter(positive), literal(cut.day, Date)),
        "window": func.count().filter(due.between(cut.window_from, cut.window_until), positive),
        "finals": func.count().filter(kind == InvoiceKind.FINAL, due.between(cut.final_from, cut.final_until),
                                      positive),
        "mrr_months": func.count().filter(kind == InvoiceKind.RECURRING, due < cut.day, positive),
        "crossing": func.count().filter(due.in_(cut.crossing_due_dates), positive),
    }


def _detail_columns(session: Session, cut: Cutoffs, cents: Any) -> dict[str, ColumnElement[Any]]:
    """The amounts and dates reasons name."""
    due, positive = Invoice.due_date, cents > 0
    return {
        "oldest_due": func.min(due).filter(positive, due < cut.day),
        "final_due": func.min(due).filter(positive, Invoice.kind == InvoiceKind.FINAL,
                                          due.between(cut.final_from, cut.final_until)),
        **{f"over_{n}": total(cents, positive, due <= cut.over[n]) for n in BUCKETS},
        "window_cents": total(cents, positive, due.between(cut.window_from, cut.window_until)),
        **{f"crossing_due_{c.threshold}": func.min(due).filter(positive, due > c.due_after, due <= c.due_until)
           for c in cut.crossings},
    }


def load_details(session: Session, cut: Cutoffs, customer_ids: Sequence[int]) -> pd.DataFrame:
    """Names and the amounts and dates behind the reasons, for the accounts on the list only."""
    names = typed_frame(session, select(Customer.id, Customer.erp_id, Customer.name)
                        .where(Customer.id.in_(customer_ids)), ["erp_id", "name"])
    stmt, columns = _aggregate(session, cut, _detail_columns, collector_id=None, less_disputes=True,
                               customers=customer_ids)
    return (names.join(typed_frame(session, stmt, columns), how="left")
            .join(promise_dates(session, cut, customer_ids), how="left"))
