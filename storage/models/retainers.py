"""Retainer requirements: how much retainer a customer (or one of its engagements) must hold
before work is released. The balance held is not stored: it is read from the ledger
(commands.retainers). ``replenish_asked_at`` remembers that the account's collector was asked to
replenish a short retainer, so they are asked once per shortfall, not on every import."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import Money, UTCDateTime

WHOLE_ACCOUNT = ""  # the engagement label of a requirement for the customer as a whole


class RetainerRequirement(Base):
    __tablename__ = "retainer_requirements"
    __table_args__ = (UniqueConstraint("customer_id", "engagement", name="uq_retainer_requirements_engagement"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    engagement: Mapped[str] = mapped_column(String(100), default=WHOLE_ACCOUNT)
    amount: Mapped[Decimal] = mapped_column(Money())
    set_by: Mapped[str] = mapped_column(String(254))  # a member's email, or system:import
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    replenish_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
