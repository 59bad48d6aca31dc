"""The reads behind the account card, as statements built once per process.

``status`` is most of what collectors send, and the card it shows used to take about fourteen
statements, each built anew from ORM expressions and loaded as ORM objects: on PostgreSQL at 50
messages a second that construction and loading was most of the process's CPU. Here the card is
two statements: one row of figures (aging buckets, confirmed money, the collector's name, the
retainer) and one UNION ALL of the account's short lists (open promises, active holds, open
disputes, credits and write-offs awaiting the ERP, the last contacts). Both are built on first
use with bound parameters, so SQLAlchemy compiles each once and finds it in its statement cache
afterwards, and rows come back as plain tuples.

The predicates are the ones the rest of the code uses (:func:`commands.snapshots.awaiting_erp`,
:func:`commands.workflows.adjustment_ledger.set_aside_adjustments`), so every place that says
"confirmed" or "awaiting the credit memo" keeps meaning the same rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from functools import cache
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Date,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    exists,
    func,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from commands.snapshots import awaiting_erp
from commands.workflows.adjustment_ledger import set_aside_adjustments
from storage.models import (
    Activity,
    AdjustmentTask,
    Dispute,
    DisputeStatus,
    Hold,
    HoldStatus,
    Invoice,
    InvoiceKind,
    Payment,
    Promise,
    PromiseStatus,
    RetainerRequirement,
    SuspensionSequence,
    TeamMember,
)
from storage.types import Money, UTCDateTime

RECENT_CONTACTS = 5
# Sections of the lists statement, in the order the card shows them.
PROMISE, HOLD, DISPUTE, ADJUSTMENT, CONTACT = range(5)
# Aging bucket edges in days past due: current is due on or after as_of, then 1-30, 31-60, 61-90, 90+.
_EDGES = (0, 30, 60, 90)
BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "over_90")  # the columns, in Aging's order


def figures(session: Session, customer_id: int, collector_id: int | None, *, as_of: date) -> Any:
    """One row: ``current``, ``days_1_30`` ... ``over_90`` (NULL for an empty bucket),
    ``confirmed``, ``collector``, ``retainers`` (how many requirements), ``required``,
    ``retainer_billed``, ``retainer_open`` and ``in_suspension`` (whether the account is in the
    suspension sequence: most are not, and then the card needs nothing more about it)."""
    edges = {f"due_{days}": as_of - timedelta(days=days) for days in _EDGES}
    return session.execute(_figures(), {"customer_id": customer_id, "collector_id": collector_id, **edges}).one()


def lists(session: Session, customer_id: int) -> Sequence[Any]:
    """Rows of (section, amount, paid, day, at, text, note, kind, outcome, by, n), each section in
    the card's order (see :func:`_lists`)."""
    return session.execute(_lists(), {"customer_id": customer_id}).all()


@cache
def balance() -> Select[Any]:
    """Net open balance (commands.accounts.account_balance), which every ``log`` answers with."""
    open_items = select(func.coalesce(func.sum(Invoice.open_balance), 0))
    return open_items.where(_customer(Invoice.customer_id), Invoice.closed_on.is_(None))


def _customer(column: Any) -> ColumnElement[bool]:
    same: ColumnElement[bool] = column == bindparam("customer_id", type_=Integer)
    return same


@cache
def _figures() -> Select[Any]:
    return select(
        *_aging_sums(),
        _total(Payment.amount, Payment.customer_id, awaiting_erp()).label("confirmed"),
        select(TeamMember.name)
        .where(TeamMember.id == bindparam("collector_id", type_=Integer))
        .scalar_subquery()
        .label("collector"),
        select(func.count()).where(_customer(RetainerRequirement.customer_id)).scalar_subquery().label("retainers"),
        _total(RetainerRequirement.amount, RetainerRequirement.customer_id).label("required"),
        _total(Invoice.amount, Invoice.customer_id, *_retainer_invoice()).label("retainer_billed"),
        _total(Invoice.open_balance, Invoice.customer_id, *_retainer_invoice()).label("retainer_open"),
        exists()
        .where(_customer(SuspensionSequence.customer_id), SuspensionSequence.ended_on.is_(None))
        .label("in_suspension"),
    )


def _aging_sums() -> list[Any]:
    """One scalar subquery per bucket: open items whose due date falls in the bucket's range."""
    due = [bindparam(f"due_{days}", type_=Date) for days in _EDGES]
    ranges = [Invoice.due_date >= due[0]]
    ranges += [(Invoice.due_date < newer) & (Invoice.due_date >= older) for newer, older in pairwise(due)]
    ranges.append(Invoice.due_date < due[-1])
    return [
        _total(Invoice.open_balance, Invoice.customer_id, Invoice.closed_on.is_(None), where).label(name)
        for name, where in zip(BUCKETS, ranges, strict=True)
    ]


def _retainer_invoice() -> tuple[ColumnElement[bool], ...]:
    return Invoice.kind == InvoiceKind.RETAINER, Invoice.amount > 0


def _total(amount: Any, customer_column: Any, *where: ColumnElement[bool]) -> Any:
    return select(func.sum(amount)).where(_customer(customer_column), *where).scalar_subquery()


@cache
def _lists() -> CompoundSelect[Any]:
    """Every section in one shape; columns a section has no use for are NULL of the right type,
    so each column's values come back as the type of its first branch."""
    return union_all(_promises(), _holds(), _disputes(), _adjustments(), _contacts())


def _shape(
    section: int,
    *,
    amount: Any = None,
    paid: Any = None,
    day: Any = None,
    at: Any = None,
    text: Any = None,
    note: Any = None,
    kind: Any = None,
    outcome: Any = None,
    by: Any = None,
    order: Any = None,
) -> list[Any]:
    def typed(value: Any, type_: Any) -> Any:
        return type_coerce(null() if value is None else value, type_)

    return [
        literal(section, Integer).label("section"),
        typed(amount, Money()).label("amount"),
        typed(paid, Money()).label("paid"),
        typed(day, Date()).label("day"),
        typed(at, UTCDateTime()).label("at"),
        typed(text, Text()).label("text"),
        typed(note, Text()).label("note"),
        typed(kind, String()).label("kind"),
        typed(outcome, String()).label("outcome"),
        typed(by, String()).label("by"),
        typed(order, Integer()).label("n"),
    ]


def _promises() -> Select[Any]:
    return select(
        *_shape(
            PROMISE,
            amount=Promise.amount,
            paid=Promise.paid_amount,
            day=Promise.promised_date,
            note=Promise.note,
            order=Promise.id,
        )
    ).where(_customer(Promise.customer_id), Promise.status == PromiseStatus.OPEN)


def _holds() -> Select[Any]:
    return select(*_shape(HOLD, at=Hold.placed_at, note=Hold.reason, kind=Hold.kind, order=Hold.id)).where(
        _customer(Hold.customer_id), Hold.status == HoldStatus.ACTIVE
    )


def _disputes() -> Select[Any]:
    return select(
        *_shape(DISPUTE, amount=Dispute.amount, at=Dispute.opened_at, note=Dispute.reason, order=Dispute.id)
    ).where(_customer(Dispute.customer_id), Dispute.status == DisputeStatus.OPEN)


def _adjustments() -> Select[Any]:
    return select(
        *_shape(ADJUSTMENT, amount=AdjustmentTask.amount, kind=AdjustmentTask.kind, order=AdjustmentTask.id)
    ).where(_customer(AdjustmentTask.customer_id), set_aside_adjustments())


def _contacts() -> Select[Any]:
    """The last few, newest first; a subquery because a branch of a UNION may not carry its own
    LIMIT on SQLite."""
    latest = (
        select(Activity.id)
        .where(_customer(Activity.customer_id))
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(RECENT_CONTACTS)
    )
    return (
        select(
            *_shape(
                CONTACT,
                at=Activity.occurred_at,
                text=Activity.contact_name,
                note=Activity.note,
                kind=Activity.kind,
                outcome=Activity.outcome,
                by=TeamMember.name,
                order=Activity.id,
            )
        )
        .select_from(Activity)
        .outerjoin(TeamMember, TeamMember.id == Activity.member_id)
        .where(Activity.id.in_(latest))
    )
