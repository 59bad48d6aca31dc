"""The scheduler: one APScheduler interval trigger that calls :func:`tick` every minute.

The decision of what to run lives in ``tick``, not in cron triggers: a tick asks ``ctx.clock``
for the time, works out which slots are due (``scheduler.due``) and runs each through its run
key (``scheduler.runs``). That is what makes the schedule testable with an injected clock, and
exactly-once across restarts, late starts and several schedulers sharing one database: APScheduler
only has to keep calling, and a missed or doubled call changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.messages import Reply
from scheduler.due import Slot, due_now
from scheduler.jobs import JOBS, Job
from scheduler.runs import RunOutcome, mark, run_claimed

log = logging.getLogger(__name__)

TICK_SECONDS = 60


def tick(ctx: AppContext, *, jobs: Sequence[Job] = JOBS, preview: bool = False) -> list[RunOutcome]:
    """Run every job slot that is due now and that no scheduler has run yet; record the daily
    slots whose catch-up window closed. Returns what this call did (slots another scheduler or
    an earlier tick already had are left out). A preview runs the due jobs, returns what they
    would say and leaves the database as it was."""
    now = ctx.clock.now()
    timers = ctx.team.workflow.timers
    by_name = {job.name: job for job in jobs}
    plan = due_now(
        now,
        tz=ctx.team.timezone,
        calendar=ctx.calendar,
        timers=timers,
        schedules=[(job.name, job.schedule) for job in jobs],
    )
    outcomes: list[RunOutcome] = []
    for slot in [] if preview else plan.missed:
        note = (
            f"not run by {slot.scheduled_at:%H:%M} + {timers.catch_up_hours:g} h (catch_up_hours); skipped for the day"
        )
        if mark(ctx.sessions, key=slot.key, run_date=slot.run_date, now=now, status="missed", note=note):
            log.warning("%s for %s: %s", slot.key, slot.run_date, note)
            outcomes.append(RunOutcome(slot.key, slot.run_date, "missed", note=note))
    for slot in plan.due:
        outcome = _run_slot(ctx, by_name[slot.job], slot, preview=preview)
        if outcome.status != "taken":
            outcomes.append(outcome)
    return outcomes


def _run_slot(ctx: AppContext, job: Job, slot: Slot, *, preview: bool) -> RunOutcome:
    def work(session: Session) -> tuple[tuple[Reply, ...], dict[str, int], str]:
        result = job.run(ctx, session)
        return result.replies, result.counts, result.note

    outcome = run_claimed(ctx, key=slot.key, run_date=slot.run_date, work=work, preview=preview)
    if outcome.status == "done":
        log.info("%s for %s done: %d message(s) queued, %s", slot.key, slot.run_date, outcome.queued, outcome.counts)
    return outcome


def build_scheduler(
    ctx: AppContext, *, background: bool, run: Callable[[AppContext], object] | None = None
) -> BaseScheduler:
    """A scheduler with one job: :func:`tick` every minute, first right at start (so a restart
    catches up at once), never two ticks at a time, missed ticks folded into one.

    ``background=True`` gives a BackgroundScheduler, ticking in its own thread (``arbot
    scheduler``). ``False`` gives an AsyncIOScheduler for a process built around an event loop
    (``arbot serve``): start it inside the running loop; each tick still runs in the loop's
    thread pool, because sessions and chat clients block."""
    scheduler: BaseScheduler = (
        BackgroundScheduler(timezone=ctx.team.timezone) if background else AsyncIOScheduler(timezone=ctx.team.timezone)
    )
    scheduler.add_job(
        run or tick,
        IntervalTrigger(seconds=TICK_SECONDS),
        args=(ctx,),
        id="arbot-tick",
        name="arbot scheduler tick",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=TICK_SECONDS,
        next_run_time=datetime.now(UTC),
    )
    return scheduler
