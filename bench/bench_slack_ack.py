"""Slack acknowledgement latency: how long Slack waits for `arbot serve` to answer a signed
``/ar promise`` (whose promise is then written to the database after the answer), beside a bare
Bolt app whose only listener acknowledges, measured in the same run under the same load.

The server runs in its own process (so the load generator's work is not counted as the
server's), against the fake Slack Web API the tests use, in a third (bench.fake_slack).
Requests are sent open-loop: at ``--rate`` per second on a fixed schedule, whether or not
earlier ones were answered, as Slack does. Each promise is for a distinct customer and day, so
every request writes a row; the run checks they were all written.

    python -m bench.bench_slack_ack [--seconds 60] [--rate 100] [--default-bolt] [--no-off]

``arbot`` runs as ``arbot serve`` does (Slack acknowledged by the front process, bot.slack.front,
the server behind it on a Unix socket; bot.tuning: the garbage collector frozen after start-up,
the worker pool sized for the load; SQLite writers queued on the in-process writer lock);
``arbot-off`` beside it has those switched off (one process, ``ARBOT_SLACK_FRONT=off``;
``ARBOT_GC=default``, ``ARBOT_WORKERS=6``, the pool asyncio gives two cores,
``ARBOT_DB_WRITER_LOCK=off``, Python's 5 ms switch interval), in the same rounds.
``--default-bolt`` also measures a bare app with Bolt's default settings, where the
acknowledgement is polled every 10 ms. SQLite in a temporary folder by default; with
``BENCH_DATABASE_URL`` (a PostgreSQL server) a throwaway database is made there."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bench.cache import throwaway_database
from bench.fake_slack import fake_slack_process, process
from bot.settings import EXAMPLE_TEAM_FILE
from commands.calendar import BusinessCalendar
from commands.clock import FixedClock
from commands.context import AppContext
from commands.team import load_team, sync_members
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Customer, Invoice, InvoiceKind, Promise, TeamMember

MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 09:00 in Chicago
TODAY = date(2026, 11, 23)
CUSTOMERS = 200
DAYS_AHEAD = 89  # promises may be at most 90 days ahead
WARMUP = 50
ROUND_SECONDS = 10  # servers take turns, so a noisy neighbour hits both alike
SECRET = "bench-signing-secret"
USER = "U0DANA"
OFF = {
    "ARBOT_GC": "default",
    "ARBOT_WORKERS": "6",
    "ARBOT_DB_WRITER_LOCK": "off",
    "ARBOT_SWITCH_INTERVAL_MS": "5",
    "ARBOT_SLACK_FRONT": "off",
}
# Every promise must be written (the run checks): none may be turned away as too many at once.
UNBOUNDED = {"ARBOT_CHAT_BACKLOG": "1000000"}
ARBOTS = ("arbot", "arbot-off")
OFF_ENV_VARIABLE = "BENCH_SLACK_ACK_OFF"
TARGET_P99_MS, TARGET_RATIO = 20.0, 2.0


@dataclass(frozen=True)
class Result:
    name: str
    latencies_ms: list[float]
    late_ms: float  # how far behind its schedule the latest request left (open-loop fidelity)
    errors: int

    def line(self) -> str:
        ordered = sorted(self.latencies_ms)
        return (
            f"{self.name}: n={len(ordered)} p50={pct(ordered, 50):.2f} ms p99={pct(ordered, 99):.2f} ms "
            f"max={ordered[-1]:.2f} ms (errors {self.errors}, sends at most {self.late_ms:.1f} ms late)"
        )


def pct(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# -- the database -------------------------------------------------------------------------------


@contextmanager
def database() -> Iterator[str]:
    """A migrated database with the example team and CUSTOMERS accounts of Dana's."""
    with throwaway_database("slack") as url:
        _prepare(url)
        yield url


def _prepare(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    team = load_team(EXAMPLE_TEAM_FILE)
    with make_session_factory(engine).begin() as session:
        sync_members(session, team)
        dana = session.scalar(select(TeamMember.id).where(TeamMember.email == "dana.reyes@example.com"))
        for n in range(1, CUSTOMERS + 1):
            customer = Customer(
                erp_id=f"C{n:04d}", name=f"Bench Customer {n}", currency="USD", created_at=MONDAY, collector_id=dana
            )
            session.add(customer)
            session.flush()
            session.add(
                Invoice(
                    customer_id=customer.id,
                    number=f"B-{n}",
                    kind=InvoiceKind.STANDARD,
                    due_date=date(2026, 10, 1),
                    amount=Decimal("100000.00"),
                    open_balance=Decimal("100000.00"),
                    currency="USD",
                )
            )
    engine.dispose()


def promises_written(url: str) -> int:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(Promise)) or 0)
    finally:
        engine.dispose()


# -- the server process -------------------------------------------------------------------------


def serve(kind: str, db_url: str, api_url: str, ports: Any) -> None:
    """Run one server (``arbot``, ``arbot-off``, ``bare`` or ``bare-default``) until terminated."""
    import logging

    if kind in ARBOTS:
        os.environ.update(UNBOUNDED)
    if kind == "arbot-off":
        os.environ.update(_off_settings())

    logging.basicConfig(level=logging.ERROR)
    asyncio.run(_serve(kind, db_url, api_url, ports))


async def _serve(kind: str, db_url: str, api_url: str, ports: Any) -> None:

    from bot.server import ServerSettings, build_web_app, listening, tuned
    from bot.slack.settings import SlackSettings

    front = SlackSettings.from_env().front  # on unless ARBOT_SLACK_FRONT=off, as for `arbot serve`
    slack = SlackSettings(bot_token="xoxb-bench", signing_secret=SECRET, api_url=api_url, front=front)
    if kind in ARBOTS:
        team = load_team(EXAMPLE_TEAM_FILE)
        ctx = AppContext(
            sessions=make_session_factory(make_engine(db_url)),
            team=team,
            calendar=BusinessCalendar(team.country),
            clock=FixedClock(MONDAY),
        )
        app = tuned(build_web_app(ctx, ServerSettings(slack=slack)))
    else:
        app = _bare_app(slack, process_before_response=kind == "bare")
    async with listening(app, "127.0.0.1", 0) as port:  # behind its front, as `arbot serve` runs
        ports.send(port)
        await asyncio.Event().wait()


def _off_settings() -> dict[str, str]:
    """What ``arbot-off`` runs with: :data:`OFF`, or ``--off-env``'s settings (passed to the
    server process through the environment, which a spawned process inherits)."""
    given = os.environ.get(OFF_ENV_VARIABLE, "").split()
    return dict(item.split("=", 1) for item in given) if given else OFF


def _bare_app(slack: Any, *, process_before_response: bool) -> Any:
    from aiohttp import web
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.app import http_handler

    bolt = AsyncApp(
        name="bare",
        client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url),
        signing_secret=slack.signing_secret,
        process_before_response=process_before_response,
    )

    async def only_ack(ack: Any) -> None:
        await ack()

    bolt.command("/ar")(only_ack)
    app = web.Application()
    app.router.add_post("/slack/events", http_handler(bolt))
    return app


@contextmanager
def server(kind: str, db_url: str, api_url: str) -> Iterator[str]:
    with process(serve, kind, db_url, api_url) as (port, _):
        yield f"http://127.0.0.1:{port}/slack/events"


# -- the load -----------------------------------------------------------------------------------


def requests(
    first: int, count: int, start_at: float, rate: float, response_url: str
) -> list[tuple[float, bytes, dict[str, str]]]:
    """Requests ``first``..``first + count``: send time, body and signed headers, prepared
    before the clock starts. Request ``i`` promises for its own customer and day."""
    from tests.support.slack import fixture, sign

    out = []
    for n, i in enumerate(range(first, first + count)):
        customer, day = f"C{i % CUSTOMERS + 1:04d}", TODAY + timedelta(days=1 + (i // CUSTOMERS) % DAYS_AHEAD)
        at = start_at + n / rate
        body = urllib.parse.urlencode(
            {
                **fixture("slash_command"),
                "user_id": USER,
                "command": "/ar",
                "text": f"promise {customer} 10 {day.isoformat()}",
                "response_url": response_url,
                "trigger_id": f"bench.{i}",
            }
        )
        stamp = int(time.time() + (at - time.monotonic()))
        out.append(
            (
                at,
                body.encode(),
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Slack-Request-Timestamp": str(stamp),
                    "X-Slack-Signature": sign(body, stamp, SECRET),
                },
            )
        )
    return out


@dataclass
class Tally:
    latencies_ms: list[float]
    late_ms: float = 0.0
    errors: int = 0


async def load(url: str, planned: list[tuple[float, bytes, dict[str, str]]], tally: Tally) -> None:
    """Send each request at its time (open loop) and note how long its answer took."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def send(at: float, body: bytes, headers: dict[str, str]) -> None:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            sent = time.monotonic()
            tally.late_ms = max(tally.late_ms, (sent - at) * 1000)
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                tally.errors += response.status != 200
            tally.latencies_ms.append((time.monotonic() - sent) * 1000)

        await asyncio.gather(*(send(at, body, headers) for at, body, headers in planned))


def run_load(url: str, first: int, count: int, rate: float, response_url: str, tally: Tally) -> None:
    planned = requests(first, count, time.monotonic() + 0.5, rate, response_url)
    asyncio.run(load(url, planned, tally))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_slack_ack")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--default-bolt", action="store_true", help="also measure Bolt's default settings")
    parser.add_argument("--no-off", action="store_true", help="leave out arbot with the tuning switched off")
    parser.add_argument(
        "--off-env",
        metavar="'K=V ...'",
        help="run arbot-off with these settings instead (e.g. 'ARBOT_WORKERS=2') to compare one switch",
    )
    args = parser.parse_args([] if argv is None else argv)  # `python -m bench` passes nothing
    if args.off_env:
        os.environ[OFF_ENV_VARIABLE] = args.off_env
    kinds = {
        "arbot": "/ar promise, arbot (promise written after the ack)",
        "bare": "bare Bolt, same settings, listener only acks",
    }
    if not args.no_off:
        kinds["arbot-off"] = (
            f"/ar promise, arbot with {args.off_env}"
            if args.off_env
            else "/ar promise, arbot with gc, worker pool and writer lock switched off"
        )
    if args.default_bolt:
        kinds["bare-default"] = "bare Bolt, default settings (ack polled every 10 ms)"
    rounds = max(1, round(args.seconds / ROUND_SECONDS))
    per_round = int(args.seconds * args.rate / rounds)
    with fake_slack_process() as fake, database() as db_url, ExitStack() as stack:
        api_url, response_url = fake.api_url, f"{fake.url}/respond/bench"
        where = "PostgreSQL" if db_url.startswith("postgresql") else "SQLite"
        print(
            f"{args.rate:g} requests/s for {args.seconds:g} s per server, in {rounds} interleaved rounds "
            f"after {WARMUP} warm-up requests each; database: {where}",
            flush=True,
        )
        urls = {kind: stack.enter_context(server(kind, db_url, api_url)) for kind in kinds}
        tallies = {kind: Tally([]) for kind in kinds}
        sent = 0
        for kind, url in urls.items():
            run_load(url, sent, WARMUP, args.rate, response_url, Tally([]))
            sent += WARMUP if kind in ARBOTS else 0
        trailing = 0.0
        for _ in range(rounds):
            for kind, url in urls.items():
                run_load(url, sent if kind in ARBOTS else 0, per_round, args.rate, response_url, tallies[kind])
                if kind in ARBOTS:
                    sent += per_round
                    trailing = max(trailing, _wait_for_writes(db_url, sent))
        written = promises_written(db_url)
        for kind, label in kinds.items():
            print(Result(label, tallies[kind].latencies_ms, tallies[kind].late_ms, tallies[kind].errors).line())
        print(
            f"  promises written: {written}/{sent}; the last of a round at most {trailing:.1f} s "
            "after its acknowledgement"
        )
        _verdict(tallies["arbot"].latencies_ms, tallies["bare"].latencies_ms)
        if "arbot-off" in tallies:
            print("switched off: ", end="")
            _verdict(tallies["arbot-off"].latencies_ms, tallies["bare"].latencies_ms)
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _wait_for_writes(db_url: str, expected: int) -> float:
    """Seconds until ``expected`` promises are in the database (the writes follow the acks)."""
    started = time.monotonic()
    while promises_written(db_url) < expected and time.monotonic() - started < 120:
        time.sleep(0.05)
    return time.monotonic() - started


def _verdict(ours: list[float], bare: list[float]) -> None:
    """Both percentiles as ratios to the bare app measured in the same rounds; the target is on
    p99 (what a busy moment costs), p50 shows the everyday overhead."""
    p50, base50 = pct(sorted(ours), 50), pct(sorted(bare), 50)
    p99, base = pct(sorted(ours), 99), pct(sorted(bare), 99)
    ratio = p99 / base if base else float("inf")
    print(
        f"p50 ratio arbot/bare: {p50 / base50 if base50 else float('inf'):.2f}x; "
        f"p99 ratio arbot/bare: {ratio:.2f}x (target <= {TARGET_RATIO:g}x); "
        f"arbot p99 {p99:.2f} ms (target <= {TARGET_P99_MS:g} ms): "
        f"{'met' if p99 <= TARGET_P99_MS and ratio <= TARGET_RATIO else 'NOT met'}",
        flush=True,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
