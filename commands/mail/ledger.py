"""What an outgoing email leaves in the ledger: its audit events (sent, refused, failed, bounced,
delayed) and the email activity on the customer's record, written the same way whichever part of
the mail code saw it happen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from storage.audit import record
from storage.models import Activity, ActivityKind, Outcome, OutgoingEmail


def email_event(session: Session, row: OutgoingEmail, action: str, *, at: datetime, **data: Any) -> None:
    """The audit event of something that happened to ``row`` (``email.sent``, ``email.bounced``…)."""
    record(
        session,
        at=at,
        actor="mail",
        action=action,
        entity_type="outgoing_email",
        entity_id=row.id,
        customer_id=row.customer_id,
        **data,
    )


def email_activity(session: Session, row: OutgoingEmail, outcome: Outcome, note: str, *, at: datetime) -> Activity:
    """The email on the customer's contact history, as the collector who asked for it."""
    activity = Activity(
        customer_id=row.customer_id,
        member_id=row.member_id,
        kind=ActivityKind.EMAIL,
        outcome=outcome,
        contact_name=row.contact_name,
        note=note,
        occurred_at=at,
    )
    session.add(activity)
    session.flush()
    return activity
