"""Each chat request's idempotency key, stored with its effects in the request's transaction,
with the answer the asker got.

Why in the same transaction: when the connection drops while COMMIT is on its way, the bot
cannot know from the error whether the database committed. The key row commits or vanishes
with everything else, so looking it up afterwards tells the truth, and a redelivery of a request
that did commit is answered with what it answered then, instead of running again (and, say,
being refused as a duplicate of itself)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from commands.clock import Clock
from commands.messages import Reply
from commands.outbox.codec import decode, encode
from storage.models import InboundEvent

MAX_KEY = 200  # the column's length


class InProgress(Exception):
    """Another delivery of the same request holds its key in a transaction still under way."""


def earlier_answer(session: Session, platform: str, key: str) -> list[Reply] | None:
    """What a request with this key answered when it committed, or None if it never did."""
    row = session.scalar(
        select(InboundEvent).where(InboundEvent.platform == platform, InboundEvent.event_id == key[:MAX_KEY])
    )
    if row is None:
        return None
    return [decode(item) for item in row.result or []]


def claim(session: Session, clock: Clock, platform: str, key: str) -> InboundEvent:
    """Write the key first in the transaction: a concurrent delivery of the same request waits
    on it and then fails (:class:`InProgress`) instead of doing the work twice."""
    row = InboundEvent(platform=platform, event_id=key[:MAX_KEY], received_at=clock.now(), result=[])
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # the caller rolls the whole transaction back
        raise InProgress(key) from exc
    return row


def keep_answer(row: InboundEvent, replies: list[Reply]) -> None:
    row.result = [encode(reply) for reply in replies]


def committed_answer(sessions: sessionmaker[Session], platform: str, key: str) -> list[Reply] | None:
    """After a COMMIT whose outcome is unknown: the answer it stored if it committed, None if
    not. Raises when the database still cannot be asked."""
    with sessions() as session:
        return earlier_answer(session, platform, key)
