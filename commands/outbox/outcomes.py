"""What one delivery attempt comes to, and how it is written on the entry's row: sent (the
message id stored, a tracked post remembered), back in the queue (its lane's turn, its card not
yet posted, behind an earlier entry), skipped, taken over by another dispatcher, or failed (a
retry after the platform's Retry-After or a backoff; after :data:`MAX_ATTEMPTS`, or at once when
permanent, failed for good and reported once in the admins channel). The dispatcher
(:mod:`commands.outbox.dispatch`) decides which; each outcome knows how to settle itself.

An outcome that needs nothing of the row but what the dispatcher's claimed copy already holds
(sent, back in the queue, skipped, a retry) is written as one guarded UPDATE (:meth:`Outcome.values`):
no read of the row first, so a settle is one statement and its commit. Only a failure for good
reads the row, to report it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.messages import DeliveryFailed, PostedRef, Reply, Tone, Where
from commands.outbox.entries import enqueue
from storage.models import OutboxEntry, PostedMessage
from storage.models.outbox import FAILED, PENDING, SENT, SKIPPED

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # about 10 minutes of backoff: longer than any platform hiccup worth waiting out
REPORT_PREFIX = "admin-report:"


class Settler(Protocol):
    """What settling an outcome needs of the dispatcher: its context and its retry timing."""

    ctx: AppContext

    def backoff(self, attempts: int, retry_after: float | None) -> float: ...


def parts_from_row(stored: Mapping[str, Any] | None) -> dict[int, PostedRef]:
    """The parts of a long message that landed, as stored with the entry."""
    return {
        int(n): PostedRef(Where(part["channel"], part.get("thread")), part["id"]) for n, part in (stored or {}).items()
    }


def parts_for_row(parts: Mapping[int, PostedRef]) -> dict[str, Any] | None:
    return {
        str(n): {"channel": ref.where.channel, "thread": ref.where.thread, "id": ref.message_id}
        for n, ref in sorted(parts.items())
    } or None


class Outcome:
    counter: str = "sent"

    def values(self, entry: OutboxEntry, now: datetime, dispatcher: Settler) -> dict[str, Any] | None:
        """The columns to write, from the claimed copy ``entry`` (the claim keeps anyone else
        from changing the row meanwhile); None: :meth:`apply` must read the row."""
        return None

    def settled(self, session: Session, entry: OutboxEntry, now: datetime) -> None:
        """What else goes in the settle's transaction once :meth:`values` was written."""

    def apply(self, session: Session, row: OutboxEntry, now: datetime, dispatcher: Settler) -> None:
        values = self.values(row, now, dispatcher)
        if values is None:
            raise NotImplementedError
        for name, value in values.items():
            setattr(row, name, value)
        self.settled(session, row, now)

    def holds_lane_until(self) -> datetime | None:
        """When this entry goes again, if it waits in the queue: the rest of its lane waits too."""
        return None


@dataclass
class Sent(Outcome):
    ref: PostedRef
    counter = "sent"

    def values(self, entry: OutboxEntry, now: datetime, dispatcher: Settler) -> dict[str, Any]:
        return {
            "status": SENT,
            "sent_at": now,
            "attempts": entry.attempts + 1,
            "message_channel": self.ref.where.channel,
            "message_id": self.ref.message_id,
            "last_error": None,
            "may_have_landed": False,
        }

    def settled(self, session: Session, entry: OutboxEntry, now: datetime) -> None:
        if entry.track_key and entry.kind != "update":
            remember(session, entry.track_key, self.ref, platform=entry.platform, at=now)


@dataclass
class Requeued(Outcome):
    """Back in the queue, due at ``until``, without counting as an attempt."""

    until: datetime

    def values(self, entry: OutboxEntry, now: datetime, dispatcher: Settler) -> dict[str, Any]:
        return {"status": PENDING, "next_attempt_at": self.until}

    def holds_lane_until(self) -> datetime | None:
        return self.until


class Deferred(Requeued):
    """An update or thread reply whose card is still on its way."""

    counter = "deferred"


class NotYet(Requeued):
    """Claimed ahead of its due instant and still early when its lane got to it: it goes when due,
    as it would have."""

    counter = "deferred"


class Paced(Requeued):
    """Its lane's pace says not yet: it goes at its turn."""

    counter = "paced"


@dataclass
class Behind(Requeued):
    """Later in a lane whose earlier entry waits: it goes after that one."""

    counter: str = "deferred"


class TakenOver(Outcome):
    """Another dispatcher holds the entry now; nothing to settle here."""

    counter = "taken_over"


@dataclass
class Skipped(Outcome):
    why: str
    counter = "skipped"

    def values(self, entry: OutboxEntry, now: datetime, dispatcher: Settler) -> dict[str, Any]:
        return {"status": SKIPPED, "last_error": self.why}


@dataclass
class Failure(Outcome):
    error: DeliveryFailed
    retry_at: datetime | None = None

    def __post_init__(self) -> None:
        self.counter = "failed" if self.error.permanent else "retried"

    def holds_lane_until(self) -> datetime | None:
        return self.retry_at

    def values(self, entry: OutboxEntry, now: datetime, dispatcher: Settler) -> dict[str, Any] | None:
        """A retry is written from the claimed copy; a failure for good reads the row (:meth:`apply`)."""
        attempts = entry.attempts + 1
        if self.error.permanent or attempts >= MAX_ATTEMPTS:
            return None
        self.retry_at = now + timedelta(seconds=dispatcher.backoff(attempts, self.error.retry_after))
        log.info("outbox entry %s: %s; attempt %d, next at %s", entry.id, self.error.reason, attempts, self.retry_at)
        return {**self._attempt(entry), "status": PENDING, "next_attempt_at": self.retry_at}

    def _attempt(self, entry: OutboxEntry) -> dict[str, Any]:
        """What every failed attempt writes: its count, its error, and the parts that landed."""
        values: dict[str, Any] = {
            "attempts": entry.attempts + 1,
            "last_error": self.error.reason + (f" ({self.error.hint})" if self.error.hint else ""),
            "may_have_landed": self.error.may_have_landed,
        }
        if self.error.parts:
            values["parts_sent"] = parts_for_row({**parts_from_row(entry.parts_sent), **self.error.parts})
        return values

    def apply(self, session: Session, row: OutboxEntry, now: datetime, dispatcher: Settler) -> None:
        retry = self.values(row, now, dispatcher)
        for name, value in (retry or self._attempt(row)).items():
            setattr(row, name, value)
        if retry is not None:
            return
        row.status = FAILED
        log.warning("outbox entry %s to %s on %s failed: %s", row.id, row.destination, row.platform, row.last_error)
        if not row.reported and not row.key.startswith(REPORT_PREFIX):
            row.reported = True
            report_failure(session, dispatcher.ctx, row)


def remember(session: Session, key: str, ref: PostedRef, *, platform: str, at: datetime) -> None:
    """Where tracked post ``key`` landed, for later updates and thread replies."""
    row = session.scalar(select(PostedMessage).where(PostedMessage.key == key))
    if row is None:
        row = PostedMessage(key=key)
        session.add(row)
    row.channel, row.message_id, row.thread = ref.where.channel, ref.message_id, ref.where.thread
    row.posted_at, row.platform = at, platform


def report_failure(session: Session, ctx: AppContext, row: OutboxEntry) -> None:
    """Tell the admins channel, once, what did not go out and what to do about it."""
    title = str(row.payload.get("title", ""))[:120]
    place = row.destination or row.thread_key or row.replaces_key
    to = f"to {row.destination}" if row.kind == "direct" else f"in {place}"
    reply = Reply(
        title=f'Not delivered: "{title}" {to} on {row.platform.capitalize()}',
        text=(
            f"{row.last_error}. After {row.attempts} attempt{'s' if row.attempts != 1 else ''}. "
            f"When that is fixed, run `arbot outbox retry {row.id}` to send it."
        ),
        tone=Tone.WARNING,
        where=Where(ctx.team.workflow.channels.admins),
    )
    enqueue(session, ctx, [reply], origin=f"{REPORT_PREFIX}{row.id}")
