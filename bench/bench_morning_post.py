"""The morning post: how long from the daily call-list job starting to the last list landing in
Slack, when Slack enforces one message a second per channel.

A team of 20 collectors on SQLite. The server is the one ``arbot serve`` builds
(``build_web_app``: Slack over HTTP, the outbox's :class:`DeliveryService` with the real
:class:`Dispatcher` and :class:`SlackMessenger`), and the scheduler is started the way ``serve``
starts it (an AsyncIOScheduler whose first tick runs at once), on a clock set to 08:00:30 on a
Monday in Chicago that then moves with real time, so backoffs come due as they would.

The morning is not the team's first: the collectors are known from earlier mornings (their Slack
ids and direct-message channels are in the database, as a server restarted overnight finds
them) and the past-due accounts entered the suspension sequence on the business day before.
``--first-morning`` starts with nobody known, so each direct message first costs
``users.lookupByEmail`` and ``conversations.open``, and the job first puts every account in the
suspension sequence.

Slack is the fake Web API the tests use, in a process of its own (bench.fake_slack, so answering
does not compete with the server for the GIL), made stricter: ``chat.postMessage`` to a channel less
than a second after the last one it accepted there is answered 429 with ``Retry-After``, and a
seeded share of posts is answered 429 anyway (Slack's other limits, which a bot cannot predict).

Reported: the total (job start to the last accepted post), the pacing floor (per channel
``(n - 1)`` seconds, the most over channels; each direct message is its own channel), the floor
the fake's rules allow once its 429s are counted (the job's own time, plus per channel the pacing
and one ``Retry-After`` per 429 it answered there), the ratio of the total to that floor, the
429s seen, the duplicates (a message accepted more than once for one outbox key; must be 0), and
where the time went: the job, the wait for the first round, and for each retried message its
backoff and how long after its 429 the channel was tried again.

    python -m bench.bench_morning_post [--runs 3] [--collectors 20] [--accounts 40] [--random-429 0.1]
                                       [--first-morning] [--channel-news N] [--round-cpu]

``--round-cpu`` measures instead what one dispatcher round costs this process: the morning's
entries queued by the job, then one round (:meth:`Dispatcher.run_once`, the server's lanes and
settles, the real Slack messenger) delivering them to the fake without refusals; its CPU time
(``time.process_time``: the fake runs in its own process) and wall time, per round and per
entry. CPU is what a loaded machine cannot hide: the first round's wall time is that CPU
stretched by the load.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bench.fake_slack import fake_slack_process
from bench.morning_figures import Morning, Round, figures, report, summary
from bench.morning_world import (
    PER_CHANNEL_SECONDS,
    RETRY_AFTER,
    SECRET,
    MorningClock,
    bench_team,
    collector_emails,
    earlier_mornings,
    known_team,
    seed,
    slack_users,
    strict_slack,
    what_the_fake_saw,
)
from bot.server import DELIVERY, ServerSettings, build_web_app, tuned
from bot.slack.settings import SlackSettings
from commands.calendar import BusinessCalendar
from commands.context import AppContext
from commands.outbox import Dispatcher, RoundReport
from commands.team import Team
from storage.db import make_engine, make_session_factory
from storage.models import OutboxEntry
from storage.models.outbox import PENDING, SENDING

# -- watching the dispatcher --------------------------------------------------------------------


@dataclass
class Watch:
    rounds: list[Round] = field(default_factory=list)
    backoffs: list[float] = field(default_factory=list)  # seconds asked after each transient failure


def watch(dispatcher: Dispatcher) -> Watch:
    """Record each round the server's dispatcher runs (its start, end, claim size and outcome)
    and each backoff it picks, by wrapping the instance's public methods; its code is unchanged."""
    seen = Watch()
    rounds = seen.rounds
    run_once, backoff = dispatcher.run_once, dispatcher.backoff

    def noted_backoff(attempts: int, retry_after: float | None) -> float:
        wait = backoff(attempts, retry_after)
        seen.backoffs.append(wait)
        return wait

    def timed_round(**options: Any) -> RoundReport:
        started = time.monotonic()
        report = run_once(**options)
        rounds.append(Round(started, time.monotonic(), report.settled, report))
        return report

    dispatcher.run_once = timed_round  # type: ignore[method-assign]
    dispatcher.backoff = noted_backoff  # type: ignore[method-assign]
    return seen


# -- one morning --------------------------------------------------------------------------------


def queue_channel_news(ctx: AppContext, count: int) -> None:
    """``count`` posts for the collections channel, queued just before the morning job (other
    news that morning: holds, escalations), so one channel's pacing is exercised too."""
    from commands.messages import Reply, Where
    from commands.outbox.entries import enqueue

    channel = ctx.team.workflow.channels.collections
    with ctx.sessions.begin() as session:
        enqueue(
            session,
            ctx,
            [Reply(title=f"Morning news {n + 1} of {count}", where=Where(channel)) for n in range(count)],
            origin="bench:news",
        )


async def morning(
    url: str, team: Team, users: dict[str, str], random_429: float, news: int = 0, *, first: bool = False
) -> Morning:
    """Serve, let the scheduler's first tick post the morning, wait until the outbox is empty.
    Unless it is the team's ``first`` morning, the collectors' direct messages were opened on
    an earlier one (:func:`known_team`)."""
    from scheduler.service import build_scheduler, tick

    clock = MorningClock()
    ctx = AppContext(
        sessions=make_session_factory(make_engine(url)), team=team, calendar=BusinessCalendar(team.country), clock=clock
    )
    with fake_slack_process(partial(strict_slack, users, random_429, clock.start, clock.origin)) as fake:
        if not first:
            await asyncio.to_thread(known_team, ctx, fake.api_url, list(users.values()))
        app = tuned(  # the worker pool, collector and switch interval `arbot serve` runs with
            build_web_app(
                ctx,
                ServerSettings(
                    slack=SlackSettings(bot_token="xoxb-bench", signing_secret=SECRET, api_url=fake.api_url)
                ),
            )
        )
        seen = watch(app[DELIVERY].dispatcher)
        job: dict[str, Any] = {}

        def timed_tick(c: AppContext) -> None:
            job["started"] = time.monotonic()
            if news:
                queue_channel_news(c, news)
            job["outcomes"] = {o.key: o.status for o in tick(c)}
            job["ended"] = time.monotonic()

        async def scheduler(_app: web.Application) -> AsyncIterator[None]:  # as bot.server.with_scheduler
            running = build_scheduler(ctx, background=False, run=timed_tick)
            running.start()
            yield
            running.shutdown(wait=False)

        app.cleanup_ctx.append(scheduler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            await asyncio.to_thread(_wait_until_delivered, ctx, job)
        finally:
            await runner.cleanup()
        calls, refusals = fake.ask(what_the_fake_saw)
    with ctx.sessions() as session:
        entries = list(session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))
    ctx.sessions.kw["bind"].dispose()
    accepted = [c.at for c in calls if c.method == "chat.postMessage" and c.status == 200]
    return Morning(
        job["started"],
        job["ended"],
        max(accepted),
        seen.rounds,
        seen.backoffs,
        [c for c in calls if c.at >= job["started"]],
        refusals,
        entries,
        job["outcomes"],
        clock,
    )


def _wait_until_delivered(ctx: AppContext, job: dict[str, Any], timeout: float = 180) -> None:
    """Poll the database until the job ran and nothing is pending or being sent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "ended" in job:
            with ctx.sessions() as session:
                left = session.scalar(select(OutboxEntry.id).where(OutboxEntry.status.in_([PENDING, SENDING])).limit(1))
            if left is None:
                return
        time.sleep(0.02)
    raise TimeoutError("the morning was not delivered in time")


# -- one round's CPU ------------------------------------------------------------------------------


def round_cost(url: str, team: Team, users: dict[str, str]) -> tuple[float, float, int]:
    """The morning's job queued, then one dispatcher round delivering it, in this process:
    (CPU seconds, wall seconds, entries sent)."""
    from bot.slack.identity import SlackIdentity
    from bot.slack.messenger import SlackMessenger, web_client
    from scheduler.jobs import daily_lists
    from scheduler.runs import run_claimed

    clock = MorningClock()
    ctx = AppContext(
        sessions=make_session_factory(make_engine(url)),
        team=team,
        calendar=BusinessCalendar(team.country),
        clock=clock,
        platforms=("slack",),
    )
    with fake_slack_process(partial(strict_slack, users, 0.0, clock.start, clock.origin)) as fake:
        known_team(ctx, fake.api_url, list(users.values()))

        def job(session: Any) -> tuple[Any, dict[str, int], str]:
            return daily_lists(ctx, session).replies, {}, ""

        run_claimed(ctx, key="daily_lists", run_date=ctx.today(), work=job)
        settings = SlackSettings(bot_token="xoxb-bench", signing_secret=SECRET, api_url=fake.api_url)
        client = web_client(settings, outbox=True)
        dispatcher = Dispatcher(ctx, {"slack": SlackMessenger(client, SlackIdentity(client, ctx))})
        cpu, wall = time.process_time(), time.perf_counter()
        sent = dispatcher.run_once().sent
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    ctx.sessions.kw["bind"].dispose()
    return cpu, wall, sent


def round_cpu(args: argparse.Namespace, team: Team, emails: list[str], users: dict[str, str]) -> None:
    """``--round-cpu``: :func:`round_cost` on a fresh database per run, and the medians."""
    costs = []
    for n in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench_morning.db'}"
            seed(url, team, emails, args.accounts)
            earlier_mornings(url, team)
            cpu, wall, sent = round_cost(url, team, users)
        print(
            f"  run {n}: one round sent {sent}: CPU {cpu * 1000:.0f} ms "
            f"({cpu / sent * 1000:.2f} ms per entry), wall {wall * 1000:.0f} ms",
            flush=True,
        )
        costs.append((cpu / sent, wall))
    per_entry, walls = [c for c, _ in costs], [w for _, w in costs]
    print(
        f"CPU per entry median {statistics.median(per_entry) * 1000:.2f} ms "
        f"({min(per_entry) * 1000:.2f}-{max(per_entry) * 1000:.2f}); round wall median "
        f"{statistics.median(walls) * 1000:.0f} ms ({min(walls) * 1000:.0f}-{max(walls) * 1000:.0f})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_morning_post")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--collectors", type=int, default=20)
    parser.add_argument("--accounts", type=int, default=40, help="past-due accounts per collector")
    parser.add_argument("--random-429", type=float, default=0.1, help="share of posts refused at random")
    parser.add_argument(
        "--first-morning",
        action="store_true",
        help="the team's first morning: nobody's Slack identity or direct messages known, no account in the "
        "suspension sequence yet",
    )
    parser.add_argument(
        "--channel-news",
        type=int,
        default=0,
        help="extra posts queued for the collections channel with the morning (pacing)",
    )
    parser.add_argument(
        "--round-cpu", action="store_true", help="measure one dispatcher round's CPU per entry instead (no 429s)"
    )
    args = parser.parse_args([] if argv is None else argv)  # `python -m bench` passes nothing
    logging.basicConfig(level=logging.ERROR)
    emails = collector_emails(args.collectors)
    team, users = bench_team(emails), slack_users(emails)
    print(
        f"{args.collectors} collectors x {args.accounts} accounts, SQLite; fake Slack: "
        f"{PER_CHANNEL_SECONDS:g} post/s per channel enforced, {args.random_429:.0%} of posts refused at random "
        f"(Retry-After {RETRY_AFTER} s); {args.channel_news} extra post(s) for the collections channel; "
        f"{'first morning (nothing from earlier ones)' if args.first_morning else 'not the first morning'}; "
        f"{args.runs} run(s); load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    if args.round_cpu:
        round_cpu(args, team, emails, users)
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return
    results = []
    for n in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench_morning.db'}"
            seed(url, team, emails, args.accounts)
            if not args.first_morning:
                earlier_mornings(url, team)
            m = asyncio.run(morning(url, team, users, args.random_429, args.channel_news, first=args.first_morning))
        f = figures(m)
        report(n, m, f)
        results.append(f)
    summary(results)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main(sys.argv[1:])
