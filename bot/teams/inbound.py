"""Each Teams activity takes effect once. Teams redelivers an activity it thinks was lost (a slow
answer, a dropped connection); without this a redelivered "paid acme 1200" would ask finance
twice. The first delivery inserts its id; a redelivery hits the unique key and is dropped."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from commands.context import AppContext
from storage.models import InboundEvent

PLATFORM = "teams"
_MAX_ID = 200  # the column's length


def event_id(conversation_id: str, activity_id: str) -> str:
    """Activity ids are unique within a conversation, not across conversations."""
    return f"{activity_id}@{conversation_id}"[:_MAX_ID]


def first_delivery(ctx: AppContext, key: str) -> bool:
    """True the first time ``key`` is seen; False for a redelivery."""
    try:
        with ctx.sessions.begin() as session:
            session.add(InboundEvent(platform=PLATFORM, event_id=key, received_at=ctx.clock.now()))
        return True
    except IntegrityError:
        return False
