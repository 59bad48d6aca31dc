"""The bench morning's world: 20 collectors' team, their past-due portfolio on a fresh database
(and, unless it is the first morning, what earlier mornings left), a clock at Monday 08:00:30 in
Chicago moving with real time, and a fake Slack in its own process that enforces one message a
second per channel and answers a seeded share of posts 429 (bench.bench_morning_post)."""

from __future__ import annotations

import random
import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from bot.settings import EXAMPLE_TEAM_FILE
from commands.calendar import BusinessCalendar
from commands.context import AppContext
from commands.team import Team, sync_members, team_from_dict
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Customer, Invoice, InvoiceKind, TeamMember

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
