"""The append-only audit log and the import batches that feed the ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime


class AuditEvent(Base):
    """One row per ledger change, written in the same transaction as the change.

    Database triggers (migrations 0001 and 0009) refuse UPDATE, DELETE, SQLite's REPLACE and
    PostgreSQL's TRUNCATE. ``prev_hash`` and ``hash`` chain the events in id order (the rule is
    in storage.audit), so a change made with the triggers off shows; ``prev_hash`` is unique, so
    two writers can never both chain onto the same event."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "entity_type", "entity_id"),
        Index("ux_audit_events_prev_hash", "prev_hash", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(254))  # member email, or "system:<job>"
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set by storage.audit when the event is flushed; NULL only on a row written around it.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class ImportBatch(Base):
    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    layout: Mapped[str] = mapped_column(String(40))
    as_of: Mapped[date]
    rows: Mapped[int]
    inserted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    closed: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The batch wrote its receivable_rollups (batches imported before they existed did not).
    rollup_kept: Mapped[bool] = mapped_column(default=False, server_default=false())
