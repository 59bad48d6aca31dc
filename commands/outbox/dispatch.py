"""The dispatcher: delivers outbox entries, each on its own.

One round (:meth:`Dispatcher.run_once`) claims the due entries of the platforms this process can
reach, for a lease, in one short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
replicas never take the same row; SQLite serializes writers anyway). The claimed entries are
grouped by conversation ("lane", :mod:`commands.outbox.lanes`) and the lanes are worked in
parallel: an entry's failure, or a slow platform, holds up only its own lane. Inside a lane
entries go in order, so a card is posted before its update and its thread replies, and an entry
whose lane has an earlier one waiting (for its retry or its pace) is not claimed at all: a later
message never overtakes an earlier one.

Pacing. Slack takes about one message a second per channel, so each lane waits
:data:`DEFAULT_PACING` after its last send. A round does not sleep that out: the lane's next
entry goes back to the queue due at its turn (with the rest of the lane behind it), and the
delivery loop wakes for it (``bot/delivery.py``), so a long run into one channel holds up no
other lane and no other round. A wait shorter than :data:`INLINE_PACE_SECONDS` is slept in the
lane, and so is the wait of an entry tried before (its retry came due after its backoff, so what
is left of the pace is a fraction of a second); :meth:`Dispatcher.drain` (a terminal,
``arbot scheduler --once``, shutdown) sleeps them all.

Each entry is settled with its outcome (:mod:`commands.outbox.outcomes`), in the next transaction
that writes the settles the lanes have waiting (:mod:`commands.outbox.settling`):

- sent: the platform's message id is stored; a tracked post is remembered (``posted_messages``);
- transient failure (429, 5xx, timeout): tried again when the platform's Retry-After has passed,
  or after an exponential backoff when it named no time; a 429 also pushes its lane's next send
  back by Retry-After. A dispatcher alone waits exactly Retry-After; one that has seen another
  replica at work lately (:mod:`commands.outbox.replicas`) adds a jitter of at most
  :data:`RETRY_AFTER_JITTER` of it, so replicas do not retry in step. After
  :data:`commands.outbox.outcomes.MAX_ATTEMPTS` it counts as permanent;
- permanent failure (unknown user, bot not in the channel, no conversation): marked failed and
  reported once in the admins channel with what to do; ``arbot outbox retry`` requeues it.

A long message (a Slack list over 50 blocks, a Teams list over 40 KB) goes out in parts; when a
later part fails, the parts that landed are stored with the entry and the retry sends only the
rest, so nobody sees page 1 twice.

A round may claim ahead (``run_once(ahead=...)``: the delivery loop wakes a moment before the
next entry comes due and claims everything due within that moment): a lane whose entry is not
due yet sleeps until it is, so the claim's work is done by the time Slack's Retry-After has
passed and retries coming due together go out in one round. Nothing is sent before its due
instant: when the clock says it is still early after the sleep (a clock set back, a test's
clock), the entry goes back to the queue as it was.

Right before each send the dispatcher makes sure its claim on the entry is still its own: while
most of the lease is left that is certain; later, one short UPDATE renews it and only succeeds
while the claim is still this dispatcher's. A lane that takes longer than the lease therefore
never sends an entry that another replica has taken over meanwhile: the second one sends it,
the first lets it go.

Crashes. A process killed after the claim and before the send leaves the entry claimed; when
the lease ends another round takes it, so nothing is lost. Killed after the send and before the
settle, the platform has the message and the row does not know. Such an entry, taken back after
its lease ran out, and one whose last attempt may have landed (a timeout or a dropped
connection after the platform took the post looks just like one that did not) is *unsure*. A
429 or a refusal is not: the platform said it posted nothing, so its retry just sends. A sender
that can look (``finds_earlier_attempts``) gets the entry's key with every post and
``unsure_since`` on an unsure one:

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
from typing import Any

from sqlalchemy import and_, func, not_, or_, select, update

from commands.context import AppContext
from commands.messages import DeliveryFailed, Messenger, PostedRef, Reply, Where
from commands.outbox.codec import decode
from commands.outbox.lanes import Lane, Pace, behind_a_waiting_entry, lane_of
from commands.outbox.outcomes import (
    Behind,
    Deferred,
    Failure,
    NotYet,
    Outcome,
    Paced,
    Sent,
    Skipped,
    TakenOver,
    parts_from_row,
)
from commands.outbox.replicas import Replicas, identity
from commands.outbox.settling import GroupSettle
from storage.db import read_only
from storage.models import OutboxEntry, PostedMessage
from storage.models.outbox import PENDING, SENDING
from storage.row_counts import rows_changed

log = logging.getLogger(__name__)

BACKOFF_CAP_SECONDS = 300
RETRY_AFTER_JITTER = 0.05  # with other replicas at work, at most this share of Retry-After is added
WAIT_FOR_TRACKED_SECONDS = 2  # an update or thread reply whose card is still on its way
# Seconds between messages in one lane. Slack: about one a second per channel, with a margin.
# Teams paces itself per thread (bot/teams/pacing.py), to the limits Teams documents.
DEFAULT_PACING = {"slack": 1.1}
INLINE_PACE_SECONDS = 0.25  # a pace wait this short is slept in the lane; a longer one is queued
COUNTERS = ("sent", "retried", "failed", "skipped", "deferred", "paced", "taken_over")


@dataclass
class RoundReport:
    """What one round did, for logs, tests and benchmarks."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0  # back in the queue: waiting for a tracked card, or behind a retry in their lane
    paced: int = 0  # back in the queue until their lane's turn (and those behind them)
    taken_over: int = 0  # claims another dispatcher took after this one's lease ran out

    @property
    def settled(self) -> int:
        return sum(getattr(self, name) for name in COUNTERS)

    def add(self, other: RoundReport) -> None:
        for name in COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Dispatcher:
    ctx: AppContext
    senders: Mapping[str, Messenger]
    lease_seconds: float = 120
    batch: int = 200
    workers: int = 8
    pacing: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_PACING))
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic  # the pace's clock: platforms count real seconds
    name: str = field(default_factory=lambda: f"{socket.gethostname()[:30]}:{os.getpid()}")
    jitter: Callable[[], float] = random.random  # the share of RETRY_AFTER_JITTER a retry adds
    _pace: Pace = field(init=False)
    _replicas: Replicas = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _settles: GroupSettle = field(init=False)

    def __post_init__(self) -> None:
        self._pace = Pace(self.pacing, now=self.monotonic)
        self._replicas = Replicas(identity(self.name))
        self._settles = GroupSettle(self.ctx, self)

    # -- a round ----------------------------------------------------------------------------

    def run_once(self, *, queue_paced: bool = True, ahead: float = 0.0) -> RoundReport:
        """Claim what is due (or comes due within ``ahead`` seconds: its lane sleeps until then)
        and deliver it; never raises for a delivery problem. With ``queue_paced`` a lane's wait
        for its pace goes back to the queue (the delivery loop wakes for it); without, the round
        sleeps it out in that lane."""
        report = RoundReport()
        entries, unsure = self._claim(ahead)
        if not entries:
            return report
        lanes: dict[Lane, list[OutboxEntry]] = {}
        for entry in sorted(entries, key=lambda e: (e.next_attempt_at, e.id)):  # the soonest due start first
            lanes.setdefault(lane_of(entry), []).append(entry)
        for queued in lanes.values():
            queued.sort(key=lambda e: e.id)  # in its lane, the order it was queued in
        if len(lanes) == 1 or self.workers <= 1:
            for lane, queued in lanes.items():
                self._work_lane(lane, queued, unsure, report, queue_paced=queue_paced)
        else:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(lanes))) as pool:
                for future in [
                    pool.submit(self._work_lane, lane, queued, unsure, report, queue_paced=queue_paced)
                    for lane, queued in lanes.items()
                ]:
                    future.result()
        return report

    def drain(self, *, rounds: int = 50) -> RoundReport:
        """Rounds until nothing due is left (tests, the terminal, ``arbot scheduler --once``),
        sleeping out each lane's pace; retries that are not due yet are left for later."""
        total = RoundReport()
        for _ in range(rounds):
            self._call_paced_now()
            report = self.run_once(queue_paced=False)
            total.add(report)
            if report.settled == 0 or report.settled == report.deferred + report.retried + report.taken_over:
                break
        return total

    def _call_paced_now(self) -> None:
        """Entries queued only for their lane's turn (never tried, due within one pace) are
        made due now: a drain takes them at once and sleeps the pace in the lane. Those behind
        a retry stay behind it (the lane's order is kept at the claim)."""
        gap = max(self.pacing.values(), default=0.0)
        if gap <= 0:
            return
        now = self.ctx.clock.now()
        with self.ctx.sessions.begin() as session:
            session.execute(
                update(OutboxEntry)
                .where(
                    OutboxEntry.platform.in_(list(self.senders)),
                    OutboxEntry.status == PENDING,
                    OutboxEntry.attempts == 0,
                    OutboxEntry.next_attempt_at > now,
                    OutboxEntry.next_attempt_at <= now + timedelta(seconds=gap),
                )
                .values(next_attempt_at=now)
            )

    def next_due(self) -> datetime | None:
        """When the next entry this dispatcher could send comes due (a retry, a lane's turn, a
        claim whose lease runs out; in the past when one is due already, having come due while
        a round ran), or None when nothing is waiting: the delivery loop sleeps until then.
        Entries behind a waiting one in their lane go with it, so they do not count."""
        now = self.ctx.clock.now()
        ours = OutboxEntry.platform.in_(list(self.senders))
        with self.ctx.sessions() as session:  # a reader: on SQLite it waits for no writer
            self._replicas.look(read_only(session), now)
            retry = session.scalar(
                select(func.min(OutboxEntry.next_attempt_at)).where(
                    ours, OutboxEntry.status == PENDING, not_(behind_a_waiting_entry(now))
                )
            )
            lease = session.scalar(
                select(func.min(OutboxEntry.claimed_until)).where(
                    ours, OutboxEntry.status == SENDING, OutboxEntry.claimed_until >= now
                )
            )
        times = [t for t in (retry, lease) if t is not None]
        return min(times) if times else None

    # -- claiming -----------------------------------------------------------------------------

    def claim(self) -> list[OutboxEntry]:
        """Take the due entries for a lease (what a round does first)."""
        return self._claim()[0]

    def _claim(self, ahead: float = 0.0) -> tuple[list[OutboxEntry], frozenset[int]]:
        """The claimed entries (due now, or within ``ahead`` seconds), and the ids of the unsure
        ones: taken back from a dispatcher whose lease ran out mid-send, or whose last attempt may
        have landed (see the module docstring)."""
        now = self.ctx.clock.now()
        horizon = now + timedelta(seconds=max(0.0, ahead))
        token = f"{self._replicas.mine}:{uuid.uuid4().hex[:8]}"
        claimable = and_(
            OutboxEntry.platform.in_(list(self.senders)),
            or_(
                and_(OutboxEntry.status == PENDING, OutboxEntry.next_attempt_at <= horizon),
                and_(OutboxEntry.status == SENDING, OutboxEntry.claimed_until < now),
            ),
        )
        with self.ctx.sessions.begin() as session:
            self._replicas.look(session, now)
            due = session.execute(
                select(OutboxEntry.id, OutboxEntry.status, OutboxEntry.may_have_landed)
                .where(claimable, not_(behind_a_waiting_entry(horizon)))
                .order_by(OutboxEntry.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            ).all()
            if not due:
                return [], frozenset()
            ids = [row.id for row in due]
            unsure = frozenset(row.id for row in due if row.status == SENDING or row.may_have_landed)
            session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.id.in_(ids), claimable)
                .values(status=SENDING, claimed_by=token, claimed_until=now + timedelta(seconds=self.lease_seconds))
            )
            claimed = list(
                session.scalars(
                    select(OutboxEntry)
                    .where(OutboxEntry.id.in_(ids), OutboxEntry.claimed_by == token)
                    .order_by(OutboxEntry.id)
                )
            )
            session.expunge_all()
        return claimed, unsure

    # -- sending ------------------------------------------------------------------------------

    def _work_lane(
        self,
        lane: Lane,
        entries: list[OutboxEntry],
        unsure: frozenset[int],
        report: RoundReport,
        *,
        queue_paced: bool = True,
    ) -> None:
        """The lane's entries in order. One that must wait (its retry, its pace, its card) sends
        the rest of the lane back to the queue behind it, so none of them overtakes it."""
        for n, entry in enumerate(entries):
            try:
                outcome = self._deliver(lane, entry, unsure=entry.id in unsure, queue_paced=queue_paced)
            except Exception:  # one entry's bug must not stop the round; the lease brings the lane back
                log.exception("outbox entry %s: unexpected failure", entry.id)
                self._count(report, "retried")
                return
            self._count(report, outcome.counter)
            until = outcome.holds_lane_until()
            if until is not None:
                behind = "paced" if isinstance(outcome, Paced) else "deferred"
                for later in entries[n + 1 :]:
                    self._count(report, self._settle(later, Behind(until, behind)).counter)
                return

    def _count(self, report: RoundReport, counter: str) -> None:
        with self._lock:
            setattr(report, counter, getattr(report, counter) + 1)

    def _deliver(self, lane: Lane, entry: OutboxEntry, *, unsure: bool = False, queue_paced: bool = True) -> Outcome:
        reply = decode(entry.payload)
        messenger = self.senders[entry.platform]
        if not self._until_due(entry):
            return self._settle(entry, NotYet(entry.next_attempt_at))
        target = self._tracked(entry)
        if isinstance(target, Outcome):
            return self._settle(entry, target)
        wait = self._pace.wait(lane)
        if wait > INLINE_PACE_SECONDS and queue_paced and entry.attempts == 0:
            return self._settle(entry, Paced(self.ctx.clock.now() + timedelta(seconds=wait)))
        if wait > 0:
            self.sleep(wait)
        if not self._renew(entry):
            log.info("outbox entry %s: taken over by another dispatcher before it was sent", entry.id)
            return TakenOver()
        turn = self._pace.sending(lane)
        try:
            ref = self._send(entry, messenger, reply, target, unsure=unsure)
        except DeliveryFailed as exc:
            if exc.retry_after is not None:
                self._pace.refused(lane, None if exc.parts else turn, exc.retry_after)
            return self._settle(entry, Failure(exc))
        return self._settle(entry, Sent(ref))

    def _until_due(self, entry: OutboxEntry) -> bool:
        """Sleep until an entry claimed ahead comes due; False if the clock still says it is early
        (never sent before its due instant: a retry before Slack's Retry-After has passed)."""
        early = (entry.next_attempt_at - self.ctx.clock.now()).total_seconds()
        if early <= 0:
            return True
        self.sleep(early)
        return entry.next_attempt_at <= self.ctx.clock.now()

    def _tracked(self, entry: OutboxEntry) -> PostedRef | None | Outcome:
        """The tracked post an update or thread reply needs: found, still on its way (wait), or
        never going out (an update is skipped; a thread reply goes to its fallback)."""
        key = entry.replaces_key or entry.thread_key
        if key is None:
            return None
        with self.ctx.sessions() as session:
            read_only(session)
            posted = select(PostedMessage).where(PostedMessage.key == key)
            row = session.scalar(posted)
            if row is None:
                on_its_way = session.scalar(
                    select(OutboxEntry.id)
                    .where(OutboxEntry.track_key == key, OutboxEntry.status.in_([PENDING, SENDING]))
                    .limit(1)
                )
                # The card may have landed between the two looks (its lane runs beside this one):
                # it is sent and remembered in one transaction, so look once more.
                row = None if on_its_way is not None else session.scalar(posted)
            if row is not None:
                return PostedRef(Where(row.channel, row.thread), row.message_id)
        if on_its_way is not None:
            return Deferred(self.ctx.clock.now() + timedelta(seconds=WAIT_FOR_TRACKED_SECONDS))
        if not entry.destination:
            return Skipped(f"{key} was never posted")
        return None  # to the fallback destination, as a new message

    def _renew(self, entry: OutboxEntry) -> bool:
        """Make sure the claim is still this dispatcher's right before the send; False when it
        is gone (its lease ran out while the lane worked through earlier entries, and another
        dispatcher took the entry): then that one sends it, not this one. While more than half
        the lease is left nobody else can have it, and the database is not asked."""
        now = self.ctx.clock.now()
        if entry.claimed_until is not None and entry.claimed_until - now > timedelta(seconds=self.lease_seconds / 2):
            return True
        until = now + timedelta(seconds=self.lease_seconds)
        with self.ctx.sessions.begin() as session:
            renewed = rows_changed(
                session,
                update(OutboxEntry)
                .where(
                    OutboxEntry.id == entry.id,
                    OutboxEntry.claimed_by == entry.claimed_by,
                    OutboxEntry.status == SENDING,
                )
                .values(claimed_until=until),
            )
        if renewed == 1:
            entry.claimed_until = until
        return renewed == 1

    def _send(
        self, entry: OutboxEntry, messenger: Messenger, reply: Reply, target: PostedRef | None, *, unsure: bool = False
    ) -> PostedRef:
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

    # -- settling -----------------------------------------------------------------------------

    def _settle(self, entry: OutboxEntry, outcome: Outcome) -> Outcome:
        """Write what the entry's attempt came to, with the other lanes' settles waiting at the
        same moment (:mod:`commands.outbox.settling`)."""
        return self._settles.settle(entry, outcome)

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        """Seconds until the next attempt: the platform's Retry-After when it named one (exactly,
        or with a little jitter when other replicas are at work, so they do not retry in step),
        else an exponential backoff."""
        if retry_after is not None:
            if not self._replicas.present(self.ctx.clock.now()):
                return retry_after
            return retry_after * (1 + RETRY_AFTER_JITTER * self.jitter())
        return min(BACKOFF_CAP_SECONDS, 2.0**attempts) * (0.75 + random.random() / 2)


@dataclass(frozen=True)
class _Keyed:
    """A sender's post and direct with what the sender can use: the entry's key (and, when
    unsure, since when to look for an earlier attempt) for senders that can find what they
    sent; the parts already delivered for senders that can resume a long message."""

    messenger: Messenger
    kwargs: dict[str, Any]

    def post(self, where: Where, reply: Reply) -> PostedRef:
        return self.messenger.post(where, reply, **self.kwargs)

    def direct(self, email: str, reply: Reply) -> PostedRef:
        return self.messenger.direct(email, reply, **self.kwargs)


def _keyed(messenger: Messenger, entry: OutboxEntry, *, unsure: bool) -> _Keyed:
    kwargs: dict[str, Any] = {}
    if getattr(messenger, "finds_earlier_attempts", False):
        kwargs.update(key=entry.key, unsure_since=entry.created_at if unsure else None)
    if getattr(messenger, "resumes_parts", False):
        kwargs.update(parts_sent=parts_from_row(entry.parts_sent))
    return _Keyed(messenger, kwargs)
