"""What the reports keep: the receivables each import left, the credit sales by day as the
latest import left them, and which side of its target each figure was last seen on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import Money


class ReceivableRollup(Base):
    """Open balances an import left, summed by collector and due date: receivables on any past
    day read from here in one indexed query instead of rolling a million items back.

    Written in the import's transaction from the ledger it leaves, so a batch's rows are exactly
    that snapshot. ``collector_id`` is who held the customers then (NULL: nobody)."""

    __tablename__ = "receivable_rollups"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    due_date: Mapped[date]
    balance: Mapped[Decimal] = mapped_column(Money())


class SalesDay(Base):
    """Original amounts of invoices (not credits) issued on ``day``, by who holds the customers,
    as the latest import left the ledger: the KPI report's sales without a scan of every invoice
    ever imported. ``undated``: items without an issue date, summed by due date instead."""

    __tablename__ = "sales_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    undated: Mapped[bool]
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    amount: Mapped[Decimal] = mapped_column(Money())


class TargetState(Base):
    """The side of its target a figure was on when last checked (commands.kpi.targets), so the
    channel hears of a crossing once, not after every import."""

    __tablename__ = "target_states"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    missed: Mapped[bool]
    value: Mapped[str | None] = mapped_column(String(40))
    checked_on: Mapped[date | None]
