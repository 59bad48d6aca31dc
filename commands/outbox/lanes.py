"""Lanes: the entries that must reach one conversation in order, and the pace they go at.

A lane is one conversation as the outbox knows it: a channel, a person's direct messages, or one
tracked card (its updates, its thread). Inside a lane entries go in the order they were queued,
so a card is posted before its update and its thread replies, and a later message never
overtakes an earlier one that waits for a retry. Lanes are independent: one waiting never holds
up another.

The pace is per lane and per process: Slack takes about one message a second in a channel, so
each lane's next send waits for the spacing after its last one, and a 429 pushes that lane's
next send back by the platform's Retry-After. A post the platform refused with a 429 was not
posted, so it does not count as the lane's last one: the retry waits Retry-After, not the
spacing after the refused attempt (on Slack, 1.1 s after a post refused with Retry-After 1 s)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, literal, or_
from sqlalchemy.orm import aliased

from storage.models import OutboxEntry
from storage.models.outbox import PENDING, SENDING

Lane = tuple[str, str]
_REMEMBERED = 5000  # lanes whose pace is kept before the quiet ones are forgotten


def lane_of(entry: OutboxEntry) -> Lane:
    """Entries that must go in order: one conversation (a channel, a person, a card's channel)."""
    return entry.platform, entry.replaces_key or entry.thread_key or f"{entry.kind}:{entry.destination}"


def _lane_key(table: type[OutboxEntry]) -> ColumnElement[str]:
    """:func:`lane_of`'s conversation part in SQL."""
    return func.coalesce(table.replaces_key, table.thread_key, table.kind + literal(":") + table.destination)


def behind_a_waiting_entry(now: datetime) -> ColumnElement[bool]:
    """True for an entry with an earlier one in its lane that is waiting: for its retry or its
    pace (pending, not yet due) or held by a live claim. Such an entry is not claimed, so it
    cannot overtake; it goes with the earlier one when that comes due."""
    earlier = aliased(OutboxEntry)
    return exists().where(
        earlier.platform == OutboxEntry.platform,
        earlier.id < OutboxEntry.id,
        _lane_key(earlier) == _lane_key(OutboxEntry),
        or_(
            and_(earlier.status == PENDING, earlier.next_attempt_at > now),
            and_(earlier.status == SENDING, earlier.claimed_until >= now),
        ),
    )


class Pace:
    """When each lane may send next, on a monotonic clock (the platform counts real seconds).

    ``gaps`` is the spacing per platform (seconds between two messages in one lane); a platform
    not named is not paced here."""

    def __init__(self, gaps: Mapping[str, float], *, now: Callable[[], float] = time.monotonic) -> None:
        self._gaps, self._now = dict(gaps), now
        self._next: dict[Lane, float] = {}
        self._lock = threading.Lock()

    def wait(self, lane: Lane) -> float:
        """Seconds until ``lane`` may send (0: now)."""
        with self._lock:
            return max(0.0, self._next.get(lane, 0.0) - self._now())

    def sending(self, lane: Lane) -> float:
        """A send to ``lane`` starts now: the next one waits the platform's spacing. Returns when
        the lane could send before this one (for :meth:`refused`)."""
        gap = self._gaps.get(lane[0], 0.0)
        with self._lock:
            before = self._next.get(lane, 0.0)
            if gap > 0:
                self._next[lane] = max(before, self._now() + gap)
                if len(self._next) > _REMEMBERED:
                    self._forget_quiet()
            return before

    def refused(self, lane: Lane, before: float | None, retry_after: float) -> None:
        """The send that started when the lane's turn was ``before`` was refused with a 429: it
        was not posted, so the spacing it took is given back, and the lane waits ``retry_after``
        (the platform's Retry-After) from now. ``before`` None: parts of it were posted, so the
        spacing stands."""
        with self._lock:
            spaced = self._next.get(lane, 0.0) if before is None else before
            self._next[lane] = max(spaced, self._now() + retry_after)

    def _forget_quiet(self) -> None:
        now = self._now()
        for lane in [lane for lane, at in self._next.items() if at <= now]:
            del self._next[lane]
