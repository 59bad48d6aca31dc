"""Why an import is refused before it changes anything: the same bytes or the same content
already imported for that as-of, or a snapshot older than the latest. Each reason is one line a
person reads; nothing is written when any of them holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditEvent, ImportBatch


class ImportRefused(Exception):
    """The file was not imported; ``messages`` say why (one line each)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


def refuse_same_bytes(session: Session, digest: str, as_of: date) -> None:
    """The cheap check before reading: these very bytes were imported for this as-of already."""
    batch_id = session.scalar(
        select(ImportBatch.id).where(ImportBatch.file_sha256 == digest, ImportBatch.as_of == as_of).limit(1)
    )
    if batch_id is not None:
        raise ImportRefused([_already(batch_id, as_of)])


def refuse_repeat(session: Session, content: str, as_of: date) -> None:
    """Content already imported for this as-of changes nothing: the day's snapshot had it."""
    batch_ids = session.scalars(select(ImportBatch.id).where(ImportBatch.as_of == as_of)).all()
    for batch_id, found in _contents(session, batch_ids):
        if found == content:
            raise ImportRefused([_already(batch_id, as_of)])


def refuse_older(session: Session, as_of: date) -> None:
    """An older snapshot after a newer one would reopen what has since been paid."""
    latest = session.scalars(
        select(ImportBatch).order_by(ImportBatch.as_of.desc(), ImportBatch.id.desc()).limit(1)
    ).first()
    if latest is not None and as_of < latest.as_of:
        raise ImportRefused(
            [
                f"the file is as of {as_of.isoformat()}, before the last import "
                f"(batch #{latest.id} as of {latest.as_of.isoformat()}); nothing was imported"
            ]
        )


def latest_content(session: Session) -> str | None:
    """The content digest of the latest import (by as-of, then order), if any."""
    latest = session.scalar(select(ImportBatch.id).order_by(ImportBatch.as_of.desc(), ImportBatch.id.desc()).limit(1))
    found = _contents(session, [latest]) if latest is not None else []
    return found[0][1] if found else None


def _already(batch_id: int, as_of: date) -> str:
    return f"already imported as of {as_of.isoformat()} (batch #{batch_id}); nothing changed"


def _contents(session: Session, batch_ids: Sequence[int]) -> list[tuple[int, str | None]]:
    """Each batch's content digest, kept in its ``import`` audit event."""
    if not batch_ids:
        return []
    rows = session.execute(
        select(AuditEvent.entity_id, AuditEvent.data).where(
            AuditEvent.entity_type == "import_batch", AuditEvent.action == "import", AuditEvent.entity_id.in_(batch_ids)
        )
    )
    return [(batch_id, (data or {}).get("content")) for batch_id, data in rows]
