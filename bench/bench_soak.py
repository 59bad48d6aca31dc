"""Soak: `arbot serve` answering Slack at a steady rate for minutes, half of it `list`.

The server runs as ``arbot serve`` builds it (bot.server.build_web_app, tuned), in its own
process, against the fake Slack Web API in another; SQLite in a temporary folder by default, with
``BENCH_DATABASE_URL`` (a PostgreSQL server) a throwaway database made there. The team is
``COLLECTORS`` collectors with ``ACCOUNTS`` past-due accounts each (a few open and closed invoices
apiece), so a `list` ranks a real portfolio.

The load is open-loop, as Slack sends: ``--rate`` signed slash commands a second for
``--seconds``, each from one of the collectors (their Slack ids resolve to team emails through
the fake's ``users.info``), about one's own accounts: half ``list``, the rest ``status``,
``promise`` and ``log`` in turn. The promises and calls change the ledger for that collector, so
their kept lists (commands.calllist.reuse) are ranked again as they would be in a working day.

Every request has its own ``response_url`` (``/answer/<n>``) on a small server inside the load
generator, which notes when each message arrives. Per request: the acknowledgement (the HTTP
answer to the slash command) and the answer (from sending to the arrival of the answer, the
last part when it came in several). Busy notices (bot.runtime.backlog: "your answer should come
in about N seconds") and turn-aways are counted apart; an answer missing or shown twice is
counted. The server's resident memory is read from /proc every 5 s and its CPU time at the end.

    python -m bench.bench_soak [--seconds 300] [--rate 50] [--before]

``--before`` runs the same load again against the server as it was before one ranking per list
at a time (commands.calllist.reuse), on a fresh database, right after."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import sys
import tempfile
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import insert, select, text

from bench.cache import throwaway_database
from bot.settings import EXAMPLE_TEAM_FILE
from commands.team import load_team, sync_members
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Customer, Invoice, InvoiceKind, TeamMember
from storage.open_items import rebuild_packs

MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 09:00 in Chicago
TODAY = date(2026, 11, 23)
COLLECTORS = 10
ACCOUNTS = 300  # past-due accounts per collector
SECRET = "bench-soak-signing-secret"
SAMPLE_SECONDS = 5.0
SLOPE_SECONDS = 240.0  # RSS slope over the last 4 minutes
DRAIN_SECONDS = 150.0  # after the last request: how long answers are waited for
TARGET_P99_S = 2.0
BUSY = re.compile(r"Busy right now: your answer should come in about (\d+) seconds")
TURNED_AWAY = "more requests than I can answer"
# The example team's three collectors and seven more, with the Slack ids the fake knows them by.
EXTRA = [(f"U0COL{n:02d}", f"collector{n:02d}@example.com", f"Collector {n:02d}") for n in range(4, COLLECTORS + 1)]
SLACK_IDS = {
    "dana.reyes@example.com": "U0DANA",
    "sam.okafor@example.com": "U0SAM",
    "lee.marsh@example.com": "U0LEE",
    **{email: uid for uid, email, _ in EXTRA},
}
MIX = ("list", "status", "list", "promise", "list", "log")  # half `list`


# -- the team and the database ------------------------------------------------------------------


def team_file(folder: Path) -> Path:
    """The example team with seven more collectors."""
    path = folder / "soak_team.toml"
    extra = "".join(
        f'\n[[members]]\nemail = "{email}"\nname = "{name}"\nroles = ["collector"]\n' for _, email, name in EXTRA
    )
    path.write_text(EXAMPLE_TEAM_FILE.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


@contextmanager
def database(team: Path) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """A migrated, seeded database; yields its URL and each collector's account ids (ERP)."""
    with throwaway_database("soak") as url:
        yield url, _prepare(url, team)


def _prepare(url: str, team_path: Path) -> dict[str, list[str]]:
    """Each collector's ACCOUNTS customers: 1-6 open invoices (mostly past due, some final or
    recurring, now and then a credit memo) and a few closed ones for payment history."""
    rng = random.Random(20261123)
    engine = make_engine(url)
    upgrade(engine)
    team = load_team(team_path)
    accounts: dict[str, list[str]] = {}
    with make_session_factory(engine).begin() as session:
        sync_members(session, team)
        ids = {m.email: m.id for m in session.scalars(select(TeamMember))}
        customers, invoices = [], []
        n = 0
        for member in team.collectors:
            accounts[member.email] = []
            for _ in range(ACCOUNTS):
                n += 1
                erp = f"S{n:05d}"
                accounts[member.email].append(erp)
                customers.append(
                    {
                        "id": n,
                        "erp_id": erp,
                        "name": f"Soak Customer {n:05d}",
                        "collector_id": ids[member.email],
                        "currency": "USD",
                        "created_at": MONDAY,
                    }
                )
                for k in range(rng.randint(1, 6)):
                    kind = rng.choices(
                        [InvoiceKind.STANDARD, InvoiceKind.RECURRING, InvoiceKind.FINAL, InvoiceKind.CREDIT_MEMO],
                        [0.75, 0.12, 0.05, 0.08],
                    )[0]
                    cents = rng.randint(5_000, 2_500_000) * (-1 if kind is InvoiceKind.CREDIT_MEMO else 1)
                    invoices.append(
                        {
                            "customer_id": n,
                            "number": f"{erp}-{k}",
                            "kind": kind,
                            "due_date": TODAY - timedelta(days=rng.randint(-20, 200)),
                            "amount": Decimal(cents) / 100,
                            "open_balance": Decimal(cents) / 100,
                            "currency": "USD",
                            "closed_on": None,
                        }
                    )
                for k in range(rng.randint(0, 4)):
                    due = TODAY - timedelta(days=rng.randint(60, 500))
                    invoices.append(
                        {
                            "customer_id": n,
                            "number": f"{erp}-P{k}",
                            "kind": InvoiceKind.STANDARD,
                            "due_date": due,
                            "amount": Decimal(rng.randint(5_000, 900_000)) / 100,
                            "open_balance": Decimal(0),
                            "currency": "USD",
                            "closed_on": due + timedelta(days=rng.randint(-5, 60)),
                        }
                    )
        session.execute(insert(Customer), customers)
        session.execute(insert(Invoice), invoices)
    with engine.begin() as conn:
        rebuild_packs(conn)  # the rows went in around the ORM, as bench_calllist's do
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SELECT setval('customers_id_seq', (SELECT max(id) FROM customers))"))
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return accounts


# -- the server and the fake Slack, each in a process of its own --------------------------------


def serve(db_url: str, team_path: str, api_url: str, before: bool, ports: Any) -> None:
    """The server; ``before``: as it was before one ranking per list at a time (each request
    that finds its list stale ranks it, however many rank the same list at once)."""
    import logging

    if before:
        from contextlib import nullcontext

        from commands.calllist.reuse import CallListCache

        CallListCache._ranking = lambda self, key: nullcontext()  # type: ignore[assignment,method-assign,misc,return-value]
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(_serve(db_url, team_path, api_url, ports))


async def _serve(db_url: str, team_path: str, api_url: str, ports: Any) -> None:
    from bot.server import MOUNTED, ServerSettings, build_web_app, listening, tuned
    from bot.slack.settings import SlackSettings
    from commands.calendar import BusinessCalendar
    from commands.clock import FixedClock
    from commands.context import AppContext

    team = load_team(Path(team_path))
    ctx = AppContext(
        sessions=make_session_factory(make_engine(db_url)),
        team=team,
        calendar=BusinessCalendar(team.country),
        clock=FixedClock(MONDAY),
    )
    front = SlackSettings.from_env().front  # on unless ARBOT_SLACK_FRONT=off, as for `arbot serve`
    slack = SlackSettings(bot_token="xoxb-bench", signing_secret=SECRET, api_url=api_url, front=front)
    app = tuned(build_web_app(ctx, ServerSettings(slack=slack)))
    runtime = app[MOUNTED]["slack"].background

    async def stats(_request: web.Request) -> web.Response:
        """The bench's own window into the server: lists ranked (the rest were reused) and
        requests inside the backlog now."""
        lists, inside = ctx.call_lists, runtime.chat.backlog.inside  # type: ignore[union-attr]
        return web.json_response({"computed": lists.computed, "incremental": lists.incremental, "inside": inside})

    app.router.add_get("/bench/stats", stats)
    async with listening(app, "127.0.0.1", 0) as port:  # behind its front, as `arbot serve` runs
        ports.put(port)
        await asyncio.Event().wait()


def fake_slack(users: dict[str, str], urls: Any) -> None:
    from tests.support.slack import FakeSlack

    async def run() -> None:
        fake = FakeSlack(users=users)
        await fake.start()
        urls.put(fake.url)
        await asyncio.Event().wait()

    asyncio.run(run())


@contextmanager
def process(target: Any, *args: Any) -> Iterator[tuple[int, Any]]:
    """Run ``target(*args, queue)`` in a fresh process; yield its pid and the first thing it puts."""
    spawn = multiprocessing.get_context("spawn")
    queue = spawn.Queue()
    child = spawn.Process(target=target, args=(*args, queue), daemon=True)
    child.start()
    try:
        yield child.pid or 0, queue.get(timeout=120)
    finally:
        child.terminate()
        child.join(10)


# -- the load -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    n: int
    at: float  # monotonic send time
    command: str  # list, status, promise, log
    body: bytes
    headers: dict[str, str]


def plan(count: int, rate: float, start_at: float, answer_base: str, accounts: dict[str, list[str]]) -> list[Planned]:
    """Requests 0..count-1, prepared and signed before the clock starts. Promises and calls walk
    through each collector's accounts, so none is refused as a second promise that day."""
    from tests.support.slack import fixture, sign

    rng = random.Random(7)
    emails = sorted(accounts)
    writes: Counter[str] = Counter()
    out = []
    for n in range(count):
        email = rng.choice(emails)
        command = MIX[n % len(MIX)]
        mine = accounts[email]
        if command in ("promise", "log"):
            k = writes[email]
            writes[email] += 1
            customer = mine[k % len(mine)]
        else:
            customer = rng.choice(mine)
        if command == "list":
            words = "list"
        elif command == "status":
            words = f"status {customer}"
        elif command == "promise":
            day = TODAY + timedelta(days=1 + (writes[email] // len(mine)) % 80)
            words = f"promise {customer} 50 {day.isoformat()}"
        else:
            words = f"log {customer} reached soak call about the open items"
        at = start_at + n / rate
        body = urllib.parse.urlencode(
            {
                **fixture("slash_command"),
                "user_id": SLACK_IDS[email],
                "command": "/ar",
                "text": words,
                "response_url": f"{answer_base}/answer/{n}",
                "trigger_id": f"soak.{n}",
            }
        )
        stamp = int(time.time() + (at - time.monotonic()))
        out.append(
            Planned(
                n,
                at,
                command,
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
class Arrival:
    at: float
    text: str


@dataclass
class Record:
    """What happened to the requests, by number."""

    sent: dict[int, float] = field(default_factory=dict)
    ack_s: dict[int, float] = field(default_factory=dict)
    ack_errors: int = 0
    late_s: float = 0.0  # how far behind its schedule the latest request left (open-loop fidelity)
    arrivals: dict[int, list[Arrival]] = field(default_factory=lambda: defaultdict(list))


def answer_app(record: Record) -> web.Application:
    async def arrived(request: web.Request) -> web.Response:
        now = time.monotonic()
        body = await request.json()
        record.arrivals[int(request.match_info["n"])].append(Arrival(now, str(body.get("text") or "")))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/answer/{n}", arrived)
    return app


@dataclass(frozen=True)
class Outcome:
    """One request's answer as the person saw it."""

    answer_at: float | None  # arrival of the answer's last part
    parts: int  # answer messages (a long list comes in several)
    duplicated: bool
    notice_s: int | None  # the wait a busy notice announced
    turned_away: bool


def outcome(arrivals: list[Arrival]) -> Outcome:
    notice, away, answers = None, False, []
    for arrival in arrivals:
        busy = BUSY.search(arrival.text)
        if busy:
            notice = int(busy.group(1))
        elif TURNED_AWAY in arrival.text:
            away = True
        else:
            answers.append(arrival)
    texts = Counter(a.text for a in answers)
    total = _parts_total(answers[0].text) if answers else 0
    duplicated = any(c > 1 for c in texts.values()) or len(answers) > max(total, 1)
    return Outcome(max((a.at for a in answers), default=None), len(answers), duplicated, notice, away)


def _parts_total(fallback: str) -> int:
    """A reply sent in parts says so in each fallback text: "Title (2/3)"."""
    found = re.search(r"\((\d+)/(\d+)\)$", fallback)
    return int(found.group(2)) if found else 1


class Sampler:
    """The server's resident memory every SAMPLE_SECONDS, and its CPU time, from /proc (with its
    front's, bot.slack.front, which acknowledges Slack in a process of its own)."""

    def __init__(self, pid: int, stats_url: str = "") -> None:
        self.pid = pid
        self.stats_url = stats_url
        self.samples: list[tuple[float, float]] = []  # (monotonic, MiB)
        self.inside: list[int] = []  # requests inside the server's backlog, at each sample
        self.computed = 0  # lists ranked by the server (the others were reused)
        self.incremental = 0  # of those, ranked again for the changed accounts only
        self._stop = asyncio.Event()

    def family(self) -> list[int]:
        """The server and the processes it started (its Slack front): their memory and CPU count."""
        threads = Path(f"/proc/{self.pid}/task").iterdir()  # a child is listed under the thread that started it
        return [self.pid, *(int(child) for thread in threads for child in (thread / "children").read_text().split())]

    def rss_mib(self) -> float:
        total = 0.0
        for pid in self.family():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        return total

    def cpu_s(self) -> float:
        ticks = 0
        for pid in self.family():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    async def run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), self.rss_mib()))
            await self._server_stats()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), SAMPLE_SECONDS)

    async def _server_stats(self) -> None:
        if not self.stats_url:
            return
        try:
            async with aiohttp.ClientSession() as session, session.get(self.stats_url) as response:
                body = await response.json()
        except aiohttp.ClientError:
            return
        self.inside.append(int(body["inside"]))
        self.computed = int(body["computed"])
        self.incremental = int(body.get("incremental", 0))

    def stop(self) -> None:
        self.samples.append((time.monotonic(), self.rss_mib()))
        self._stop.set()


async def drive(server_url: str, planned: list[Planned], record: Record, sampler: Sampler) -> float:
    """Send every request at its time; then wait until each has its answer (or a turn-away), or
    DRAIN_SECONDS have passed. Returns the seconds waited after the last send."""
    sampling = asyncio.create_task(sampler.run())
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def send(item: Planned) -> None:
            await asyncio.sleep(max(0.0, item.at - time.monotonic()))
            sent = time.monotonic()
            record.sent[item.n] = sent
            record.late_s = max(record.late_s, sent - item.at)
            try:
                async with session.post(server_url, data=item.body, headers=item.headers) as response:
                    await response.read()
                    record.ack_errors += response.status != 200
            except aiohttp.ClientError:
                record.ack_errors += 1
                return
            record.ack_s[item.n] = time.monotonic() - sent

        await asyncio.gather(*(send(item) for item in planned))
    last_send = time.monotonic()
    while time.monotonic() - last_send < DRAIN_SECONDS and not _all_answered(planned, record):
        await asyncio.sleep(0.2)
    await asyncio.sleep(2.0)  # a duplicate would come soon after the first
    drained = time.monotonic() - last_send
    await sampler._server_stats()
    sampler.stop()
    await sampling
    return drained


def _all_answered(planned: list[Planned], record: Record) -> bool:
    for item in planned:
        seen = outcome(record.arrivals.get(item.n, []))
        if seen.turned_away:
            continue
        if seen.answer_at is None or seen.parts < _parts_total(record.arrivals[item.n][-1].text):
            return False
    return True


async def soak(
    server_url: str, server_pid: int, count: int, rate: float, accounts: dict[str, list[str]]
) -> tuple[list[Planned], Record, Sampler, float]:
    record = Record()
    runner = web.AppRunner(answer_app(record), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    answer_base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    planned = plan(count, rate, time.monotonic() + 1.0, answer_base, accounts)
    sampler = Sampler(server_pid, server_url.replace("/slack/events", "/bench/stats"))
    try:
        drained = await drive(server_url, planned, record, sampler)
    finally:
        await runner.cleanup()
    return planned, record, sampler, drained


# -- the report ---------------------------------------------------------------------------------


def pct(ordered: list[float], p: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def spread(values: list[float]) -> str:
    ordered = sorted(values)
    if not ordered:
        return "n=0"
    return (
        f"n={len(ordered)} p50 {pct(ordered, 50) * 1000:.0f} ms, p99 {pct(ordered, 99) * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    )


def slope_mib_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of the RSS samples over the last SLOPE_SECONDS (MiB a minute)."""
    end = samples[-1][0]
    chosen = [(t, m) for t, m in samples if t >= end - SLOPE_SECONDS]
    if len(chosen) < 2:
        return float("nan")
    mean_t = sum(t for t, _ in chosen) / len(chosen)
    mean_m = sum(m for _, m in chosen) / len(chosen)
    var = sum((t - mean_t) ** 2 for t, _ in chosen)
    return 60 * sum((t - mean_t) * (m - mean_m) for t, m in chosen) / var if var else float("nan")


def report(planned: list[Planned], record: Record, sampler: Sampler, cpu_s: float, drained: float) -> float:
    """Prints the figures; returns the answer p99 in seconds."""
    outcomes = {item.n: outcome(record.arrivals.get(item.n, [])) for item in planned}
    answer_s: dict[int, float] = {
        n: o.answer_at - record.sent[n] for n, o in outcomes.items() if o.answer_at is not None and n in record.sent
    }
    by_minute: dict[int, list[int]] = defaultdict(list)
    for item in planned:
        by_minute[int((item.at - planned[0].at) // 60)].append(item.n)
    for minute, ns in sorted(by_minute.items()):
        print(
            f"  minute {minute + 1}: ack {spread([record.ack_s[n] for n in ns if n in record.ack_s])}; "
            f"answer {spread([answer_s[n] for n in ns if n in answer_s])}"
        )
    print(
        f"ack overall: {spread(list(record.ack_s.values()))}; errors {record.ack_errors}; "
        f"over 3 s: {sum(v > 3 for v in record.ack_s.values())}; "
        f"sends at most {record.late_s * 1000:.0f} ms late"
    )
    print(f"answer overall: {spread(list(answer_s.values()))}")
    for command in sorted({item.command for item in planned}):
        ns = [item.n for item in planned if item.command == command]
        print(f"  {command}: {spread([answer_s[n] for n in ns if n in answer_s])}")
    away = sum(o.turned_away for o in outcomes.values())
    missing = sum(o.answer_at is None and not o.turned_away for o in outcomes.values())
    print(
        f"answered {len(answer_s)}/{len(planned)}; missing {missing}; duplicated "
        f"{sum(o.duplicated for o in outcomes.values())}; turned away {away}; "
        f"in several parts {sum(o.parts > 1 for o in outcomes.values())}; "
        f"waited {drained:.1f} s after the last send"
    )
    notices = [n for n, o in outcomes.items() if o.notice_s is not None]
    if notices:
        announced = Counter(outcomes[n].notice_s for n in notices)
        later = sum(1 for n in notices if n in answer_s and answer_s[n] > (outcomes[n].notice_s or 0))
        never = sum(1 for n in notices if n not in answer_s)
        kept = len(notices) - later - never
        print(
            f"busy notices: {len(notices)} ('Busy right now: your answer should come in about N seconds', "
            f"N: {dict(sorted(announced.items()))}); answered later than announced: {later}, never: {never}; "
            f"kept: {kept} ({kept / len(notices) * 100:.1f}%)"
        )
    else:
        print("busy notices: 0")
    lists = sum(item.command == "list" for item in planned)
    print(
        f"lists asked {lists}, ranked {sampler.computed}, {sampler.incremental} of them for the changed accounts "
        f"only (the rest reused: {(1 - sampler.computed / lists) * 100 if lists else 0:.0f}%); requests inside the "
        f"backlog at the 5 s samples: max {max(sampler.inside, default=0)}, "
        f"last {sampler.inside[-1] if sampler.inside else 0}"
    )
    rss = [m for _, m in sampler.samples]
    print(
        f"server RSS: start {rss[0]:.1f} MiB, max {max(rss):.1f} MiB, end {rss[-1]:.1f} MiB; slope over the "
        f"last {SLOPE_SECONDS / 60:.0f} min {slope_mib_per_min(sampler.samples):+.2f} MiB/min "
        f"({len(rss)} samples)"
    )
    seconds = planned[-1].at - planned[0].at + 1 / (len(planned) / max(planned[-1].at - planned[0].at, 1e-9))
    print(f"server CPU: {cpu_s:.1f} s over {seconds:.0f} s of load ({cpu_s / seconds * 100:.0f}% of one core)")
    return pct(sorted(answer_s.values()), 99)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_soak")
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument(
        "--before",
        action="store_true",
        help="then the same load against the server before one ranking per list at a time",
    )
    args = parser.parse_args([] if argv is None else argv)
    for before in (False, True) if args.before else (False,):
        run(args.seconds, args.rate, before=before)


def run(seconds: float, rate: float, *, before: bool) -> None:
    count = int(seconds * rate)
    users = {uid: email for email, uid in SLACK_IDS.items()}
    with tempfile.TemporaryDirectory() as folder:
        team = team_file(Path(folder))
        with (
            process(fake_slack, users) as (_, fake_url),
            database(team) as (db_url, accounts),
            process(serve, db_url, str(team), f"{fake_url}/api/", before) as (pid, port),
        ):
            where = "PostgreSQL" if db_url.startswith("postgresql") else "SQLite"
            print(
                f"{'BEFORE one ranking per list at a time: ' if before else ''}"
                f"{rate:g} requests/s for {seconds:g} s ({count} requests: half list, the rest "
                f"status, promise, log), {len(accounts)} collectors x {ACCOUNTS} accounts; database: {where}; "
                f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; server pid {pid}",
                flush=True,
            )
            sampler_cpu0 = Sampler(pid).cpu_s()
            planned, record, sampler, drained = asyncio.run(
                soak(f"http://127.0.0.1:{port}/slack/events", pid, count, rate, accounts)
            )
            cpu_s = sampler.cpu_s() - sampler_cpu0
            p99 = report(planned, record, sampler, cpu_s, drained)
    print(f"answer p99 {p99:.2f} s (target <= {TARGET_P99_S:g} s): {'met' if p99 <= TARGET_P99_S else 'NOT met'}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
