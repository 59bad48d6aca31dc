"""Writing audit events. Callers pass the session they change the ledger with, so the event
commits or rolls back together with the change it describes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from storage.models import AuditEvent


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: int | None = None,
    customer_id: int | None = None,
    **data: Any,
) -> AuditEvent:
    event = AuditEvent(
        at=at, actor=actor, action=action, entity_type=entity_type,
        entity_id=entity_id, customer_id=customer_id, data=_jsonable(data),
    )
    session.add(event)
    return event


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """Decimals and dates become strings so the JSON column stays portable."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[key] = value
        elif isinstance(value, dict):
            out[key] = _jsonable(value)
        elif isinstance(value, (list, tuple)):
            out[key] = [v if isinstance(v, (str, int, float, bool)) else str(v) for v in value]
        else:
            out[key] = str(value)
    return out
