"""The dispatcher: delivers outbox entries, each on its own.

One round (:meth:`Dispatcher.run_once`) claims the due entries of the platforms this process can
reach, for a lease, in one short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
replicas never take the same row; SQLite serializes writers anyway). The claimed entries are
grouped by destination ("lane") and the lanes are worked in parallel: an entry's failure, or a
slow platform, holds up only its own lane. Inside a lane entries go in order, paced (Slack allows
about one message a second per channel), so a card is posted before its update and its thread
replies.

Each entry is settled in its own transaction with the outcome:

- sent: the platform's message id is stored; a tracked post is remembered (``posted_messages``);
- transient failure (429, 5xx, timeout): tried again later, after the platform's Retry-After or
  an exponential backoff; after :data:`MAX_ATTEMPTS` it counts as permanent;
- permanent failure (unknown user, bot not in the channel, no conversation): marked failed and
  reported once in the admins channel with what to do; ``arbot outbox retry`` requeues it.

Right before each send the dispatcher renews its claim on the entry (one short UPDATE that
only succeeds while the claim is still its own). A lane that takes longer than the lease (a
long list paced into one channel, a slow platform) therefore never sends an entry that another
replica has taken over meanwhile: the second one sends it, the first lets it go.

Crashes. A process killed after the claim and before the send leaves the entry claimed; when
the lease ends another round takes it, so nothing is lost. Killed after the send and before the
settle, the platform has the message and the row does not know. Such an entry, taken back after
its lease ran out, and any entry retried after an earlier failed attempt, is *unsure*: an
earlier attempt may have landed (a timeout or a dropped connection after the platform took the
post looks just like one that did not). A sender that can look (``finds_earlier_attempts``)
gets the entry's key with every post and ``unsure_since`` on an unsure one:

- Slack: every post carries message metadata ``{"event_type": "arbot_outbox", "event_payload":
  {"key": ..., "part": n}}``; an unsure entry first reads the conversation (history, or the
  thread's replies) since it was queued and settles as sent with the message found, posting
  only what is missing. Card updates (``chat.update``) are the same when repeated. So on Slack
  a crash between commit and send loses nothing and sends nothing twice. The exceptions: a
  history Slack will not let the bot read (a missing scope) is logged and the post goes out,
  since a possible repeat beats a lost message.
- Teams: the Bot Connector has no way to ask what the bot sent in a conversation, so there is
  nothing to look in. An unsure entry is sent again: after a crash in that small window (or a
  timeout after Teams took the message) a Teams message can appear twice. Nothing is lost.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.messages import DeliveryFailed, Messenger, PostedRef, Reply, Tone, Where
from commands.outbox.codec import decode
from commands.outbox.entries import enqueue
from storage.models import OutboxEntry, PostedMessage
from storage.models.outbox import FAILED, PENDING, SENDING, SENT, SKIPPED

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8          # about 10 minutes of backoff: longer than any platform hiccup worth waiting out
BACKOFF_CAP_SECONDS = 300
WAIT_FOR_TRACKED_SECONDS = 2  # an update or thread reply whose card is still on its way
REPORT_PREFIX = "admin-report:"
DEFAULT_PACING = {"slack": 1.0, "teams": 0.5}  # seconds between messages in one conversation


@dataclass
class RoundReport:
    """What one round did, for logs, tests and benchmarks."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    taken_over: int = 0  # claims another dispatcher took after this one's lease ran out

    @property
    def settled(self) -> int:
        return self.sent + self.retried + self.failed + self.skipped + self.deferred + self.taken_over


@dataclass
class Dispatcher:
    ctx: AppContext
    senders: Mapping[str, Messenger]
    lease_seconds: float = 120
    batch: int = 200
    workers: int = 8
    pacing: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_PACING))
    sleep: Callable[[float], None] = time.sleep
    name: str = field(default_factory=lambda: f"{socket.gethostname()[:30]}:{os.getpid()}")
    _last_sent: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- a round ----------------------------------------------------------------------------

    def run_once(self) -> RoundReport:
        """Claim what is due and deliver it; never raises for a delivery problem."""
        report = RoundReport()
        entries, unsure = self._claim()
        if not entries:
            return report
        lanes: dict[tuple[str, str], list[OutboxEntry]] = {}
        for entry in entries:
            lanes.setdefault(_lane(entry), []).append(entry)
        if len(lanes) == 1 or self.workers <= 1:
            for lane, queued in lanes.items():
                self._work_lane(lane, queued, unsure, report)
        else:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(lanes))) as pool:
                for future in [pool.submit(self._work_lane, lane, queued, unsure, report)
                               for lane, queued in lanes.items()]:
                    future.result()
        return report

    def drain(self, *, rounds: int = 50) -> RoundReport:
        """Rounds until nothing due is left (tests, the terminal, ``arbot scheduler --once``)."""
        total = RoundReport()
        for _ in range(rounds):
            report = self.run_once()
            for name in ("sent", "retried", "failed", "skipped", "deferred", "taken_over"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            if report.settled == 0 or report.settled == report.deferred + report.retried + report.taken_over:
                break
        return total

    # -- claiming -----------------------------------------------------------------------------

    def claim(self) -> list[OutboxEntry]:
        """Take the due entries for a lease (what a round does first)."""
        return self._claim()[0]

    def _claim(self) -> tuple[list[OutboxEntry], frozenset[int]]:
        """The claimed entries, and the ids of the unsure ones: taken back from a dispatcher
        whose lease ran out mid-send, or tried before (see the module docstring)."""
        now = self.ctx.clock.now()
        token = f"{self.name}:{uuid.uuid4().hex[:8]}"
        claimable = and_(OutboxEntry.platform.in_(list(self.senders)), or_(
            and_(OutboxEntry.status == PENDING, OutboxEntry.next_attempt_at <= now),
            and_(OutboxEntry.status == SENDING, OutboxEntry.claimed_until < now)))
        with self.ctx.sessions.begin() as session:
            due = session.execute(select(OutboxEntry.id, OutboxEntry.status, OutboxEntry.attempts)
                                  .where(claimable).order_by(OutboxEntry.id)
                                  .limit(self.batch).with_for_update(skip_locked=True)).all()
            if not due:
                return [], frozenset()
            ids = [row.id for row in due]
            unsure = frozenset(row.id for row in due if row.status == SENDING or row.attempts > 0)
            session.execute(update(OutboxEntry).where(OutboxEntry.id.in_(ids), claimable).values(
                status=SENDING, claimed_by=token, claimed_until=now + timedelta(seconds=self.lease_seconds)))
            claimed = list(session.scalars(select(OutboxEntry).where(
                OutboxEntry.id.in_(ids), OutboxEntry.claimed_by == token).order_by(OutboxEntry.id)))
            session.expunge_all()
        return claimed, unsure

    # -- sending ------------------------------------------------------------------------------

    def _work_lane(self, lane: tuple[str, str], entries: list[OutboxEntry], unsure: frozenset[int],
                   report: RoundReport) -> None:
        for entry in entries:
            try:
                outcome = self._deliver(lane, entry, unsure=entry.id in unsure)
            except Exception:  # one entry's bug must not stop the lane, nor the round
                log.exception("outbox entry %s: unexpected failure", entry.id)
                outcome = _Failure(DeliveryFailed("unexpected error (see the log)", permanent=False))
            with self._lock:
                setattr(report, outcome.counter, getattr(report, outcome.counter) + 1)

    def _deliver(self, lane: tuple[str, str], entry: OutboxEntry, *, unsure: bool = False) -> _Outcome:
        reply = decode(entry.payload)
        messenger = self.senders[entry.platform]
        target = self._tracked(entry)
        if isinstance(target, _Outcome):
            return self._settle(entry, target)
        self._pace(lane, entry.platform)
        if not self._renew(entry):
            log.info("outbox entry %s: taken over by another dispatcher before it was sent", entry.id)
            return _TakenOver()
        try:
            ref = self._send(entry, messenger, reply, target, unsure=unsure)
        except DeliveryFailed as exc:
            return self._settle(entry, _Failure(exc))
        return self._settle(entry, _Sent(ref))

    def _tracked(self, entry: OutboxEntry) -> PostedRef | None | _Outcome:
        """The tracked post an update or thread reply needs: found, still on its way (wait), or
        never going out (an update is skipped; a thread reply goes to its fallback)."""
        key = entry.replaces_key or entry.thread_key
        if key is None:
            return None
        with self.ctx.sessions() as session:
            row = session.scalar(select(PostedMessage).where(PostedMessage.key == key))
            if row is not None:
                return PostedRef(Where(row.channel, row.thread), row.message_id)
            on_its_way = session.scalar(select(OutboxEntry.id).where(
                OutboxEntry.track_key == key, OutboxEntry.status.in_([PENDING, SENDING])).limit(1))
        if on_its_way is not None:
            return _Deferred()
        if not entry.destination:
            return _Skipped(f"{key} was never posted")
        return None  # to the fallback destination, as a new message

    def _renew(self, entry: OutboxEntry) -> bool:
        """Extend this dispatcher's claim right before the send; False when the claim is gone
        (its lease ran out while the lane worked through earlier entries, and another
        dispatcher took the entry): then that one sends it, not this one."""
        until = self.ctx.clock.now() + timedelta(seconds=self.lease_seconds)
        with self.ctx.sessions.begin() as session:
            renewed = session.execute(update(OutboxEntry).where(
                OutboxEntry.id == entry.id, OutboxEntry.claimed_by == entry.claimed_by,
                OutboxEntry.status == SENDING).values(claimed_until=until)).rowcount
        return renewed == 1

    def _send(self, entry: OutboxEntry, messenger: Messenger, reply: Reply, target: PostedRef | None, *,
              unsure: bool = False) -> PostedRef:
        if entry.kind == "update" and target is not None:
            messenger.update(target, reply)  # the same content again: safe to repeat
            return target
        keyed = _keyed(messenger, entry, unsure=unsure)
        if target is not None:
            return keyed.post(target.thread(), reply)
        if entry.kind == "direct" or (reply.to_user is not None and entry.kind == "update"):
            return keyed.direct(entry.destination, reply)
        thread = reply.where.thread if reply.where is not None else None
        return keyed.post(Where(entry.destination, thread), reply)

    def _pace(self, lane: tuple[str, str], platform: str) -> None:
        gap = self.pacing.get(platform, 0.0)
        if gap <= 0:
            return
        with self._lock:
            last = self._last_sent.get(lane)
            now = time.monotonic()
            wait = 0.0 if last is None else max(0.0, last + gap - now)
            self._last_sent[lane] = now + wait
        if wait:
            self.sleep(wait)

    # -- settling -----------------------------------------------------------------------------

    def _settle(self, entry: OutboxEntry, outcome: _Outcome) -> _Outcome:
        now = self.ctx.clock.now()
        with self.ctx.sessions.begin() as session:
            row = session.get(OutboxEntry, entry.id, with_for_update=True)
            if row is None or row.claimed_by != entry.claimed_by or row.status != SENDING:
                log.warning("outbox entry %s was taken over by another dispatcher after its lease ran out",
                            entry.id)
                return outcome
            row.claimed_by, row.claimed_until = None, None
            outcome.apply(session, row, now, self)
        return outcome

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        wait = min(BACKOFF_CAP_SECONDS, 2.0 ** attempts) * (0.75 + random.random() / 2)
        return max(wait, retry_after or 0.0)


@dataclass(frozen=True)
class _Keyed:
    """A sender's post and direct with the entry's key (and, when unsure, since when to look
    for an earlier attempt), for senders that can find what they sent; others get neither."""

    messenger: Messenger
    kwargs: dict[str, object]

    def post(self, where: Where, reply: Reply) -> PostedRef:
        return self.messenger.post(where, reply, **self.kwargs)  # type: ignore[call-arg]

    def direct(self, email: str, reply: Reply) -> PostedRef:
        return self.messenger.direct(email, reply, **self.kwargs)  # type: ignore[call-arg]


def _keyed(messenger: Messenger, entry: OutboxEntry, *, unsure: bool) -> _Keyed:
    if not getattr(messenger, "finds_earlier_attempts", False):
        return _Keyed(messenger, {})
    return _Keyed(messenger, {"key": entry.key, "unsure_since": entry.created_at if unsure else None})


def _lane(entry: OutboxEntry) -> tuple[str, str]:
    """Entries that must go in order: one conversation (a channel, a person, a card's channel)."""
    return entry.platform, entry.replaces_key or entry.thread_key or f"{entry.kind}:{entry.destination}"


class _Outcome:
    counter: str = "sent"

    def apply(self, session: Session, row: OutboxEntry, now: datetime, dispatcher: Dispatcher) -> None:
        raise NotImplementedError


@dataclass
class _Sent(_Outcome):
    ref: PostedRef
    counter = "sent"

    def apply(self, session: Session, row: OutboxEntry, now: datetime, dispatcher: Dispatcher) -> None:
        row.status, row.sent_at, row.attempts = SENT, now, row.attempts + 1
        row.message_channel, row.message_id, row.last_error = self.ref.where.channel, self.ref.message_id, None
        if row.track_key and row.kind != "update":
            remember(session, row.track_key, self.ref, platform=row.platform, at=now)


@dataclass
class _Deferred(_Outcome):
    counter = "deferred"

    def apply(self, session: Session, row: OutboxEntry, now: datetime, dispatcher: Dispatcher) -> None:
        row.status, row.next_attempt_at = PENDING, now + timedelta(seconds=WAIT_FOR_TRACKED_SECONDS)


class _TakenOver(_Outcome):
    """Another dispatcher holds the entry now; nothing to settle here."""

    counter = "taken_over"


@dataclass
class _Skipped(_Outcome):
    why: str
    counter = "skipped"

    def apply(self, session: Session, row: OutboxEntry, now: datetime, dispatcher: Dispatcher) -> None:
        row.status, row.last_error = SKIPPED, self.why


@dataclass
class _Failure(_Outcome):
    error: DeliveryFailed

    def __post_init__(self) -> None:
        self.counter = "failed" if self.error.permanent else "retried"

    def apply(self, session: Session, row: OutboxEntry, now: datetime, dispatcher: Dispatcher) -> None:
        row.attempts += 1
        row.last_error = self.error.reason + (f" ({self.error.hint})" if self.error.hint else "")
        if not self.error.permanent and row.attempts < MAX_ATTEMPTS:
            row.status = PENDING
            row.next_attempt_at = now + timedelta(seconds=dispatcher.backoff(row.attempts, self.error.retry_after))
            log.info("outbox entry %s: %s; attempt %d, next at %s", row.id, self.error.reason, row.attempts,
                     row.next_attempt_at)
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
    to = f"to {row.destination}" if row.kind == "direct" else f"in {row.destination or row.thread_key or row.replaces_key}"
    reply = Reply(
        title=f"Not delivered: \"{title}\" {to} on {row.platform.capitalize()}",
        text=(f"{row.last_error}. After {row.attempts} attempt{'s' if row.attempts != 1 else ''}. "
              f"When that is fixed, run `arbot outbox retry {row.id}` to send it."),
        tone=Tone.WARNING, where=Where(ctx.team.workflow.channels.admins))
    enqueue(session, ctx, [reply], origin=f"{REPORT_PREFIX}{row.id}")
