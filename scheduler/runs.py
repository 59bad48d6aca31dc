"""Run keys: the ``job_runs`` row that makes a scheduled job happen once per (job, date).

The guarantee is *at most once after a successful claim*, with a retry when nothing went out:

1. :func:`claim` inserts the row in its own, committed transaction. The unique key (job,
   run_date) lets exactly one scheduler win, whether the others are a second instance on the same
   database, a restarted process or a late start catching up.
2. The winner runs the job through a :class:`CountingMessenger`.
3. On success, :func:`finish` stores the finish time and the job's counts on the row.
4. If the job raises before it sent anything, :func:`release` deletes the row, so the next tick
   (every minute, while the catch-up window is open) tries again: a database hiccup or a broken
   query does not cost the team its morning list.
5. If it raises after sending something, the row is kept and marked failed. Retrying would post
   the first messages twice, and a duplicated call list confuses more than a partial one; the
   error is logged for a person to look at.

A process killed between claim and finish leaves a row without ``finished_at``. Whether it
posted cannot be known, so that slot is not retried: the row is the evidence to look at.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from commands.messages import Messenger, PostedRef, Reply, Where
from storage.models import JobRun

log = logging.getLogger(__name__)


def claim(session_factory: sessionmaker[Session], job: str, run_date: date, now: datetime) -> bool:
    """Take the run (job, run_date) for this process. False when another scheduler, or an
    earlier run of this one, already has it."""
    try:
        with session_factory.begin() as session:
            # Looking first keeps the common "already done" case free of failed INSERTs, which
            # PostgreSQL would log as errors on every tick; the unique key still settles races.
            if session.scalar(_existing(job, run_date)) is not None:
                return False
            session.add(JobRun(job=job, run_date=run_date, started_at=now, result={}))
    except IntegrityError:
        return False
    return True


def finish(session_factory: sessionmaker[Session], job: str, run_date: date, now: datetime,
           result: dict[str, Any]) -> None:
    """Record that the claimed run ended, and what it did."""
    with session_factory.begin() as session:
        run = session.scalars(select(JobRun).where(JobRun.job == job, JobRun.run_date == run_date)).one()
        run.finished_at, run.result = now, result


def release(session_factory: sessionmaker[Session], job: str, run_date: date) -> None:
    """Give the run back (it failed before sending anything), so a later tick retries it."""
    with session_factory.begin() as session:
        session.execute(delete(JobRun).where(JobRun.job == job, JobRun.run_date == run_date))


def _existing(job: str, run_date: date) -> Any:
    return select(JobRun.id).where(JobRun.job == job, JobRun.run_date == run_date)


@dataclass
class CountingMessenger:
    """Wraps the real Messenger to count what actually went out, which decides whether a failed
    run may be retried."""

    inner: Messenger
    sent: int = 0

    def post(self, where: Where, reply: Reply) -> PostedRef:
        ref = self.inner.post(where, reply)
        self.sent += 1
        return ref

    def update(self, ref: PostedRef, reply: Reply) -> None:
        self.inner.update(ref, reply)
        self.sent += 1

    def direct(self, email: str, reply: Reply) -> PostedRef:
        ref = self.inner.direct(email, reply)
        self.sent += 1
        return ref


@dataclass(frozen=True)
class RunOutcome:
    """What happened to one slot on one tick."""

    key: str
    run_date: date
    status: str  # "done" | "failed" | "retry" | "taken" | "missed"
    sent: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    note: str = ""


def run_claimed(session_factory: sessionmaker[Session], *, key: str, run_date: date,
                now: Callable[[], datetime], messenger: Messenger,
                work: Callable[[Messenger], tuple[dict[str, int], str]]) -> RunOutcome:
    """Claim (key, run_date), run ``work`` with a counting messenger, then finish or release.
    ``work`` returns the job's counts and a note; its exceptions are logged, not raised, so one
    failing job does not stop the others on the same tick."""
    if not claim(session_factory, key, run_date, now()):
        return RunOutcome(key, run_date, "taken")
    counting = CountingMessenger(messenger)
    try:
        counts, note = work(counting)
    except Exception as exc:  # any failure of the job must end in finish or release
        return _failed(session_factory, key, run_date, now(), counting.sent, exc)
    finish(session_factory, key, run_date, now(),
           {"status": "done", "sent": counting.sent, "counts": counts, "note": note})
    return RunOutcome(key, run_date, "done", counting.sent, counts, note)


def _failed(session_factory: sessionmaker[Session], key: str, run_date: date, now: datetime,
            sent: int, exc: Exception) -> RunOutcome:
    error = f"{type(exc).__name__}: {exc}"
    if sent == 0:
        log.exception("job %s for %s failed before sending anything; it will be retried", key, run_date)
        release(session_factory, key, run_date)
        return RunOutcome(key, run_date, "retry", note=error)
    log.exception("job %s for %s failed after sending %d message(s); not retried", key, run_date, sent)
    finish(session_factory, key, run_date, now, {"status": "failed", "sent": sent, "error": error})
    return RunOutcome(key, run_date, "failed", sent, note=error)


def mark(session_factory: sessionmaker[Session], *, key: str, run_date: date, now: datetime,
         status: str, note: str) -> bool:
    """Record a slot that was not run ("missed": its catch-up window closed), once across all
    schedulers: the log says it once and the table shows the gap. False if the slot was already
    recorded or ran."""
    if not claim(session_factory, key, run_date, now):
        return False
    finish(session_factory, key, run_date, now, {"status": status, "sent": 0, "note": note})
    return True
