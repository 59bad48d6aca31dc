"""Run keys: one claim per (job, date) however many schedulers race for it; a failure before
anything was sent gives the run back, a failure after keeps it."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from commands.context import AppContext
from commands.messages import Reply, Where
from commands.outbox import Dispatcher
from scheduler.runs import claim, mark, run_claimed
from storage.db import make_session_factory
from storage.models import JobRun, OutboxEntry
from tests.support.scheduler_runs import Recorder, other_engine

DAY = date(2026, 11, 23)


def runs(sessions: sessionmaker[Session]) -> list[JobRun]:
    with sessions() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.id)))


def test_claim_once_per_job_and_date(ctx: AppContext) -> None:
    now = ctx.clock.now()
    assert claim(ctx.sessions, "daily_lists", DAY, now)
    assert not claim(ctx.sessions, "daily_lists", DAY, now)
    assert claim(ctx.sessions, "daily_lists", date(2026, 11, 24), now)
    assert claim(ctx.sessions, "finals_day", DAY, now)
    assert [(r.job, r.run_date, r.finished_at) for r in runs(ctx.sessions)] == [
        ("daily_lists", DAY, None),
        ("daily_lists", date(2026, 11, 24), None),
        ("finals_day", DAY, None),
    ]


def test_a_successful_run_commits_its_messages_and_its_key_together(ctx: AppContext) -> None:
    recorder = Recorder()

    def work(session: Session) -> tuple[list[Reply], dict[str, int], str]:
        return [Reply(title="hello", where=Where("collections"))], {"accounts": 3}, "ok"

    outcome = run_claimed(ctx, key="daily_lists", run_date=DAY, work=work)
    assert (outcome.status, outcome.queued, outcome.counts) == ("done", 1, {"accounts": 3})
    [row] = runs(ctx.sessions)
    assert row.finished_at == ctx.clock.now()
    assert row.result == {"status": "done", "queued": 1, "counts": {"accounts": 3}, "note": "ok"}
    assert run_claimed(ctx, key="daily_lists", run_date=DAY, work=work).status == "taken"
    Dispatcher(ctx, {"terminal": recorder}, workers=1, pacing={}).drain()
    assert [r.title for r in recorder.posts("collections")] == ["hello"]  # once, though run twice


def test_a_failing_job_leaves_nothing_behind_and_is_retried(ctx: AppContext) -> None:
    """What it changed, queued and claimed rolls back together: nothing half-posted to explain."""

    def broken(session: Session) -> tuple[list[Reply], dict[str, int], str]:
        session.add(JobRun(job="side-effect", run_date=DAY, started_at=ctx.clock.now(), result={}))
        session.flush()
        raise RuntimeError("database went away")

    outcome = run_claimed(ctx, key="daily_lists", run_date=DAY, work=broken)
    assert outcome.status == "retry" and "database went away" in outcome.note
    assert runs(ctx.sessions) == []
    with ctx.sessions() as session:
        assert session.scalars(select(OutboxEntry)).all() == []
    assert claim(ctx.sessions, "daily_lists", DAY, ctx.clock.now())


def test_a_preview_says_what_it_would_post_and_records_nothing(ctx: AppContext) -> None:
    def work(session: Session) -> tuple[list[Reply], dict[str, int], str]:
        return [Reply(title="Your call list", to_user="dana.reyes@example.com")], {"accounts": 1}, ""

    outcome = run_claimed(ctx, key="daily_lists", run_date=DAY, work=work, preview=True)
    assert outcome.status == "preview" and [r.title for r in outcome.replies] == ["Your call list"]
    assert runs(ctx.sessions) == []
    with ctx.sessions() as session:
        assert session.scalars(select(OutboxEntry)).all() == []


def test_a_missed_slot_is_recorded_once(ctx: AppContext) -> None:
    args = dict(key="daily_lists", run_date=DAY, now=ctx.clock.now(), status="missed", note="late")
    assert mark(ctx.sessions, **args)
    assert not mark(ctx.sessions, **args)
    [row] = runs(ctx.sessions)
    assert row.result == {"status": "missed", "sent": 0, "note": "late"}


@pytest.mark.parametrize("contenders", [2, 8])
def test_racing_claims_from_separate_engines_have_one_winner(ctx: AppContext, engine: Engine, contenders: int) -> None:
    engines = [other_engine(engine) for _ in range(contenders)]
    factories = [make_session_factory(e) for e in engines]
    start = threading.Barrier(contenders)
    wins: list[bool] = []

    def contend(sessions: sessionmaker[Session]) -> None:
        start.wait()
        wins.append(claim(sessions, "daily_lists", DAY, ctx.clock.now()))

    threads = [threading.Thread(target=contend, args=(f,)) for f in factories]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        for e in engines:
            e.dispose()
    assert sorted(wins) == [False] * (contenders - 1) + [True]
    assert len(runs(ctx.sessions)) == 1
