"""The scheduler as the team lives with it: the morning list arrives once at 08:00 on business
days, whatever happens to the scheduler (ticks every minute, a restart, a late start, two
instances on one database), and never stale past the catch-up window."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from bot.settings import EXAMPLE_TEAM_FILE
from commands.calendar import BusinessCalendar
from commands.clock import FixedClock
from commands.context import AppContext
from commands.messages import PostedRef, Reply, Where
from commands.team import load_team
from scheduler.jobs import JOBS
from scheduler.service import TICK_SECONDS, build_scheduler, tick
from storage.db import make_engine, make_session_factory
from storage.models import JobRun
from tests.support.portfolio import DANA, LEE, LIST_TITLE, SAM, seed_portfolio
from tests.support.scheduler_runs import Recorder, other_engine, tick_delivered

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = date(2026, 11, 23)
DAILY = [job for job in JOBS if job.name == "daily_lists"]
# The morning's jobs these tests are about; the suspension sequence's own run (half an hour before
# the lists) is tested with its flow (test_flow_suspension).
MORNING = [job for job in JOBS if job.name != "suspension_sequence"]


def chicago(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=CHICAGO)


def lists_sent(recorder: Recorder) -> list[tuple[str, str]]:
    """(who, title) of every morning list and summary the recorder saw."""
    return [(to, r.title) for kind, to, r in recorder.calls if r.title.startswith(("Your call list", "Call lists for"))]


@pytest.fixture
def team_ctx(ctx: AppContext) -> AppContext:
    seed_portfolio(ctx)
    return ctx


def test_posted_at_eight_not_at_seven_fifty_nine(team_ctx: AppContext, clock: FixedClock) -> None:
    recorder = Recorder()
    clock.at = chicago(MONDAY, 7, 59)
    assert tick_delivered(team_ctx, recorder, jobs=MORNING) == []
    assert recorder.calls == []
    clock.advance(minutes=1)
    outcome, tidy = tick_delivered(team_ctx, recorder, jobs=MORNING)
    assert (outcome.key, outcome.run_date, outcome.status, outcome.queued) == ("daily_lists", MONDAY, "done", 3)
    assert (tidy.key, tidy.status, tidy.queued) == ("housekeeping", "done", 0)
    assert sorted(lists_sent(recorder)) == [
        ("collections", "Call lists for Mon 23 Nov"),
        (DANA, LIST_TITLE),
        (SAM, LIST_TITLE),
    ]


@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2026, 11, 28), None),  # Saturday
        (date(2026, 11, 26), None),  # Thanksgiving
        (date(2026, 11, 27), "Your call list for Fri 27 Nov"),  # the Friday after is a work day
    ],
)
def test_weekends_and_holidays_are_skipped(
    team_ctx: AppContext, clock: FixedClock, day: date, expected: str | None
) -> None:
    recorder = Recorder()
    for hour in (8, 10, 13):  # the whole morning, and past the window
        clock.at = chicago(day, hour)
        tick_delivered(team_ctx, recorder, jobs=DAILY)
    titles = [r.title for r in recorder.directs(DANA)]
    assert titles == ([expected] if expected else [])


def test_ticks_every_minute_post_once(team_ctx: AppContext, clock: FixedClock) -> None:
    recorder = Recorder()
    clock.at = chicago(MONDAY, 8, 0)
    tick_delivered(team_ctx, recorder, jobs=MORNING)
    for _ in range(5):
        clock.advance(minutes=1)
        assert tick_delivered(team_ctx, recorder, jobs=DAILY) == []
    assert len(recorder.directs(DANA)) == 1
    assert len(recorder.posts("collections")) == 1


def restarted(ctx: AppContext, engine: Engine, at: datetime) -> tuple[AppContext, Engine]:
    """A fresh process on the same database: new engine, new sessions, its own clock."""
    fresh = other_engine(engine)
    return replace(ctx, sessions=make_session_factory(fresh), clock=FixedClock(at)), fresh


def test_a_restart_after_posting_time_posts_nothing_more(
    team_ctx: AppContext, engine: Engine, clock: FixedClock
) -> None:
    first = Recorder()
    clock.at = chicago(MONDAY, 8, 0)
    tick_delivered(team_ctx, first, jobs=MORNING)
    second = Recorder()
    again, fresh = restarted(team_ctx, engine, chicago(MONDAY, 10, 30))
    try:
        outcomes = tick_delivered(again, second, jobs=MORNING)
    finally:
        fresh.dispose()
    assert "daily_lists" not in [o.key for o in outcomes]
    assert lists_sent(second) == []
    assert len(lists_sent(first)) == 3


def test_a_late_start_inside_the_window_posts_once(team_ctx: AppContext, clock: FixedClock) -> None:
    recorder = Recorder()
    clock.at = chicago(MONDAY, 11, 0)
    assert [o.status for o in tick_delivered(team_ctx, recorder, jobs=DAILY)] == ["done"]
    clock.advance(minutes=1)
    assert tick_delivered(team_ctx, recorder, jobs=DAILY) == []
    assert [t for to, t in lists_sent(recorder) if to == DANA] == [LIST_TITLE]


def test_a_start_after_the_window_skips_the_day(
    team_ctx: AppContext, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    clock.at = chicago(MONDAY, 13, 0)
    with caplog.at_level(logging.WARNING, logger="scheduler"):
        [outcome] = tick_delivered(team_ctx, recorder, jobs=DAILY)
        clock.advance(minutes=1)
        assert tick_delivered(team_ctx, recorder, jobs=DAILY) == []
    assert (outcome.key, outcome.status) == ("daily_lists", "missed")
    assert recorder.calls == []
    assert [r.getMessage() for r in caplog.records if "daily_lists" in r.getMessage()] == [
        "daily_lists for 2026-11-23: not run by 08:00 + 4 h (catch_up_hours); skipped for the day"
    ]
    with team_ctx.sessions() as session:
        assert session.scalars(select(JobRun.result)).one()["status"] == "missed"


def test_two_schedulers_on_one_database_post_once(team_ctx: AppContext, engine: Engine, clock: FixedClock) -> None:
    clock.at = chicago(MONDAY, 8, 0)
    instances = [restarted(team_ctx, engine, clock.at) for _ in range(2)]
    recorders = [Recorder(), Recorder()]
    start = threading.Barrier(2)

    def run(i: int) -> None:
        start.wait()
        tick(instances[i][0], jobs=MORNING)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        for _, fresh in instances:
            fresh.dispose()
    tick_delivered(team_ctx, recorders[0], jobs=MORNING)  # what the two queued, delivered
    assert sorted(lists_sent(recorders[0])) == [
        ("collections", "Call lists for Mon 23 Nov"),
        (DANA, LIST_TITLE),
        (SAM, LIST_TITLE),
    ]


def _tick_in_process(
    url: str, at: str, start: multiprocessing.synchronize.Barrier, results: multiprocessing.Queue
) -> None:
    """A whole scheduler process: its own engine, team and clock; reports what it sent."""
    engine = make_engine(url)
    team = load_team(EXAMPLE_TEAM_FILE)
    ctx = AppContext(
        sessions=make_session_factory(engine),
        team=team,
        calendar=BusinessCalendar(team.country),
        clock=FixedClock(datetime.fromisoformat(at)),
    )
    start.wait()
    outcomes = tick(ctx, jobs=MORNING)
    engine.dispose()
    results.put([(o.key, o.status) for o in outcomes])


def test_two_scheduler_processes_post_once(team_ctx: AppContext, engine: Engine) -> None:
    mp = multiprocessing.get_context("spawn")
    start, results = mp.Barrier(2), mp.Queue()
    url = engine.url.render_as_string(hide_password=False)
    procs = [
        mp.Process(target=_tick_in_process, args=(url, chicago(MONDAY, 8, 0).isoformat(), start, results))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    done = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert sorted(done[0] + done[1]) == [("daily_lists", "done"), ("housekeeping", "done")]
    recorder = Recorder()
    tick_delivered(team_ctx, recorder, jobs=MORNING)  # what the two processes queued, delivered once
    assert sorted(lists_sent(recorder)) == [
        ("collections", "Call lists for Mon 23 Nov"),
        (DANA, LIST_TITLE),
        (SAM, LIST_TITLE),
    ]


class SignallingRecorder(Recorder):
    """Calls ``on_post`` after each channel post and notes which thread posted."""

    def __init__(self, on_post: Callable[[], object]) -> None:
        super().__init__()
        self.on_post = on_post
        self.posting_threads: list[threading.Thread] = []

    def post(self, where: Where, reply: Reply) -> PostedRef:
        ref = super().post(where, reply)
        self.posting_threads.append(threading.current_thread())
        self.on_post()
        return ref


def test_the_background_scheduler_ticks_at_start(team_ctx: AppContext, clock: FixedClock) -> None:
    clock.at = chicago(MONDAY, 8, 0)
    posted = threading.Event()
    recorder = SignallingRecorder(posted.set)
    scheduler = build_scheduler(team_ctx, background=True, run=lambda c: tick_delivered(c, recorder, jobs=MORNING))
    [job] = scheduler.get_jobs()
    assert job.trigger.interval.total_seconds() == TICK_SECONDS
    assert (job.coalesce, job.max_instances) == (True, 1)
    scheduler.start()
    try:
        assert posted.wait(timeout=30), "the first tick runs as the scheduler starts"
    finally:
        scheduler.shutdown(wait=True)
    assert len(recorder.directs(DANA)) == 1
    assert recorder.directs(LEE) == []


def test_the_asyncio_scheduler_ticks_off_the_event_loop(team_ctx: AppContext, clock: FixedClock) -> None:
    clock.at = chicago(MONDAY, 8, 0)

    async def serve() -> SignallingRecorder:
        loop = asyncio.get_running_loop()
        posted = asyncio.Event()
        recorder = SignallingRecorder(lambda: loop.call_soon_threadsafe(posted.set))
        scheduler = build_scheduler(team_ctx, background=False, run=lambda c: tick_delivered(c, recorder, jobs=MORNING))
        scheduler.start()
        try:
            await asyncio.wait_for(posted.wait(), timeout=30)
        finally:
            scheduler.shutdown(wait=False)
        return recorder

    recorder = asyncio.run(serve())
    assert len(recorder.posts("collections")) == 1
    assert threading.main_thread() not in recorder.posting_threads, "sessions block: never on the loop"
