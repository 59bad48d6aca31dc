"""Teams message -> reply latency at a steady 50 requests per second.

The real path: HTTP POST of a Teams activity to ``/api/messages`` (aiohttp, CloudAdapter,
authentication off as in ``--dev``, in a process of its own as ``arbot serve`` would be),
identity, dedupe, the core's transaction, an Adaptive Card rendered, and the reply POSTed to a
local fake Bot Connector that timestamps it. Latency is from the moment the activity is sent to
the moment its reply arrives (matched by ``replyToId``).
Requests are sent open-loop on a fixed schedule, so a slow reply does not slow the offered load.
The mix is 70% ``status <customer>`` (reads) and 30% ``log <customer> voicemail`` (writes), from
50 collectors in their personal chats, one message a second each (Teams paces a bot at 7 messages
a second per thread, so the load is spread as real people spread it). SQLite in a temporary
folder unless ``BENCH_DATABASE_URL`` names a (throwaway) PostgreSQL database.

    python -m bench.bench_teams_latency [--seconds 20] [--rate 50]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import multiprocessing
import os
import statistics
import tempfile
import time
import tomllib
from datetime import UTC, date, datetime
from decimal import Decimal
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.settings import EXAMPLE_TEAM_FILE
from bot.teams.settings import TeamsSettings
from bot.teams.web import add_routes
from commands.calendar import BusinessCalendar
from commands.clock import SystemClock
from commands.context import AppContext
from commands.team import Team, sync_members, team_from_dict
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Customer, Invoice, InvoiceKind, TeamMember

COLLECTORS = tuple(f"collector{n:02d}@example.com" for n in range(50))
CUSTOMERS = 500


def _team() -> Team:
    data = tomllib.loads(EXAMPLE_TEAM_FILE.read_text(encoding="utf-8"))
    data["members"] += [{"email": email, "name": f"Collector {n}", "roles": ["collector"]}
                        for n, email in enumerate(COLLECTORS)]
    for member in data["members"]:
        member["teams_id"] = "29:" + member["email"].split("@")[0]
    return team_from_dict(data)


def _context(url: str) -> AppContext:
    team = _team()
    return AppContext(sessions=make_session_factory(make_engine(url)), team=team,
                      calendar=BusinessCalendar(team.country), clock=SystemClock())


def _seed(url: str) -> None:
    upgrade(make_engine(url))
    ctx = _context(url)
    with ctx.sessions.begin() as session:
        sync_members(session, ctx.team)
        ids = dict(session.query(TeamMember.email, TeamMember.id).all())
        created = datetime(2026, 10, 1, tzinfo=UTC)
        for n in range(CUSTOMERS):
            customer = Customer(erp_id=f"B{n:04d}", name=f"Bench Customer {n:04d}", currency="USD",
                                created_at=created, collector_id=ids[COLLECTORS[n % len(COLLECTORS)]])
            session.add(customer)
            session.flush()
            for i in range(3):
                session.add(Invoice(customer_id=customer.id, number=f"B{n:04d}-{i}", kind=InvoiceKind.STANDARD,
                                    due_date=date(2026, 9 + i, 1), amount=Decimal("1000.00"),
                                    open_balance=Decimal("1000.00") - i, currency="USD"))
    ctx.sessions.kw["bind"].dispose()


def _serve_bot(url: str, ready: Queue, stop: Event) -> None:  # type: ignore[type-arg]
    """The bot's own process: the Teams endpoint on a free port until told to stop."""
    logging.getLogger("bot.teams.web").setLevel(logging.ERROR)  # the --dev warning, once per run is enough
    ctx = _context(url)

    async def run() -> None:
        app = web.Application()
        add_routes(app, ctx, TeamsSettings(dev=True))
        runner, bot_url = await _start(app)
        ready.put(bot_url)
        while not stop.is_set():
            await asyncio.sleep(0.1)
        await runner.cleanup()

    asyncio.run(run())


class Connector:
    """The Bot Connector's send endpoint; resolves the waiter for each reply."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[float]] = {}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self.receive)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self.receive)
        return app

    async def receive(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        body = await request.json()
        waiter = self.waiting.get(body.get("replyToId", ""))
        if waiter is not None and not waiter.done():
            waiter.set_result(arrived)
        return web.json_response({"id": f"r-{body.get('replyToId', '')}"})


async def _start(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]


async def measure(bot_url: str, seconds: float, rate: float) -> tuple[list[float], int, float]:
    connector = Connector()
    connector_runner, teams_url = await _start(connector.app())
    latencies: list[float] = []
    failures = 0
    ids = itertools.count(1)
    try:
        async with aiohttp.ClientSession() as http:
            async def one(n: int) -> None:
                nonlocal failures
                email = COLLECTORS[n % len(COLLECTORS)]
                erp = f"B{(n * 7) % CUSTOMERS:04d}"
                text = f"log {erp} voicemail" if n % 10 < 3 else f"status {erp}"
                activity_id = f"bench-{next(ids)}"
                user = "29:" + email.split("@")[0]
                waiter = asyncio.get_running_loop().create_future()
                connector.waiting[activity_id] = waiter
                body = {"type": "message", "id": activity_id, "channelId": "msteams", "text": text,
                        "serviceUrl": teams_url + "/", "from": {"id": user},
                        "recipient": {"id": "28:arbot", "name": "arbot"}, "channelData": {"tenant": {"id": "t"}},
                        "conversation": {"id": f"a:{user}", "conversationType": "personal", "tenantId": "t"}}
                sent = time.perf_counter()
                try:
                    async with http.post(bot_url + "/api/messages", json=body) as response:
                        if response.status >= 300:
                            raise RuntimeError(f"HTTP {response.status}")
                    latencies.append(await asyncio.wait_for(waiter, 30) - sent)
                except Exception:
                    failures += 1
                finally:
                    connector.waiting.pop(activity_id, None)

            started = time.perf_counter()
            tasks = []
            for n in range(int(seconds * rate)):
                delay = started + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(n)))
            await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - started
    finally:
        await connector_runner.cleanup()
    return latencies, failures, elapsed


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_teams_latency")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to offer load (default 20)")
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second (default 50)")
    args = parser.parse_args(argv if argv is not None else [])
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(folder) / 'bench_teams.db'}"
        _seed(url)
        spawn = multiprocessing.get_context("spawn")
        ready, stop = spawn.Queue(), spawn.Event()
        server = spawn.Process(target=_serve_bot, args=(url, ready, stop), daemon=True)
        server.start()
        try:
            latencies, failures, elapsed = asyncio.run(measure(ready.get(timeout=120), args.seconds, args.rate))
        finally:
            stop.set()
            server.join(timeout=30)
    ms = sorted(v * 1000 for v in latencies)
    print(f"Teams message -> reply over HTTP, {args.rate:g} req/s offered for {args.seconds:g} s "
          f"({'PostgreSQL' if os.environ.get('BENCH_DATABASE_URL') else 'SQLite'}):")
    print(f"  replies {len(ms)}, failures {failures}, achieved {len(ms) / elapsed:.1f} replies/s")
    if ms:
        print(f"  latency p50 {_percentile(ms, 50):.1f} ms, p99 {_percentile(ms, 99):.1f} ms, max {ms[-1]:.1f} ms")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
