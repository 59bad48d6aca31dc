"""Two numbers a manager asks for, computed from the ledger as it stands: how long disputes take
to resolve, and how often promises to pay are kept.

Both count only what has an answer: a dispute still open has no cycle time yet, and a promise
not yet due (or cancelled) is neither kept nor broken. They read the statuses the promise check
and the payment flows set, so they agree with what collectors were told."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.disputes import cycle_days
from storage.models import Dispute, DisputeStatus, Promise, PromiseStatus


@dataclass(frozen=True)
class CycleTimes:
    """Days from opened to resolved, over the disputes resolved in a period (None when none were)."""

    resolved: int
    average_days: Decimal | None
    median_days: Decimal | None
    longest_days: Decimal | None


def dispute_cycle_times(session: Session, since: datetime) -> CycleTimes:
    """Cycle times of the disputes resolved at or after ``since`` (an aware instant)."""
    rows = session.execute(
        select(Dispute.opened_at, Dispute.resolved_at).where(
            Dispute.status == DisputeStatus.RESOLVED, Dispute.resolved_at >= since
        )
    ).all()
    days = [cycle_days(opened, resolved) for opened, resolved in rows if resolved is not None]
    if not days:
        return CycleTimes(0, None, None, None)
    tenth = Decimal("0.1")
    return CycleTimes(
        resolved=len(days),
        average_days=(sum(days, Decimal(0)) / len(days)).quantize(tenth),
        median_days=Decimal(statistics.median(days)).quantize(tenth),
        longest_days=max(days),
    )


@dataclass(frozen=True)
class KeptRate:
    kept: int
    broken: int

    @property
    def came_due(self) -> int:
        return self.kept + self.broken

    @property
    def rate(self) -> float | None:
        """Kept / came due; None when no promise has come due, which is not the same as 0%."""
        return self.kept / self.came_due if self.came_due else None


def promise_kept_rate(session: Session, *, member_id: int | None = None, customer_id: int | None = None) -> KeptRate:
    """Promises kept out of promises that came due, for one collector (who recorded the
    promise), one customer, both, or the whole team."""
    stmt = (
        select(Promise.status, func.count())
        .where(Promise.status.in_([PromiseStatus.KEPT, PromiseStatus.BROKEN]))
        .group_by(Promise.status)
    )
    if member_id is not None:
        stmt = stmt.where(Promise.member_id == member_id)
    if customer_id is not None:
        stmt = stmt.where(Promise.customer_id == customer_id)
    counts = dict(session.execute(stmt).all())
    return KeptRate(kept=counts.get(PromiseStatus.KEPT, 0), broken=counts.get(PromiseStatus.BROKEN, 0))
