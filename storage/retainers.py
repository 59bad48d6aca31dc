"""Writing retainer requirements (commands.retainers reads them): from chat and from imports."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit import record
from storage.models import RetainerRequirement


def save_requirement(
    session: Session, *, customer_id: int, engagement: str, amount: Decimal, actor: str, at: datetime
) -> str:
    """Set, change or (amount zero) remove the requirement of a customer's engagement ("" for
    the whole account), with its audit event; returns "set", "changed", "removed" or "unchanged"."""
    row = session.scalar(
        select(RetainerRequirement).where(
            RetainerRequirement.customer_id == customer_id, RetainerRequirement.engagement == engagement
        )
    )
    before = row.amount if row is not None else None
    if before == amount or (row is None and amount == 0):
        return "unchanged"
    if amount == 0 and row is not None:
        session.delete(row)
        outcome = "removed"
    elif row is None:
        session.add(
            RetainerRequirement(customer_id=customer_id, engagement=engagement, amount=amount, set_by=actor, set_at=at)
        )
        outcome = "set"
    else:
        row.amount, row.set_by, row.set_at = amount, actor, at
        outcome = "changed"
    session.flush()
    record(
        session,
        at=at,
        actor=actor,
        action=f"retainer.{outcome}",
        entity_type="customer",
        entity_id=customer_id,
        customer_id=customer_id,
        engagement=engagement or None,
        amount={"from": before, "to": amount if amount else None},
    )
    return outcome
