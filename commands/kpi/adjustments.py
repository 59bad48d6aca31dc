"""Credits and write-offs approved in a period, for the collection effectiveness index.

CEI asks what share of the money that could be collected was collected. A credit memo or a
write-off lowers the receivables without being collected, and the money it takes off could not
have been collected; counted as the classic formula does, it reads as money collected. So the
approved amount (not declined by finance) is taken out of the collectible, and the part the
ERP already carries out of the ending receivables is taken out of what was collected.

"Carried out by the end" reads the task as it stands: closed by an import (``shown``) before the
period's end, or booked (Done) and shown now (:func:`commands.workflows.adjustment_ledger.adjustment_shown`,
which for a booked task has no date of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from commands.kpi.activity import Window
from commands.workflows.adjustment_ledger import adjustment_shown
from storage.models import AdjustmentStatus, AdjustmentTask, Customer

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Adjusted:
    approved: Decimal = ZERO  # A: credits and write-offs approved in the period, not declined
    still_in_ending: Decimal = ZERO  # P: of those, what the ending receivables still carry

    @property
    def carried_out(self) -> Decimal:
        """A − P: what the ERP took off the receivables in the period as credits, not cash."""
        return self.approved - self.still_in_ending


def adjusted_in(session: Session, window: Window, *, collector_id: int | None = None) -> Adjusted:
    """The period's approved credits and write-offs, for the team or one collector's customers."""
    shown_by_end = or_(
        and_(AdjustmentTask.status == AdjustmentStatus.SHOWN, AdjustmentTask.closed_at < window.end),
        and_(AdjustmentTask.status == AdjustmentStatus.DONE, adjustment_shown()),
    )
    amount = func.coalesce(func.sum(AdjustmentTask.amount), 0)
    stmt = select(amount, func.coalesce(func.sum(AdjustmentTask.amount).filter(~shown_by_end), 0)).where(
        AdjustmentTask.created_at >= window.start,
        AdjustmentTask.created_at < window.end,
        AdjustmentTask.status != AdjustmentStatus.NOT_DOING,
    )
    if collector_id is not None:
        stmt = stmt.where(
            AdjustmentTask.customer_id.in_(select(Customer.id).where(Customer.collector_id == collector_id))
        )
    approved, pending = session.execute(stmt).one()
    return Adjusted(Decimal(approved).quantize(ZERO), Decimal(pending).quantize(ZERO))
