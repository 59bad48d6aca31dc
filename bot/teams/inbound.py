"""The idempotency key of a Teams activity. Teams redelivers an activity it thinks was lost (a
slow answer, a dropped connection); the key goes with the request to the core, which stores it
with the request's effects (commands.idempotency), so a redelivered "paid acme 1200" does not
ask finance twice, and bot.runtime drops redeliveries this process already answered."""

from __future__ import annotations

_MAX_ID = 200  # the column's length


def event_id(conversation_id: str, activity_id: str) -> str:
    """Activity ids are unique within a conversation, not across conversations."""
    return f"{activity_id}@{conversation_id}"[:_MAX_ID]
