"""Disputes: a customer contests part of an invoice, the amount leaves collection (the call list
sets open disputes aside) until someone resolves it, and the time that took is the dispute's
cycle time. Resolved in the customer's favour, the amount stays out of collection until an
import shows the credit; resolved as owed, it is collectible again at once.

The chat commands (``dispute``, ``resolve``) live in commands/handlers; the rules they share are
here: how much of an invoice can still be disputed, who may resolve, what each outcome means,
and the exactly-once resolution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import QueryableAttribute, Session, aliased

from commands.messages import Reply, Tone
from commands.snapshots import after_last_import
from storage.audit import record
from storage.models import AuditEvent, Customer, Dispute, DisputeStatus, Invoice, InvoiceKind, TeamMember
from storage.row_counts import rows_changed

ZERO = Decimal("0.00")
# Who may open a dispute: anyone who talks to customers or handles their money.
OPENER_ROLES = frozenset({"collector", "finance", "finance_lead", "manager", "controller", "vp_finance"})
# Besides the person who opened it, these may resolve any dispute.
RESOLVER_ROLES = frozenset({"manager", "controller", "vp_finance"})


@dataclass(frozen=True)
class Outcome:
    word: str
    meaning: str
    owed: bool  # the customer owes the amount after all: it goes back to collection
    credit_due: bool  # the customer was right and finance still has to issue the credit


OUTCOMES: dict[str, Outcome] = {
    o.word: o
    for o in (
        Outcome("upheld", "the customer was right; a credit is due", owed=False, credit_due=True),
        Outcome("rejected", "the amount is owed and goes back to collection", owed=True, credit_due=False),
        Outcome("credited", "a credit memo has been issued for it", owed=False, credit_due=False),
        Outcome(
            "withdrawn",
            "the customer withdrew the dispute; the amount goes back to collection",
            owed=True,
            credit_due=False,
        ),
    )
}


def set_aside() -> ColumnElement[bool]:
    """Disputes whose money the call list leaves alone: open ones, and ones settled in the
    customer's favour (upheld, credited) whose credit no import has shown yet
    (:func:`credit_shown`)."""
    not_owed = or_(*(Dispute.outcome.startswith(o.word) for o in OUTCOMES.values() if not o.owed))
    awaiting_credit = and_(Dispute.status == DisputeStatus.RESOLVED, not_owed, ~credit_shown())
    return or_(Dispute.status == DisputeStatus.OPEN, awaiting_credit)


def credit_shown() -> ColumnElement[bool]:
    """An import has shown the credit of a dispute settled in the customer's favour when, after
    the resolution, either

    * the disputed invoice is closed, or its open balance has fallen by at least the disputed
      amount from what it was at the resolution (the ERP applied the credit to it), or
    * credit memos of the customer that appeared after the resolution (rows added to the ledger
      since then: rows are only ever added, so a higher id is a later row) add up to at least the
      disputed amount.

    Invoices change only by import, so either can only be an import's doing. A dispute resolved
    before these marks were kept waits, as it did then, for the first import after it."""
    landed = credit_landed(
        Dispute,
        customer_id=Dispute.customer_id,
        invoice_id=Dispute.invoice_id,
        amount=Dispute.amount,
        open_then=Dispute.invoice_open_at_resolution,
        last_row=Dispute.last_invoice_at_resolution,
    )
    unmarked = Dispute.last_invoice_at_resolution.is_(None)
    return or_(and_(unmarked, ~after_last_import(Dispute.resolved_at)), and_(~unmarked, landed))


def credit_landed(
    owner: type[Any],
    *,
    customer_id: QueryableAttribute[int],
    invoice_id: QueryableAttribute[int | None],
    amount: QueryableAttribute[Decimal],
    open_then: QueryableAttribute[Any],
    last_row: QueryableAttribute[Any],
) -> ColumnElement[bool]:
    """The ledger shows a credit of ``amount`` owed to ``owner``'s row (a settled dispute): its
    invoice closed or fell to ``open_then - amount``, or credit memos of the customer newer than
    ``last_row`` add up to ``amount``."""
    credited = aliased(Invoice)  # apart from any invoice the caller joins
    invoice_moved = (
        select(credited.id)
        .where(
            credited.id == invoice_id, or_(credited.closed_on.is_not(None), credited.open_balance <= open_then - amount)
        )
        .correlate(owner)
        .exists()
    )
    return or_(invoice_moved, credit_lines_landed(owner, customer_id=customer_id, amount=amount, last_row=last_row))


def credit_lines_landed(
    owner: type[Any],
    *,
    customer_id: QueryableAttribute[int],
    amount: QueryableAttribute[Decimal],
    last_row: QueryableAttribute[Any],
) -> ColumnElement[bool]:
    """Credit memo lines of the customer newer than ``last_row`` (the newest item row when
    ``owner`` was approved) add up to ``amount``: the ERP shows the credit as a credit."""
    memo = aliased(Invoice)
    new_credits = (
        select(func.coalesce(-func.sum(memo.amount), 0))
        .where(memo.customer_id == customer_id, memo.kind == InvoiceKind.CREDIT_MEMO, memo.id > last_row)
        .correlate(owner)
        .scalar_subquery()
    )
    return new_credits >= amount


def disputable_left(session: Session, invoice: Invoice) -> tuple[Decimal, Decimal]:
    """(already disputed, still disputable) on ``invoice``: its open balance less the open
    disputes on it. Locks the invoice row first (PostgreSQL), so two disputes typed at the same
    moment cannot together dispute more than is open; SQLite writers are serialized anyway."""
    session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    total = session.scalar(
        select(func.coalesce(func.sum(Dispute.amount), ZERO)).where(
            Dispute.invoice_id == invoice.id, Dispute.status == DisputeStatus.OPEN
        )
    )
    disputed = Decimal(total if total is not None else ZERO).quantize(ZERO)
    return disputed, max(invoice.open_balance - disputed, ZERO)


def open_dispute(
    session: Session,
    *,
    customer: Customer,
    invoice: Invoice,
    amount: Decimal,
    reason: str,
    opened_by_id: int,
    actor: str,
    at: datetime,
) -> Dispute:
    dispute = Dispute(
        customer_id=customer.id,
        invoice_id=invoice.id,
        amount=amount,
        reason=reason,
        status=DisputeStatus.OPEN,
        opened_by_id=opened_by_id,
        opened_at=at,
    )
    session.add(dispute)
    session.flush()
    record(
        session,
        at=at,
        actor=actor,
        action="dispute.opened",
        entity_type="dispute",
        entity_id=dispute.id,
        customer_id=customer.id,
        invoice=invoice.number,
        amount=amount,
        reason=reason,
    )
    return dispute


def may_resolve(dispute: Dispute, *, member_id: int, roles: frozenset[str]) -> bool:
    """The person who opened it knows the case; a manager or above may close anyone's."""
    return dispute.opened_by_id == member_id or bool(roles & RESOLVER_ROLES)


def cycle_days(opened_at: datetime, resolved_at: datetime) -> Decimal:
    """Days from opened to resolved, to a tenth of a day (a dispute settled the same morning
    counts as 0.1, not as zero)."""
    return (Decimal((resolved_at - opened_at).total_seconds()) / Decimal(86400)).quantize(Decimal("0.1"))


def days_text(days: Decimal) -> str:
    """'12 days', '1 day', '0.3 days'."""
    shown = f"{days.normalize():f}"
    return f"{shown} day" if days == 1 else f"{shown} days"


def resolve_dispute(
    session: Session, dispute: Dispute, *, outcome: Outcome, note: str | None, actor: str, at: datetime
) -> Decimal | None:
    """RESOLVED with its outcome, exactly once: the cycle time in days, or None when someone
    else resolved it first (nothing changed)."""
    stored = f"{outcome.word}: {note}" if note else outcome.word
    changed = rows_changed(
        session,
        update(Dispute)
        .where(Dispute.id == dispute.id, Dispute.status == DisputeStatus.OPEN)
        .values(status=DisputeStatus.RESOLVED, resolved_at=at, outcome=stored, **_credit_marks(session, dispute)),
    )
    if not changed:
        return None
    days = cycle_days(dispute.opened_at, at)
    record(
        session,
        at=at,
        actor=actor,
        action="dispute.resolved",
        entity_type="dispute",
        entity_id=dispute.id,
        customer_id=dispute.customer_id,
        outcome=outcome.word,
        note=note,
        amount=dispute.amount,
        cycle_days=days,
        summary=f"resolved after {days_text(days)}",
    )
    return days


def _credit_marks(session: Session, dispute: Dispute) -> dict[str, object]:
    """What :func:`credit_shown` compares later imports with: the invoice's open balance now and
    the newest invoice row."""
    invoice_open = (
        session.scalar(select(Invoice.open_balance).where(Invoice.id == dispute.invoice_id))
        if dispute.invoice_id is not None
        else None
    )
    last_row = session.scalar(select(func.coalesce(func.max(Invoice.id), 0)))
    return {"invoice_open_at_resolution": invoice_open, "last_invoice_at_resolution": last_row}


def resolved_by(session: Session, dispute_id: int) -> str | None:
    """Who resolved a dispute, by name, from its audit trail."""
    email = session.scalar(
        select(AuditEvent.actor)
        .where(
            AuditEvent.entity_type == "dispute",
            AuditEvent.entity_id == dispute_id,
            AuditEvent.action == "dispute.resolved",
        )
        .order_by(AuditEvent.id)
        .limit(1)
    )
    if email is None:
        return None
    return session.scalar(select(TeamMember.name).where(TeamMember.email == email)) or email


def refuse_recorded(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    message: str,
    dispute: Dispute | None = None,
    customer_id: int | None = None,
    **data: object,
) -> list[Reply]:
    """A refused attempt that stays on the record: the audit event commits (a Refusal would roll
    it back), the person sees one private error message, and nothing else changes."""
    record(
        session,
        at=at,
        actor=actor,
        action=action,
        entity_type="dispute",
        entity_id=dispute.id if dispute else None,
        customer_id=dispute.customer_id if dispute else customer_id,
        refused=message,
        **data,
    )
    return [Reply(title=message, text="Nothing was changed.", tone=Tone.ERROR, private=True)]
