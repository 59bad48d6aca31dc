"""Two replicas work one outbox at the same time (PostgreSQL, where replicas really share it):
each on its own engine and connections, in its own thread. Every entry is in Slack once.

The second test makes one replica's lane outlast its lease (a long paced run into one
channel while the clock runs fast), so the other takes the rest over mid-lane: the first must
let go of what it no longer holds instead of sending it too."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from commands.context import AppContext
from commands.outbox import Dispatcher, RoundReport
from storage.db import make_engine, make_session_factory
from storage.models import OutboxEntry
from storage.models.outbox import PENDING, SENDING
from tests.support.outbox import SlackOutbox, direct, exactly_once, post

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="replicas share PostgreSQL")

MEMBERS = ["dana.reyes@example.com", "sam.okafor@example.com", "priya.shah@example.com", "tom.becker@example.com"]
CHANNELS = ["finance", "approvals", "collections", "sales"]


@pytest.fixture
def slack(ctx: AppContext, engine: Engine) -> Iterator[SlackOutbox]:
    if engine.dialect.name != "postgresql":
        pytest.skip("replicas share PostgreSQL")
    world = SlackOutbox(ctx)
    try:
        yield world
    finally:
        world.close()


def replica(slack: SlackOutbox, engine: Engine, **options: object) -> tuple[Dispatcher, Engine]:
    """A dispatcher as another ``arbot serve`` would run it: its own engine and Slack client."""
    own = make_engine(engine.url.render_as_string(hide_password=False))
    ctx = dataclasses.replace(slack.ctx, sessions=make_session_factory(own))
    return Dispatcher(ctx, {"slack": slack.messenger()}, **{"pacing": {}, **options}), own  # type: ignore[arg-type]


def outstanding(slack: SlackOutbox) -> int:
    with slack.ctx.sessions() as session:
        return (
            session.scalar(
                select(func.count()).select_from(OutboxEntry).where(OutboxEntry.status.in_([PENDING, SENDING]))
            )
            or 0
        )


def work(
    dispatcher: Dispatcher, slack: SlackOutbox, totals: RoundReport, errors: list[BaseException], *, until: float
) -> None:
    """Rounds until nothing is outstanding (or the deadline), adding up what this replica did.
    A round that settles nothing moves the test clock on a second, as time would move: on a loaded
    machine a send can time out, and its retry must come due."""
    try:
        while outstanding(slack) and time.monotonic() < until:
            report = dispatcher.run_once()
            for name in ("sent", "retried", "failed", "taken_over"):
                setattr(totals, name, getattr(totals, name) + getattr(report, name))
            if report.settled == 0:
                slack.ctx.clock.advance(seconds=1)  # type: ignore[attr-defined]
                time.sleep(0.01)
    except BaseException as exc:  # noqa: BLE001 - reported by the test thread
        errors.append(exc)


def run_both(slack: SlackOutbox, dispatchers: list[Dispatcher]) -> list[RoundReport]:
    totals, errors = [RoundReport() for _ in dispatchers], []  # type: ignore[var-annotated]
    until = time.monotonic() + 30
    threads = [
        threading.Thread(target=work, args=(d, slack, t, errors), kwargs={"until": until})
        for d, t in zip(dispatchers, totals, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(40)
    assert not errors, errors
    return totals


def test_two_replicas_deliver_every_entry_exactly_once(slack: SlackOutbox, engine: Engine) -> None:
    replies = [direct(email, f"Note {n}") for n in range(6) for email in MEMBERS]
    replies += [post(channel, f"Post {n}") for n in range(6) for channel in CHANNELS]
    slack.queue(replies, origin="busy-morning")
    (first, e1), (second, e2) = replica(slack, engine, batch=5), replica(slack, engine, batch=5)
    try:
        totals = run_both(slack, [first, second])
    finally:
        e1.dispose()
        e2.dispose()
    assert outstanding(slack) == 0
    assert sum(t.sent for t in totals) == len(replies)
    assert all(t.sent > 0 for t in totals), "both replicas took part"
    assert exactly_once(slack.ctx, slack.fake) == []


def test_a_lane_that_outlasts_its_lease_lets_go_of_what_the_other_replica_took(
    slack: SlackOutbox, engine: Engine
) -> None:
    keys = slack.queue([post("collections", f"Line {n}") for n in range(12)], origin="long-lane")
    slow, e1 = replica(slack, engine, lease_seconds=2, pacing={"slack": 0.15})
    fast, e2 = replica(slack, engine, lease_seconds=2)
    stop = threading.Event()

    def clock_runs_fast() -> None:  # one test-clock second every 0.1 s
        while not stop.is_set():
            slack.ctx.clock.advance(seconds=1)  # type: ignore[attr-defined]
            time.sleep(0.1)

    ticker = threading.Thread(target=clock_runs_fast)
    try:
        slow_report = RoundReport()
        first_round = threading.Thread(target=lambda: _add(slow_report, slow.run_once()))
        first_round.start()
        time.sleep(0.05)  # the slow replica has claimed the whole lane
        ticker.start()
        [fast_totals] = run_both(slack, [fast])
        first_round.join(30)
    finally:
        stop.set()
        if ticker.is_alive():
            ticker.join(5)
        e1.dispose()
        e2.dispose()
    assert exactly_once(slack.ctx, slack.fake) == []
    assert slow_report.taken_over > 0 and fast_totals.sent > 0, "the takeover happened mid-lane"
    assert slow_report.sent + fast_totals.sent == len(keys)


def _add(total: RoundReport, report: RoundReport) -> None:
    for name in ("sent", "retried", "failed", "taken_over"):
        setattr(total, name, getattr(total, name) + getattr(report, name))
