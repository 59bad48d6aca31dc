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
folder, or with ``BENCH_DATABASE_URL`` (a PostgreSQL server) a throwaway database made there.

Two servers built as ``arbot serve`` builds itself take turns in 10-second rounds, so a noisy
neighbour hits both alike: ``on`` as shipped (bot.tuning: the garbage collector frozen after
start-up with raised thresholds, the worker pool sized for the load; SQLite writers queued on the
in-process writer lock) and ``off`` with those switched off (``ARBOT_GC=default``,
``ARBOT_WORKERS=6``, ``ARBOT_DB_WRITER_LOCK=off``, ``ARBOT_SWITCH_INTERVAL_MS=5``). Each server reports its garbage
collections (count and pause by generation) and its CPU per reply; on PostgreSQL (on this
machine) also the CPU of the database backends that served it (bench.backend_cpu).

``--baseline DIR`` adds a server run from another checkout of the code (a worktree of the
commit before a change, say), tuned as ``on``, taking its turns with the others: a change is
measured side by side with the version before under the same noise.

    python -m bench.bench_teams_latency [--seconds 60] [--rate 50] [--skip on|off] [--also NAME:KEY=VALUE]
                                        [--baseline DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import logging
import multiprocessing
import os
import statistics
import sys
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event

import aiohttp
from aiohttp import web

from bench.backend_cpu import BackendCpu, app_name
from bench.cache import throwaway_database
from bot.settings import EXAMPLE_TEAM_FILE
from commands.calendar import BusinessCalendar
from commands.clock import SystemClock
from commands.context import AppContext
from commands.team import Team, sync_members, team_from_dict
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Customer, Invoice, InvoiceKind, TeamMember

COLLECTORS = tuple(f"collector{n:02d}@example.com" for n in range(50))
CUSTOMERS = 500
ROUND_SECONDS = 10
VARIANTS: dict[str, dict[str, str]] = {
    "on": {},
    "off": {
        "ARBOT_GC": "default",
        "ARBOT_WORKERS": "6",
        "ARBOT_DB_WRITER_LOCK": "off",
        "ARBOT_SWITCH_INTERVAL_MS": "5",
    },
}
_IDS = itertools.count(1)  # activity ids unique across rounds and servers (a repeat would be dropped)


def _team() -> Team:
    data = tomllib.loads(EXAMPLE_TEAM_FILE.read_text(encoding="utf-8"))
    data["members"] += [
        {"email": email, "name": f"Collector {n}", "roles": ["collector"]} for n, email in enumerate(COLLECTORS)
    ]
    for member in data["members"]:
        member["teams_id"] = "29:" + member["email"].split("@")[0]
    return team_from_dict(data)


def _context(url: str) -> AppContext:
    team = _team()
    return AppContext(
        sessions=make_session_factory(make_engine(url)),
        team=team,
        calendar=BusinessCalendar(team.country),
        clock=SystemClock(),
    )


def _seed(url: str) -> None:
    upgrade(make_engine(url))
    ctx = _context(url)
    with ctx.sessions.begin() as session:
        sync_members(session, ctx.team)
        ids = dict(session.query(TeamMember.email, TeamMember.id).all())
        created = datetime(2026, 10, 1, tzinfo=UTC)
        for n in range(CUSTOMERS):
            customer = Customer(
                erp_id=f"B{n:04d}",
                name=f"Bench Customer {n:04d}",
                currency="USD",
                created_at=created,
                collector_id=ids[COLLECTORS[n % len(COLLECTORS)]],
            )
            session.add(customer)
            session.flush()
            for i in range(3):
                session.add(
                    Invoice(
                        customer_id=customer.id,
                        number=f"B{n:04d}-{i}",
                        kind=InvoiceKind.STANDARD,
                        due_date=date(2026, 9 + i, 1),
                        amount=Decimal("1000.00"),
                        open_balance=Decimal("1000.00") - i,
                        currency="USD",
                    )
                )
    ctx.sessions.kw["bind"].dispose()


def _serve_bot(url: str, environ: dict[str, str], ready: Queue, stop: Event) -> None:  # type: ignore[type-arg]
    """The bot's own process: the Teams endpoint on a free port until told to stop; then its
    garbage collections go back through ``ready``."""
    os.environ.update(environ)
    from bot.platforms import lazy
    from bot.server import ServerSettings, build_web_app, tuned

    logging.getLogger("bot.teams.web").setLevel(logging.ERROR)  # the --dev warning, once per run is enough
    ctx = _context(url)
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started: list[float] = []

    def timed(phase: str, info: dict[str, int]) -> None:
        """CPU time of each collection (the collecting thread's: wall time would count the
        moments the machine's other work had the core)."""
        if phase == "start":
            started[:] = [time.thread_time()]
        elif started:
            pauses[info["generation"]].append((time.thread_time() - started[0]) * 1000)

    async def run() -> None:
        app = tuned(build_web_app(ctx, ServerSettings(dev=True), endpoints={"teams": lazy("teams")}))
        runner, bot_url = await _start(app)
        gc.callbacks.append(timed)
        cpu_at_start = time.process_time()
        ready.put(bot_url)
        while not stop.is_set():
            await asyncio.sleep(0.1)
        gc.callbacks.remove(timed)
        by_generation = {generation: (len(ms), sum(ms), max(ms, default=0.0)) for generation, ms in pauses.items()}
        ready.put(ServerReport(by_generation, time.process_time() - cpu_at_start))
        await runner.cleanup()

    asyncio.run(run())


@dataclass(frozen=True)
class ServerReport:
    """What a server process says when it stops: its garbage collections (count, CPU ms in all,
    longest, by generation) and the CPU seconds it spent serving (all its threads, warm-up
    included): CPU per reply depends far less on what else runs on the machine than latency."""

    collections: dict[int, tuple[int, float, float]]
    cpu: float


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
    try:
        async with aiohttp.ClientSession() as http:

            async def one(n: int) -> None:
                nonlocal failures
                email = COLLECTORS[n % len(COLLECTORS)]
                erp = f"B{(n * 7) % CUSTOMERS:04d}"
                text = f"log {erp} voicemail" if n % 10 < 3 else f"status {erp}"
                activity_id = f"bench-{next(_IDS)}"
                user = "29:" + email.split("@")[0]
                waiter = asyncio.get_running_loop().create_future()
                connector.waiting[activity_id] = waiter
                body = {
                    "type": "message",
                    "id": activity_id,
                    "channelId": "msteams",
                    "text": text,
                    "serviceUrl": teams_url + "/",
                    "from": {"id": user},
                    "recipient": {"id": "28:arbot", "name": "arbot"},
                    "channelData": {"tenant": {"id": "t"}},
                    "conversation": {"id": f"a:{user}", "conversationType": "personal", "tenantId": "t"},
                }
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


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_teams_latency")
    parser.add_argument("--seconds", type=float, default=60.0, help="load offered to each server (default 60)")
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second (default 50)")
    parser.add_argument(
        "--skip", action="append", default=[], choices=tuple(VARIANTS), help="leave out the `on` or the `off` server"
    )
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE[;KEY=VALUE]",
        help="a further server, tuned as `on` but for these variables, `;` between (e.g. "
        "young:ARBOT_GC_THRESHOLDS=700,10,10)",
    )
    parser.add_argument("--baseline", metavar="DIR", help="also a server run from the checkout in DIR, tuned as `on`")
    args = parser.parse_args(argv if argv is not None else [])
    roots = {"baseline": os.path.abspath(args.baseline)} if args.baseline else {}
    if args.baseline:
        VARIANTS["baseline"] = {}
    for extra in args.also:
        name, _, settings = extra.partition(":")
        VARIANTS[name] = dict(item.split("=", 1) for item in settings.split(";") if item)
    variants = [name for name in VARIANTS if name not in args.skip]
    overrides = {name: VARIANTS[name] for name in variants}
    rounds = max(1, round(args.seconds / ROUND_SECONDS))
    postgres = bool(os.environ.get("BENCH_DATABASE_URL"))
    where = "PostgreSQL" if postgres else "SQLite"
    if postgres:
        overrides = {name: {**env, "PGAPPNAME": app_name(name)} for name, env in overrides.items()}
    backends: dict[str, float] = {}
    results: dict[str, tuple[list[float], int, float]] = {v: ([], 0, 0.0) for v in variants}
    with throwaway_database("teams") as url:
        _seed(url)
        spawn = multiprocessing.get_context("spawn")
        servers, urls, reports, served = {}, {}, {}, dict.fromkeys(variants, 0)
        for variant in variants:
            ready, stop = spawn.Queue(), spawn.Event()
            process = spawn.Process(target=_serve_bot, args=(url, overrides[variant], ready, stop), daemon=True)
            servers[variant] = (process, ready, stop)
            _start_from(process, roots.get(variant))
        sampler = BackendCpu(url, [app_name(v) for v in variants]) if postgres else None
        try:
            for variant, (_, ready, _) in servers.items():
                urls[variant] = ready.get(timeout=120)
            if sampler:
                sampler.start()
            for variant in variants:
                warm, _, _ = asyncio.run(measure(urls[variant], 2, args.rate))  # first imports, pools, caches
                served[variant] += len(warm)
            if sampler:
                sampler.reset()
            for _ in range(rounds):
                for variant in variants:
                    got, failed, took = asyncio.run(measure(urls[variant], args.seconds / rounds, args.rate))
                    ms, failures, elapsed = results[variant]
                    results[variant] = (ms + got, failures + failed, elapsed + took)
                    served[variant] += len(got)
            if sampler:
                backends = {v: sampler.stop()[app_name(v)] for v in variants}
        finally:
            for variant, (process, ready, stop) in servers.items():
                stop.set()
                try:
                    reports[variant] = ready.get(timeout=30)
                except Exception:
                    reports[variant] = ServerReport({}, float("nan"))
                process.join(timeout=30)
    print(
        f"Teams message -> reply over HTTP, {args.rate:g} req/s offered for {args.seconds:g} s per server "
        f"in {rounds} alternating rounds ({where}):"
    )
    for variant in variants:
        _report(variant, *results[variant], reports[variant], served[variant])
        if variant in backends:
            replies = len(results[variant][0])
            print(
                f"    database backends' CPU {backends[variant]:.1f} s after warm-up: "
                f"{backends[variant] / max(replies, 1) * 1000:.2f} ms per reply"
            )
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _start_from(process: multiprocessing.process.BaseProcess, root: str | None) -> None:
    """Start the server process; with ``root``, from the code in that checkout (a spawned
    process imports by the parent's ``sys.path`` as it was at start)."""
    if root is not None:
        sys.path.insert(0, root)
    try:
        process.start()
    finally:
        if root is not None:
            sys.path.remove(root)


def _report(
    variant: str,
    latencies: list[float],
    failures: int,
    elapsed: float,
    server: ServerReport,
    served: int,
) -> None:
    ms = sorted(v * 1000 for v in latencies)
    print(f"  {variant}: replies {len(ms)}, failures {failures}, achieved {len(ms) / max(elapsed, 1e-9):.1f} replies/s")
    per_reply = server.cpu / max(served, 1) * 1000
    print(f"    server CPU {server.cpu:.1f} s for {served} replies (warm-up included): {per_reply:.2f} ms per reply")
    if ms:
        print(f"    latency p50 {_percentile(ms, 50):.1f} ms, p99 {_percentile(ms, 99):.1f} ms, max {ms[-1]:.1f} ms")
    for generation, (count, total, longest) in sorted(server.collections.items()):
        print(
            f"    gc generation {generation}: {count} collections, {total:.0f} ms CPU in all, longest {longest:.1f} ms"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
