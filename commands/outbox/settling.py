"""Writing what each send came to on its outbox row, for the lanes of a round together.

A round's lanes send side by side and then each settles its entry: a write. On SQLite writers
take turns (one process's writers queue on its writer lock), so twenty lanes that sent at once
used to queue twenty transactions, each a BEGIN, one UPDATE and a COMMIT, and a lane's worker
thread sat in that queue instead of sending the next lane's entry. Here the settles that queue
up while one transaction is being written go together in the next one (group commit): the first
lane to get the turn writes every outcome waiting at that moment, and those that arrive while it
writes are written by the next. Each outcome is still its own guarded UPDATE (the claim must
still be this dispatcher's), so a claim taken over is left alone as before.

The window between a send and its settle, in which a crash leaves a sent entry looking unsent
(a Teams message is then sent again: Teams cannot be asked what the bot posted), is no wider: an
outcome is written in the transaction that starts next, where before it waited its turn behind
every settle queued ahead of it. If a batch's transaction fails, each of its outcomes is written
in a transaction of its own, so one entry's problem does not undo the others' settles."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, defer

from commands.context import AppContext
from commands.outbox.outcomes import Outcome, Settler, TakenOver
from storage.models import OutboxEntry
from storage.models.outbox import SENDING
from storage.row_counts import rows_changed

log = logging.getLogger(__name__)


@dataclass
class _Waiting:
    entry: OutboxEntry
    outcome: Outcome
    written: Outcome | None = None
    error: BaseException | None = None


@dataclass
class GroupSettle:
    """Settles from many lanes, written in as few transactions as their arrival allows."""

    ctx: AppContext
    settler: Settler
    _queue: list[_Waiting] = field(default_factory=list)
    _queue_lock: threading.Lock = field(default_factory=threading.Lock)
    _turn: threading.Lock = field(default_factory=threading.Lock)  # one batch written at a time

    def settle(self, entry: OutboxEntry, outcome: Outcome) -> Outcome:
        """Write ``outcome`` on ``entry``'s row (if the claim is still ours) and return what was
        written: ``outcome``, or :class:`TakenOver`."""
        waiting = _Waiting(entry, outcome)
        with self._queue_lock:
            self._queue.append(waiting)
        with self._turn:
            if waiting.written is None and waiting.error is None:  # no earlier batch took it
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._write(batch)
        if waiting.error is not None:
            raise waiting.error
        assert waiting.written is not None
        return waiting.written

    def _write(self, batch: list[_Waiting]) -> None:
        try:
            with self.ctx.sessions.begin() as session:
                written = [settle_one(session, w.entry, w.outcome, self.ctx.clock.now(), self.settler) for w in batch]
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                return
            log.warning("settling %d outbox entries together failed; settling each alone", len(batch), exc_info=True)
            for waiting in batch:
                self._write([waiting])
            return
        for waiting, outcome in zip(batch, written, strict=True):
            waiting.written = outcome


def settle_one(session: Session, entry: OutboxEntry, outcome: Outcome, now: datetime, settler: Settler) -> Outcome:
    """Write ``outcome`` on the entry's row in ``session``, if the claim is still this
    dispatcher's: one guarded UPDATE when the outcome needs nothing of the row
    (:meth:`Outcome.values`), else the row read and locked first."""
    values = outcome.values(entry, now, settler)
    if values is None:
        return _settle_row(session, entry, outcome, now, settler)
    ours = rows_changed(
        session,
        update(OutboxEntry)
        .where(OutboxEntry.id == entry.id, OutboxEntry.claimed_by == entry.claimed_by, OutboxEntry.status == SENDING)
        .values(claimed_until=None, **values),  # the token stays: who worked it last (commands.outbox.replicas)
    )
    if ours != 1:
        return taken_over(entry)
    outcome.settled(session, entry, now)
    return outcome


def _settle_row(session: Session, entry: OutboxEntry, outcome: Outcome, now: datetime, settler: Settler) -> Outcome:
    row = session.get(OutboxEntry, entry.id, with_for_update=True, options=[defer(OutboxEntry.payload)])
    if row is None or row.claimed_by != entry.claimed_by or row.status != SENDING:
        return taken_over(entry)
    row.claimed_until = None
    outcome.apply(session, row, now, settler)
    return outcome


def taken_over(entry: OutboxEntry) -> Outcome:
    log.warning("outbox entry %s was taken over by another dispatcher after its lease ran out", entry.id)
    return TakenOver()
