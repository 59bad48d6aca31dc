"""Queueing an email in the caller's transaction: the row is the promise to send it, written
with the ledger change (and its audit event) that decided so. Nothing is sent here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.context import AppContext
from storage.audit import record
from storage.models import OutgoingEmail

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
BOUNCED = "bounced"  # sent, then returned by the recipient's side as undeliverable


@dataclass(frozen=True)
class Draft:
    """An email as it will go out (the attachment, if any, as name, MIME type and bytes)."""

    to_address: str
    contact_name: str | None
    subject: str
    body: str
    attachment: tuple[str, str, bytes] | None = None


def queue_email(
    session: Session,
    ctx: AppContext,
    draft: Draft,
    *,
    key: str,
    purpose: str,
    customer_id: int,
    actor: str,
    member_id: int | None = None,
    report_to: str | None = None,
    statement_day: date | None = None,
) -> OutgoingEmail | None:
    """The queued row, or None when one with this key exists already (a statement queued by an
    earlier run of the same day)."""
    if session.scalar(select(OutgoingEmail.id).where(OutgoingEmail.key == key)) is not None:
        return None
    now = ctx.clock.now()
    name, mime, data = draft.attachment or (None, None, None)
    row = OutgoingEmail(
        key=key,
        purpose=purpose,
        customer_id=customer_id,
        member_id=member_id,
        report_to=report_to,
        contact_name=draft.contact_name,
        to_address=draft.to_address,
        subject=draft.subject,
        body=draft.body,
        attachment_name=name,
        attachment_mime=mime,
        attachment=data,
        statement_day=statement_day,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        told_unreachable=False,
    )
    session.add(row)
    session.flush()
    record(
        session,
        at=now,
        actor=actor,
        action="email.queued",
        entity_type="outgoing_email",
        entity_id=row.id,
        customer_id=customer_id,
        purpose=purpose,
        to=draft.to_address,
        subject=draft.subject,
    )
    return row
