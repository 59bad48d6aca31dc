"""Whether other dispatchers share this outbox, as their claims show it.

A 429's retry is due when Slack's Retry-After has passed. Several replicas that each got 429s
at the same moment would all retry at the same instant and meet Slack's limit together again, so
a dispatcher that knows it is not alone adds a little jitter to spread them
(:data:`commands.outbox.dispatch.RETRY_AFTER_JITTER`). A dispatcher alone needs no spreading, and
every millisecond added is a millisecond the message waits past what Slack asked for.

A replica shows itself by its claims: while it delivers, the rows it took are ``sending`` under
its claim token, which starts with its own identity (:func:`identity`), and a row it settled
keeps that token, so a retry it scheduled names it until the retry is taken. Each dispatcher
looks for a live claim or a scheduled retry that is not its own whenever it claims and whenever
its loop asks what comes due next (at least once a second while idle), and remembers a sighting
for :data:`MEMORY`. A replica that never claims anything has no retries to spread; one that does
is seen within a round, and one with retries waiting is seen until they are taken. A dispatcher
restarted sees the retries its earlier self scheduled as another's, and spreads its own for a
while: the safe side."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, not_, or_, select
from sqlalchemy.orm import Session

from storage.models import OutboxEntry
from storage.models.outbox import PENDING, SENDING

MEMORY = timedelta(minutes=10)  # how long one sighting of another dispatcher counts


def identity(name: str) -> str:
    """This dispatcher's part of every claim token: its process's name and an instance id, so
    two dispatchers in one process (tests, a drain beside the loop) are told apart too."""
    return f"{name}:{uuid.uuid4().hex[:6]}"


def others_at_work(session: Session, *, mine: str, now: datetime) -> bool:
    """True when a dispatcher other than ``mine`` holds a live claim on some entry, or scheduled
    a retry that is still waiting (both are few rows, found by the status index)."""
    return (
        session.scalar(
            select(OutboxEntry.id)
            .where(
                or_(
                    and_(OutboxEntry.status == SENDING, OutboxEntry.claimed_until >= now),
                    and_(OutboxEntry.status == PENDING, OutboxEntry.attempts > 0),
                ),
                OutboxEntry.claimed_by.is_not(None),
                not_(OutboxEntry.claimed_by.startswith(f"{mine}:", autoescape=True)),
            )
            .limit(1)
        )
        is not None
    )


@dataclass
class Replicas:
    """What one dispatcher knows of the others: when it last saw one at work."""

    mine: str
    seen_at: datetime | None = None

    def look(self, session: Session, now: datetime) -> None:
        """Note another dispatcher if one is at work now."""
        if others_at_work(session, mine=self.mine, now=now):
            self.seen_at = now

    def present(self, now: datetime) -> bool:
        """Whether another dispatcher was at work within :data:`MEMORY`."""
        return self.seen_at is not None and now - self.seen_at <= MEMORY
