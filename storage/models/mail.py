"""Email to customers: a follow-up a collector wrote in chat, a statement on statement day.

Each message is a row written in the transaction that decided to send it; the mail sender
(commands.mail.sender) delivers it after commit, one row at a time, so a refused recipient or a
mail server that is away holds up nobody else and never undoes the ledger. ``key`` is unique:
one statement per customer per statement day, however often the job runs. A bounce that comes
back later (``arbot mail bounce``) finds its row by ``message_id`` and marks it bounced."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime

FOLLOW_UP, STATEMENT = "follow-up", "statement"


class OutgoingEmail(Base):
    __tablename__ = "outgoing_emails"
    __table_args__ = (
        Index("ix_outgoing_emails_due", "status", "next_attempt_at"),
        Index("ix_outgoing_emails_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))  # follow-up | statement
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    report_to: Mapped[str | None] = mapped_column(String(254))  # the collector told how it went
    contact_name: Mapped[str | None] = mapped_column(String(200))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    attachment_mime: Mapped[str | None] = mapped_column(String(100))
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary())
    statement_day: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(10))  # pending | sending | sent | failed | bounced
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(Text)
    # The collector was told the mail server could not be reached (once, not at every retry).
    told_unreachable: Mapped[bool] = mapped_column(default=False)
