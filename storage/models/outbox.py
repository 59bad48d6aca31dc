"""The transactional outbox: every message the core sends to someone other than the person who
spoke is a row here, written in the same transaction as the ledger change that caused it.

A post that fails cannot undo the ledger, a ledger change cannot lose its post, and several
dispatchers (one per ``arbot serve`` replica) share the rows: each claims a batch for a lease,
sends, and settles. The row keeps the platform's message id, so later updates and thread
replies find the message, and what a failed attempt left behind (parts delivered, whether it may
have landed), so the retry neither repeats nor loses anything."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime

PENDING, SENDING, SENT, FAILED, SKIPPED = "pending", "sending", "sent", "failed", "skipped"


class OutboxEntry(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # idempotency: one entry per intent
    platform: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))  # post | direct | update
    destination: Mapped[str] = mapped_column(String(300))  # channel for a post, email for a direct
    thread_key: Mapped[str | None] = mapped_column(String(60))  # post in this tracked post's thread
    replaces_key: Mapped[str | None] = mapped_column(String(60))  # update this tracked post
    track_key: Mapped[str | None] = mapped_column(String(60), index=True)  # remember where it landed
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the Reply
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(60))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    message_channel: Mapped[str | None] = mapped_column(String(200))
    message_id: Mapped[str | None] = mapped_column(String(200))
    reported: Mapped[bool] = mapped_column(Boolean, default=False)  # admins told of the failure
    # The last attempt failed in a way that may have landed (a timeout, a dropped connection):
    # the retry looks for it first. Not after a 429 or a refusal, which say nothing was posted.
    may_have_landed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Parts of a long message already delivered ({"1": {"channel": ..., "id": ...}}), so a retry
    # after a later part failed sends only the rest.
    parts_sent: Mapped[dict[str, Any] | None] = mapped_column(JSON)
