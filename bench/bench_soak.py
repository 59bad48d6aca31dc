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
import os
import random
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.soak_report import Arrival, Record, outcome, parts_total, report
from bench.soak_world import (
    ACCOUNTS,
    DRAIN_SECONDS,
    MIX,
    SAMPLE_SECONDS,
    SECRET,
    SLACK_IDS,
    TARGET_P99_S,
    TODAY,
    database,
    fake_slack,
    process,
    serve,
    team_file,
)

# The example team's three collectors and seven more, with the Slack ids the fake knows them by.


# -- the team and the database ------------------------------------------------------------------


# -- the server and the fake Slack, each in a process of its own --------------------------------


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


def answer_app(record: Record) -> web.Application:
    async def arrived(request: web.Request) -> web.Response:
        now = time.monotonic()
        body = await request.json()
        record.arrivals[int(request.match_info["n"])].append(Arrival(now, str(body.get("text") or "")))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/answer/{n}", arrived)
    return app


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
        if seen.answer_at is None or seen.parts < parts_total(record.arrivals[item.n][-1].text):
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
