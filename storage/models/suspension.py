"""The suspension sequence: accounts more than the team's threshold past due go through a set of
steps (calls, emails, a final notice, the suspension request) over about two weeks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime

# Why a sequence ended.
PAID_DOWN = "paid_down"  # no money more than the threshold past due any more
SUSPENDED = "suspended"  # the service suspension hold was placed
STOPPED = "stopped"  # a manager stopped it
REQUEST_REJECTED = "request_rejected"  # the suspension request was rejected or expired
ON_HOLD = "on_hold"  # another hold was placed on the account meanwhile


class SuspensionSequence(Base):
    __tablename__ = "suspension_sequences"
    __table_args__ = (
        # One sequence in progress per account, even when two job runs race.
        Index(
            "uq_suspension_sequences_active",
            "customer_id",
            unique=True,
            sqlite_where=text("ended_on IS NULL"),
            postgresql_where=text("ended_on IS NULL"),
        ),
        Index("ix_suspension_sequences_customer", "customer_id", "entered_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    entered_on: Mapped[date]
    # The steps as the team file said them on entry, each with its due day and what did it:
    # [{"name", "does", "due": "2026-11-23", "done_on": None | iso day, "done_by": None | {"activity": id} |
    # {"request": id}}]; a later change of the team file does not move an account's due days.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    step: Mapped[int] = mapped_column(default=0)  # index of the next step; len(steps) once all are done
    step_due: Mapped[date | None]  # the next step's due day (None once all are done), for the call list
    request_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"))
    ended_on: Mapped[date | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))
    end_note: Mapped[str | None] = mapped_column(Text)
    ended_by: Mapped[str | None] = mapped_column(String(254))
    # A sequence stopped, suspended or refused keeps the account out of a new one until the day
    # it is no longer over the threshold (set then); one that ended paid down needs nothing.
    cleared_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
