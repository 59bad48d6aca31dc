"""Run keys: the ``job_runs`` row that makes a scheduled job happen once per (job, date).

A run is one transaction: the job's ledger changes, its messages (into the outbox) and the run's
row commit together. The unique key (job, run_date) lets exactly one scheduler win, whether the
others are a second instance on the same database, a restarted process or a late start catching
up: the loser's insert fails, its transaction rolls back, and nothing it prepared is queued.
A job that raises commits nothing, so the next tick (every minute, while the catch-up window is
open) tries again; a process killed mid-run leaves nothing behind and the slot is retried too.
Delivering the queued messages is the outbox's business: one person the platform cannot reach no
longer costs the others their morning list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from commands.context import AppContext
from commands.messages import Reply
from commands.outbox.entries import enqueue
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


def finish(
    session_factory: sessionmaker[Session], job: str, run_date: date, now: datetime, result: dict[str, Any]
) -> None:
    """Record that the claimed run ended, and what it did."""
    with session_factory.begin() as session:
        run = session.scalars(select(JobRun).where(JobRun.job == job, JobRun.run_date == run_date)).one()
        run.finished_at, run.result = now, result


def _existing(job: str, run_date: date) -> Any:
    return select(JobRun.id).where(JobRun.job == job, JobRun.run_date == run_date)


@dataclass(frozen=True)
class RunOutcome:
    """What happened to one slot on one tick. A preview carries the replies it would have queued."""

    key: str
    run_date: date
    status: str  # "done" | "retry" | "taken" | "missed" | "preview"
    queued: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    note: str = ""
    replies: tuple[Reply, ...] = ()


Work = Callable[[Session], tuple[Sequence[Reply], dict[str, int], str]]


def run_claimed(ctx: AppContext, *, key: str, run_date: date, work: Work, preview: bool = False) -> RunOutcome:
    """Run ``work`` and commit its changes, its messages and the run key together; or, for a
    preview, roll everything back and return what it would have said. ``work``'s exceptions are
    logged, not raised, so one failing job does not stop the others on the same tick."""
    if not preview and _done_before(ctx.sessions, key, run_date):
        return RunOutcome(key, run_date, "taken")
    try:
        with ctx.sessions() as session:
            replies, counts, note = work(session)
            if preview:
                session.rollback()
                return RunOutcome(key, run_date, "preview", len(replies), counts, note, tuple(replies))
            now = ctx.clock.now()
            session.add(
                JobRun(
                    job=key,
                    run_date=run_date,
                    started_at=now,
                    finished_at=now,
                    result={"status": "done", "queued": len(replies), "counts": counts, "note": note},
                )
            )
            try:
                session.flush()
            except IntegrityError:
                return RunOutcome(key, run_date, "taken")
            entries = enqueue(session, ctx, replies, origin=f"job:{key}:{run_date.isoformat()}")
            session.commit()
    except IntegrityError:
        return RunOutcome(key, run_date, "taken")
    except Exception as exc:  # any failure of the job leaves nothing behind; the next tick retries
        log.exception("job %s for %s failed; nothing was queued, it will be retried", key, run_date)
        return RunOutcome(key, run_date, "retry", note=f"{type(exc).__name__}: {exc}")
    if entries:
        ctx.on_enqueued()
    return RunOutcome(key, run_date, "done", len(entries), counts, note)


def _done_before(session_factory: sessionmaker[Session], key: str, run_date: date) -> bool:
    """Looking first keeps the common "already done" case free of failed INSERTs (PostgreSQL
    logs each as an error) and of write transactions; the unique key still settles races."""
    with session_factory() as session:
        return session.scalar(_existing(key, run_date)) is not None


def mark(
    session_factory: sessionmaker[Session], *, key: str, run_date: date, now: datetime, status: str, note: str
) -> bool:
    """Record a slot that was not run ("missed": its catch-up window closed), once across all
    schedulers: the log says it once and the table shows the gap. False if the slot was already
    recorded or ran."""
    if not claim(session_factory, key, run_date, now):
        return False
    finish(session_factory, key, run_date, now, {"status": status, "sent": 0, "note": note})
    return True
