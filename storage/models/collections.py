"""What collectors do and what customers commit to: activities, promises to pay, disputes,
holds and payment plans."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, str_enum
from storage.types import Money, UTCDateTime


class ActivityKind(str, enum.Enum):
    CALL = "call"
    VOICEMAIL = "voicemail"
    EMAIL = "email"


class Outcome(str, enum.Enum):
    REACHED = "reached"
    NO_ANSWER = "no-answer"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong-number"
    REFUSED = "refused"
    EMAIL_SENT = "email-sent"
    # Written by the bot when an email it sent comes back undeliverable; not typed with `log`.
    # Stored as text (str_enum), so a new value needs no migration.
    EMAIL_BOUNCED = "email-bounced"


class Activity(Base):
    __tablename__ = "activities"
    # By customer for an account's history; by time for the call list's "contacted today" over
    # every account: one day of the index, which holds all that query reads (no table rows).
    __table_args__ = (
        Index("ix_activities_customer_time", "customer_id", "occurred_at"),
        Index("ix_activities_time_customer_outcome", "occurred_at", "customer_id", "kind", "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    kind: Mapped[ActivityKind] = mapped_column(str_enum(ActivityKind))
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PromiseStatus(str, enum.Enum):
    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class Promise(Base):
    __tablename__ = "promises"
    __table_args__ = (
        Index("ix_promises_customer_status", "customer_id", "status"),
        # One open promise per customer and date, even when two messages race past the check.
        Index(
            "uq_promises_open_per_day",
            "customer_id",
            "promised_date",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    promised_date: Mapped[date]
    paid_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    status: Mapped[PromiseStatus] = mapped_column(str_enum(PromiseStatus), default=PromiseStatus.OPEN)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    settled_on: Mapped[date | None]


class DisputeStatus(str, enum.Enum):
    OPEN = "open"
    RESOLVED = "resolved"


class Dispute(Base):
    __tablename__ = "disputes"
    __table_args__ = (Index("ix_disputes_customer_status", "customer_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[DisputeStatus] = mapped_column(str_enum(DisputeStatus), default=DisputeStatus.OPEN)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(Text)
    # When settled in the customer's favour, what an import must move to show the credit
    # (commands.disputes.credit_shown): the invoice's open balance then, and the newest invoice row.
    invoice_open_at_resolution: Mapped[Decimal | None] = mapped_column(Money())
    last_invoice_at_resolution: Mapped[int | None]


DEFAULT_HOLD_KIND = "product_release"  # holds placed before kinds existed stopped product release


class HoldStatus(str, enum.Enum):
    ACTIVE = "active"
    RELEASED = "released"


class Hold(Base):
    __tablename__ = "holds"
    __table_args__ = (
        Index("ix_holds_customer_status", "customer_id", "status"),
        # At most one active hold per account, even when two approvals land at the same moment.
        Index(
            "uq_holds_active_per_customer",
            "customer_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[HoldStatus] = mapped_column(str_enum(HoldStatus), default=HoldStatus.ACTIVE)
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    release_reason: Mapped[str | None] = mapped_column(Text)
    # What the hold is for: the past-due money (less disputes) when it was placed; a confirmed
    # payment releases it only once payments since then cover this. None on holds placed before
    # it was recorded: those compare with what is past due now.
    past_due_at_placement: Mapped[Decimal | None] = mapped_column(Money())
    request_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"))
    # What the hold stops (a kind named in the team file's [holds]: product release, scheduling,
    # service suspension); it says whom the placing and the release are announced to.
    kind: Mapped[str] = mapped_column(String(40), default=DEFAULT_HOLD_KIND, server_default=DEFAULT_HOLD_KIND)


class PlanStatus(str, enum.Enum):
    ACTIVE = "active"
    COMPLETED = "completed"
    DEFAULTED = "defaulted"


class PaymentPlan(Base):
    __tablename__ = "payment_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    total: Mapped[Decimal] = mapped_column(Money())
    cadence: Mapped[str] = mapped_column(String(10))  # weekly | biweekly | monthly
    status: Mapped[PlanStatus] = mapped_column(str_enum(PlanStatus), default=PlanStatus.ACTIVE)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    instalments: Mapped[list[PlanInstalment]] = relationship(back_populates="plan", order_by="PlanInstalment.due_date")


class PlanInstalment(Base):
    __tablename__ = "plan_instalments"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plans.id"), index=True)
    due_date: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Money())
    paid_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    status: Mapped[str] = mapped_column(String(10), default="due")  # due | paid | missed
    reminded_on: Mapped[date | None]  # the collector was reminded the business day before

    plan: Mapped[PaymentPlan] = relationship(back_populates="instalments")
