"""What the chat adapters must remember across restarts: deliveries already handled (platforms
retry), who a platform user is, where to post proactively (Teams needs a stored
ConversationReference for every conversation it may write to unprompted), and files offered
for download that the person has not taken yet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime


class InboundEvent(Base):
    """One row per chat request's idempotency key (Slack ``event_id`` or ``trigger_id``, Teams
    activity id), written in the request's own transaction with the answer it got (``result``,
    the asker's replies): a retried delivery hits the unique key and takes effect once, and when
    a COMMIT's outcome is unknown the row says whether it happened and what was answered."""

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("platform", "event_id", name="uq_inbound_events_platform_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    result: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)


class ChatIdentity(Base):
    """A platform user id mapped to a team member's email (looked up once, then cached), and
    the direct-message channel the platform gave for them (Slack's ``conversations.open``), so a
    restart posts a member's list at once instead of asking for the channel again; empty until
    the first direct message, and emptied when the platform refuses it."""

    __tablename__ = "chat_identities"
    __table_args__ = (UniqueConstraint("platform", "user_id", name="uq_chat_identities_platform_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    dm_channel: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ConversationRef(Base):
    """Where the bot can post unprompted: a serialized platform conversation reference, keyed by
    what the core calls the destination (a channel name, or ``dm:<email>``)."""

    __tablename__ = "conversation_refs"
    __table_args__ = (UniqueConstraint("platform", "key", name="uq_conversation_refs_platform_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(300))
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FileOffer(Base):
    """A file offered to someone in Teams (a workbook): Teams sends a file only once the person
    accepts it in their personal chat, perhaps after a restart or on another replica, so the
    bytes wait here, under the hash of name and content that the offer card carries."""

    __tablename__ = "file_offers"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
