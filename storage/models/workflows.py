"""Requests that wait for someone: payment confirmations for finance, approval requests for
managers, and the scheduler's run keys.

Decisions are taken with a conditional UPDATE (``WHERE status = 'pending'``), so a double click,
a stale card or two approvers at once change state exactly once."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, str_enum
from storage.types import Money, UTCDateTime


class PostedMessage(Base):
    """Where a tracked post landed ("approval:12" -> channel and message id), so the card can be
    updated in place and a reply in its thread can be routed back to the request."""

    __tablename__ = "posted_messages"
    __table_args__ = (Index("ix_posted_messages_location", "channel", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    channel: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(200))
    thread: Mapped[str | None] = mapped_column(String(200))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    platform: Mapped[str | None] = mapped_column(String(20))  # None: before platforms were recorded


class ConfirmationStatus(str, enum.Enum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    PARTIAL = "partial"
    NOT_RECEIVED = "not_received"


class PaymentConfirmation(Base):
    """A collector says the customer paid; finance confirms whether the money arrived."""

    __tablename__ = "payment_confirmations"
    __table_args__ = (Index("ix_payment_confirmations_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("team_members.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    paid_on: Mapped[date]
    method: Mapped[str | None] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(100))
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ConfirmationStatus] = mapped_column(str_enum(ConfirmationStatus), default=ConfirmationStatus.PENDING)
    confirmed_amount: Mapped[Decimal | None] = mapped_column(Money())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApprovalKind(str, enum.Enum):
    HOLD = "hold"
    RELEASE = "release"
    WAIVER = "waiver"
    PLAN = "plan"
    CREDIT = "credit"  # a credit memo on one invoice
    WRITEOFF = "writeoff"  # an amount of the account written off as uncollectible


class ApprovalStatus(str, enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class ApprovalRequest(Base):
    """A hold, release, fee waiver, payment plan, credit memo or write-off waiting for an
    authorized approver."""

    __tablename__ = "approval_requests"
    __table_args__ = (Index("ix_approval_requests_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ApprovalKind] = mapped_column(str_enum(ApprovalKind))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("team_members.id"))
    amount: Mapped[Decimal | None] = mapped_column(Money())  # what approval limits compare against
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[ApprovalStatus] = mapped_column(str_enum(ApprovalStatus), default=ApprovalStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FeeWaiver(Base):
    """An approved waiver of a fee (e.g. the card surcharge) on an account."""

    __tablename__ = "fee_waivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_requests.id"))
    fee: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(Money())
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("team_members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AdjustmentStatus(str, enum.Enum):
    OPEN = "open"  # finance has not said it is issued
    DONE = "done"  # finance issued it; set aside until an import shows it
    SHOWN = "shown"  # an import showed it before finance said anything
    NOT_DOING = "not_doing"  # finance will not issue it; the amount is collectible again


class AdjustmentTask(Base):
    """An approved credit memo or write-off that finance still has to book in the ERP. Until an
    import shows it, its amount stays out of collection; the marks taken at approval are what a
    later import is compared with (as for disputes settled for the customer)."""

    __tablename__ = "adjustment_tasks"
    __table_args__ = (Index("ix_adjustment_tasks_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_requests.id"), unique=True)
    kind: Mapped[ApprovalKind] = mapped_column(str_enum(ApprovalKind))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))  # None: a write-off
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("disputes.id"))  # the upheld dispute it settles
    amount: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[AdjustmentStatus] = mapped_column(str_enum(AdjustmentStatus), default=AdjustmentStatus.OPEN)
    # What an import must move: the invoice's (credit) or the account's (write-off) open balance
    # at approval, and the newest invoice row then (credit memos after it are new).
    open_at_approval: Mapped[Decimal] = mapped_column(Money())
    last_invoice_at_approval: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    close_note: Mapped[str | None] = mapped_column(Text)


class ClearanceStatus(str, enum.Enum):
    PENDING = "pending"
    CLEARED = "cleared"
    REFUSED = "refused"


class ClearanceRequest(Base):
    """Client services asks whether an account may go ahead (a release, a booking): cleared at
    once when nothing stands in the way (``decided_by_id`` empty), else decided by the account's
    collector or a manager. ``blockers`` keeps what stood in the way when it was asked."""

    __tablename__ = "clearance_requests"
    __table_args__ = (Index("ix_clearance_requests_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("team_members.id"))
    what: Mapped[str] = mapped_column(Text)
    needed_on: Mapped[date | None]
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ClearanceStatus] = mapped_column(str_enum(ClearanceStatus), default=ClearanceStatus.PENDING)
    blockers: Mapped[list[str]] = mapped_column(JSON, default=list)
    routed_to_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))  # None: the managers
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class JobRun(Base):
    """One row per (job, business date): the unique key makes a scheduled job run exactly once
    across restarts, late starts and several schedulers on one database."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "run_date", name="uq_job_runs_job_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    run_date: Mapped[date]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
