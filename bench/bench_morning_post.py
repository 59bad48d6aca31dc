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
import math
import os
import random
import statistics
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bench.fake_slack import fake_slack_process
from bot.server import DELIVERY, ServerSettings, build_web_app, tuned
from bot.settings import EXAMPLE_TEAM_FILE
from bot.slack.settings import SlackSettings
from commands.calendar import BusinessCalendar
from commands.context import AppContext
from commands.outbox import Dispatcher, RoundReport
from commands.team import Team, sync_members, team_from_dict
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Customer, Invoice, InvoiceKind, OutboxEntry, TeamMember
from storage.models.outbox import PENDING, SENDING

MORNING = datetime(2026, 11, 23, 14, 0, 30, tzinfo=UTC)  # Monday 08:00:30 in Chicago
CREATED = datetime(2026, 9, 1, tzinfo=UTC)
SECRET = "bench-signing-secret"
PER_CHANNEL_SECONDS = 1.0  # what the fake enforces, and the floor is worked out from
RETRY_AFTER = 1  # whole seconds, as Slack sends it
TARGET_RATIO = 1.1
SEED = 20261205


# -- time and the team --------------------------------------------------------------------------


@dataclass
class MorningClock:
    """Monday morning, moving with real time: the job is due at once, and a retry's
    ``next_attempt_at`` comes due after the real seconds it asked for."""

    start: datetime = MORNING
    origin: float = field(default_factory=time.monotonic)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.origin)


def collector_emails(count: int) -> list[str]:
    return [f"collector{n:02d}@example.com" for n in range(count)]


def slack_users(emails: list[str]) -> dict[str, str]:
    """Slack user id -> email, for the fake's ``users.lookupByEmail``."""
    return {f"U0C{n:02d}": email for n, email in enumerate(emails)}


def bench_team(emails: list[str]) -> Team:
    """The example team's non-collectors (finance, managers) and ``emails`` as the collectors."""
    data = tomllib.loads(EXAMPLE_TEAM_FILE.read_text(encoding="utf-8"))
    data["members"] = [m for m in data["members"] if "collector" not in m["roles"]]
    data["members"] += [
        {"email": e, "name": f"Collector {n:02d}", "roles": ["collector"]} for n, e in enumerate(emails)
    ]
    return team_from_dict(data)


def seed(url: str, team: Team, emails: list[str], accounts: int) -> None:
    """``accounts`` past-due customers for each collector, two open invoices each."""
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine).begin() as session:
        sync_members(session, team)
        ids = {email: id_ for email, id_ in session.execute(select(TeamMember.email, TeamMember.id))}
        for n in range(len(emails) * accounts):
            customer = Customer(
                erp_id=f"M{n:05d}",
                name=f"Morning Customer {n:05d}",
                currency="USD",
                created_at=CREATED,
                collector_id=ids[emails[n % len(emails)]],
            )
            session.add(customer)
            session.flush()
            for i in range(2):
                session.add(
                    Invoice(
                        customer_id=customer.id,
                        number=f"M{n:05d}-{i}",
                        kind=InvoiceKind.STANDARD,
                        due_date=date(2026, 9, 1 + (n + i) % 28),
                        amount=Decimal(1000 + n % 900),
                        open_balance=Decimal(1000 + n % 900),
                        currency="USD",
                    )
                )
    engine.dispose()


def earlier_mornings(url: str, team: Team) -> None:
    """What the suspension sequence's run on the business day before left: every account over
    the threshold already in it. Only a team's first morning puts them all in at once (800
    accounts, most of that morning's job); on the others it looks at them and moves on."""
    from commands.clock import FixedClock
    from commands.suspension.sequence import run_daily

    engine = make_engine(url)
    ctx = AppContext(
        sessions=make_session_factory(engine),
        team=team,
        calendar=BusinessCalendar(team.country),
        clock=FixedClock(MORNING - timedelta(days=3)),  # the Friday before, as early
    )
    with ctx.sessions.begin() as session:
        run_daily(session, ctx)
    engine.dispose()


# -- the strict fake Slack ----------------------------------------------------------------------


def strict_slack(users: dict[str, str], random_429: float, start: datetime, origin: float) -> Any:
    """The tests' FakeSlack, made to enforce Slack's limit of one post a second per channel.
    Built in the fake's own process (bench.fake_slack): its message timestamps follow the
    bench's clock (``start`` at monotonic ``origin``, a clock every process on the machine
    shares), so the history a retry reads first (``oldest`` = shortly before the entry was
    queued) means what it says."""
    from tests.support.slack import USERS, FakeSlack

    @dataclass
    class StrictSlack(FakeSlack):
        """``chat.postMessage`` less than a second after the last one accepted in that channel
        is answered 429 with Retry-After, and a seeded share of posts is answered 429 anyway
        (Slack's other limits, which a bot cannot predict)."""

        share: float = 0.0
        rng: random.Random = field(default_factory=lambda: random.Random(SEED))
        accepted_at: dict[str, float] = field(default_factory=dict)
        refusals: list[tuple[str, str, float]] = field(default_factory=list)  # (channel, why, at)

        def _fault(self, method: str, targets: list[str]) -> Any:
            fault = super()._fault(method, targets)
            if method != "chat.postMessage" or fault is not None or not targets:
                return fault
            return self._paced(targets[-1])

        def _paced(self, channel: str) -> int | None:
            """429 (pacing or random), or None: accepted, and the channel's second starts."""
            with self._lock:
                now = time.monotonic()
                last = self.accepted_at.get(channel)
                why = (
                    "pacing"
                    if last is not None and now - last < PER_CHANNEL_SECONDS
                    else "random"
                    if self.rng.random() < self.share
                    else None
                )
                if why is None:
                    self.accepted_at[channel] = now
                    return None
                self.refusals.append((channel, why, now))
                return 429

    clock = MorningClock(start, origin)
    return StrictSlack(users={**USERS, **users}, share=random_429, clock=clock.now, retry_after=str(RETRY_AFTER))


def what_the_fake_saw(fake: Any) -> tuple[list[Any], list[tuple[str, str, float]]]:
    """Asked in the fake's process at the end: every call it answered, and its 429s."""
    return fake.made(status=None), list(fake.refusals)


def known_team(ctx: AppContext, api_url: str, emails: list[str]) -> None:
    """What earlier mornings left: each collector's Slack identity and direct-message channel
    in the database, found by the server's own code (``users.lookupByEmail``,
    ``conversations.open``) before it starts, as a server restarted overnight finds them."""
    from slack_sdk import WebClient

    from bot.slack.identity import SlackIdentity

    identity = SlackIdentity(WebClient(token="xoxb-bench", base_url=api_url), ctx)
    for email in emails:
        identity.open_dm_channel(identity.user_id_of(email), email=email)


# -- watching the dispatcher --------------------------------------------------------------------


@dataclass
class Round:
    started: float
    ended: float
    claimed: int  # entries the round settled one way or another: what it had claimed
    report: RoundReport


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


@dataclass
class Morning:
    job_started: float
    job_ended: float
    delivered: float
    rounds: list[Round]
    backoffs: list[float]
    calls: list[Any]  # every call the fake saw
    refusals: list[tuple[str, str, float]]
    entries: list[OutboxEntry]
    outcomes: dict[str, str]
    clock: MorningClock

    def queued_at(self, entry: OutboxEntry) -> float:
        """When ``entry`` was queued, on the monotonic clock the calls are timed by."""
        return self.clock.origin + (entry.created_at - self.clock.start).total_seconds()

    @property
    def posts(self) -> list[Any]:
        return [c for c in self.calls if c.method == "chat.postMessage"]


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


# -- what it says -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    total: float
    job: float
    pacing_floor: float
    rules_floor: float
    pacing_429: int
    random_429: int
    duplicates: int
    messages: int
    channels: int
    first_round_wait: float
    first_wave: float  # first round's start to the last post accepted in it
    retry_waits: list[float]  # per 429: until the channel was tried again
    backoffs: list[float]  # per 429: the backoff the dispatcher asked for
    lookups: int  # history reads before a retry
    openings: int  # users.lookupByEmail and conversations.open calls during the morning
    queued_floor: float  # a second view, not the target's: see queued_floor()
    last_429: float  # the last random 429, from the job's end (the floor's perfect sender has it at 0)

    @property
    def above(self) -> float:
        """What the total spends above the target's floor."""
        return self.total - self.rules_floor

    @property
    def ratio(self) -> float:
        return self.total / self.rules_floor if self.rules_floor else math.inf


def figures(m: Morning) -> Figures:
    accepted = [c for c in m.posts if c.status == 200]
    per_channel = Counter(str(c.answer["channel"]) for c in accepted)
    # Only the fake's random 429s raise the floor; a pacing 429 is the sender's own doing.
    refused = Counter(channel for channel, why, _ in m.refusals if why == "random")
    pacing_floor = max((n - 1) * PER_CHANNEL_SECONDS for n in per_channel.values())
    rules = max((n - 1) * PER_CHANNEL_SECONDS + refused[ch] * RETRY_AFTER for ch, n in per_channel.items())
    job = m.job_ended - m.job_started
    return Figures(
        total=m.delivered - m.job_started,
        job=job,
        pacing_floor=pacing_floor,
        rules_floor=job + rules,
        pacing_429=sum(why == "pacing" for _, why, _ in m.refusals),
        random_429=sum(why == "random" for _, why, _ in m.refusals),
        duplicates=duplicates(m),
        messages=len(accepted),
        channels=len(per_channel),
        first_round_wait=_first_round_wait(m),
        first_wave=_first_wave(m),
        retry_waits=retry_waits(m),
        backoffs=list(m.backoffs),
        lookups=sum(c.method == "conversations.history" for c in m.calls),
        openings=sum(c.method in ("users.lookupByEmail", "conversations.open") for c in m.calls),
        queued_floor=queued_floor(m),
        last_429=max((at for _, why, at in m.refusals if why == "random"), default=m.job_ended) - m.job_ended,
    )


def queued_floor(m: Morning) -> float:
    """The earliest the fake's rules let the last message land, counted from when each message
    was queued rather than from the job's end: the job commits in several transactions and the
    dispatcher starts on the first while the job still runs, so the target's floor (the job's
    whole time, then the channel's) can lie above the total. Per channel, in the order they
    landed: a message goes no earlier than it was queued, a second after the one before it,
    plus one Retry-After per random 429 it got. Shown beside the target's floor only."""
    channel_of = {str(c.answer["ts"]): str(c.answer["channel"]) for c in m.posts if c.status == 200}
    queued: dict[str, list[float]] = {}
    for entry in m.entries:
        channel = channel_of.get(entry.message_id or "")
        if channel is not None:
            queued.setdefault(channel, []).append(m.queued_at(entry))
    random_429s = [(channel, at) for channel, why, at in m.refusals if why == "random"]
    latest = 0.0
    for channel, times in queued.items():
        landed = sorted(c.at for c in m.posts if c.status == 200 and str(c.answer["channel"]) == channel)
        earliest, previous = -math.inf, -math.inf
        for at, queued_time in zip(landed, sorted(times), strict=False):
            refused = sum(1 for ch, when in random_429s if ch == channel and previous < when <= at)
            earliest = max(queued_time, earliest + PER_CHANNEL_SECONDS) + refused * RETRY_AFTER
            previous = at
        latest = max(latest, earliest - m.job_started)
    return latest


def duplicates(m: Morning) -> int:
    """Messages accepted more than once for one outbox key: the key's stored message id names
    one accepted post; any other accepted post with the same channel and text is a duplicate."""
    from tests.support.slack import text_of

    by_content = Counter((str(c.answer["channel"]), text_of(c.params)) for c in m.posts if c.status == 200)
    content_of = {
        str(c.answer["ts"]): (str(c.answer["channel"]), text_of(c.params)) for c in m.posts if c.status == 200
    }
    extra = 0
    for entry in m.entries:
        content = content_of.get(entry.message_id or "")
        extra += by_content[content] - 1 if content else 0
    return extra


def _first_round_wait(m: Morning) -> float:
    """From the tick's return to the start of the first round that claimed anything (negative:
    the commit's kick started it while the tick was still returning)."""
    working = [r.started for r in m.rounds if r.claimed]
    return (min(working) - m.job_ended) if working else math.nan


def _first_wave(m: Morning) -> float:
    """The first round that claimed anything: its start to the last post it got accepted."""
    first = next((r for r in m.rounds if r.claimed), None)
    if first is None:
        return math.nan
    landed = [c.at for c in m.posts if c.status == 200 and first.started <= c.at <= first.ended]
    return (max(landed) - first.started) if landed else math.nan


def retry_waits(m: Morning) -> list[float]:
    """For each 429: the time until the channel was tried again (a history read or a post),
    which is what the message waited; Slack asked for Retry-After."""
    attempts: dict[str, list[tuple[float, int]]] = {}
    for call in m.calls:
        if call.method in ("chat.postMessage", "conversations.history"):
            attempts.setdefault(_channel_of(call), []).append((call.at, call.status))
    waits = []
    for tries in attempts.values():
        for (at, status), (next_at, _) in pairwise(tries):
            if status == 429:
                waits.append(next_at - at)
    return waits


def _channel_of(call: Any) -> str:
    from tests.support.slack import channel_id

    return channel_id(str(call.params.get("channel", "")))


def round_lines(m: Morning) -> list[str]:
    """The dispatcher's rounds, relative to the job's start: when, how long, claimed, outcome."""
    lines = []
    for r in m.rounds:
        if not r.claimed:
            continue
        rep = r.report
        lines.append(
            f"    round at +{r.started - m.job_started:5.2f} s, {r.ended - r.started:4.2f} s: claimed "
            f"{r.claimed}, sent {rep.sent}, retried {rep.retried}, failed {rep.failed}"
        )
    empty = sum(1 for r in m.rounds if not r.claimed)
    lines.append(f"    and {empty} round(s) that claimed nothing (waiting for a retry to come due)")
    return lines


def report(n: int, m: Morning, f: Figures) -> None:
    waits = f.retry_waits
    print(
        f"  run {n}: total {f.total:.2f} s (job {f.job:.2f} s, then {f.total - f.job:.2f} s delivering); "
        f"{f.messages} messages in {f.channels} channels; pacing floor {f.pacing_floor:.1f} s; "
        f"floor with the fake's 429s {f.rules_floor:.2f} s; ratio {f.ratio:.2f}; "
        f"429s {f.pacing_429 + f.random_429} ({f.pacing_429} pacing, {f.random_429} random); "
        f"duplicates {f.duplicates}; {f.openings} users.lookupByEmail / conversations.open",
        flush=True,
    )
    print(
        f"    from when each message was queued, the rules allow {f.queued_floor:.2f} s at the earliest "
        f"(total / that: {f.total / f.queued_floor:.2f}); not the target's floor"
    )
    print(
        f"    job's end -> first round: {f.first_round_wait * 1000:+.0f} ms (the commit kicks it); first round: "
        f"{f.first_wave:.2f} s to its last accepted post"
    )
    print(
        f"    above the floor: {f.above:.2f} s; the last random 429 came {f.last_429:+.2f} s after the job's end "
        f"(the floor's perfect sender gets every 429 at the job's end and retries exactly Retry-After later)"
    )
    if waits:
        print(
            f"    after a 429 (Retry-After {RETRY_AFTER} s) the dispatcher asked a backoff of "
            f"{min(f.backoffs):.2f}-{max(f.backoffs):.2f} s (mean {statistics.mean(f.backoffs):.2f}); "
            f"the channel was tried again {min(waits):.2f}-{max(waits):.2f} s later "
            f"(mean {statistics.mean(waits):.2f}); {f.lookups} history read(s) before retries"
        )
    for line in round_lines(m):
        print(line)
    bad = {k: v for k, v in m.outcomes.items() if v != "done"}
    if bad:
        print(f"    job outcomes not done: {bad}")


def summary(all_figures: list[Figures]) -> None:
    def span(values: list[float], unit: str = " s", fmt: str = ".2f") -> str:
        return f"median {statistics.median(values):{fmt}}{unit} (range {min(values):{fmt}}-{max(values):{fmt}}{unit})"

    print(f"total {span([f.total for f in all_figures])}; job {span([f.job for f in all_figures])}")
    waits = [w for f in all_figures for w in f.retry_waits]
    print(
        f"above the floor {span([f.above for f in all_figures])}; last random 429 after the job's end "
        f"{span([f.last_429 for f in all_figures])}"
        + (f"; retried after {span(waits)} (every 429 of every run)" if waits else "")
    )
    print(
        f"pacing floor {span([f.pacing_floor for f in all_figures], fmt='.1f')}; "
        f"floor with the 429s {span([f.rules_floor for f in all_figures])}"
    )
    print(
        f"from each message's queueing: earliest {span([f.queued_floor for f in all_figures])}; "
        f"total / that {span([f.total / f.queued_floor for f in all_figures], unit='')} (not the target)"
    )
    ratios = [f.ratio for f in all_figures]
    print(
        f"ratio total/floor {span(ratios, unit='')} (target <= {TARGET_RATIO}): "
        f"{'met' if statistics.median(ratios) <= TARGET_RATIO else 'NOT met'}"
    )
    print(
        f"429s per run {[f.pacing_429 + f.random_429 for f in all_figures]} "
        f"(pacing {[f.pacing_429 for f in all_figures]}); "
        f"duplicates {sum(f.duplicates for f in all_figures)} (must be 0)",
        flush=True,
    )


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
