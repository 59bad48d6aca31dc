"""The soak's world: ten collectors with 300 past-due accounts each on a fresh database (SQLite,
or a throwaway PostgreSQL database), the server as ``arbot serve`` builds it, and the fake Slack,
each in a process of its own (bench.bench_soak)."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

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


EXTRA = [(f"U0COL{n:02d}", f"collector{n:02d}@example.com", f"Collector {n:02d}") for n in range(4, COLLECTORS + 1)]


SLACK_IDS = {
    "dana.reyes@example.com": "U0DANA",
    "sam.okafor@example.com": "U0SAM",
    "lee.marsh@example.com": "U0LEE",
    **{email: uid for uid, email, _ in EXTRA},
}


MIX = ("list", "status", "list", "promise", "list", "log")  # half `list`


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
