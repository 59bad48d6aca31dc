"""The outbox against a fake Slack, for the outbox's own tests: the real SlackMessenger and
SlackIdentity on the real slack_sdk client (built as ``arbot serve`` builds it for the outbox),
talking HTTP to :class:`tests.support.slack.FakeSlack`, whose timestamps follow the test's
clock. And the checks those tests share: what the fake shows, per outbox entry."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from sqlalchemy import select

from bot.slack.earlier_posts import OUTBOX_EVENT
from bot.slack.identity import SlackIdentity
from bot.slack.messenger import SlackMessenger, web_client
from bot.slack.settings import SlackSettings
from commands.context import AppContext
from commands.messages import Reply, Where
from commands.outbox import Dispatcher, enqueue
from storage.models import OutboxEntry
from tests.support.slack import SECRET, FakeSlack, LoopThread

CLIENT_TIMEOUT = 1.0  # seconds the outbox client waits for Slack here: above a loaded machine's slowest real answer


class SlackOutbox:
    """A fake Slack and the outbox's Slack sender, for one test. :meth:`restarted` gives a
    dispatcher as a fresh process would have it (nothing cached in memory)."""

    def __init__(self, ctx: AppContext, **fake: Any) -> None:
        self.ctx = dataclasses.replace(ctx, platforms=("slack",))
        self.loop = LoopThread()
        self.fake = FakeSlack(clock=ctx.clock.now, hang_seconds=CLIENT_TIMEOUT * 3, **fake)
        self.loop.run(self.fake.start())

    def messenger(self) -> SlackMessenger:
        settings = SlackSettings(bot_token="xoxb-test", signing_secret=SECRET, api_url=self.fake.api_url)
        client = web_client(settings, outbox=True)
        client.timeout = CLIENT_TIMEOUT  # type: ignore[assignment]
        return SlackMessenger(client, SlackIdentity(client, self.ctx))

    def restarted(self, **options: Any) -> Dispatcher:
        """A dispatcher in a new process: its own messenger, no memory of earlier rounds."""
        return Dispatcher(self.ctx, {"slack": self.messenger()}, **{"pacing": {}, **options})

    def close(self) -> None:
        self.loop.run(self.fake.stop())
        self.loop.close()

    def queue(self, replies: list[Reply], *, origin: str | None = None) -> list[str]:
        """Queue ``replies`` as a use case would, in one transaction; returns their keys."""
        with self.ctx.sessions.begin() as session:
            return [e.key for e in enqueue(session, self.ctx, replies, origin=origin)]


def direct(email: str, title: str) -> Reply:
    return Reply(title=title, to_user=email)


def post(channel: str, title: str) -> Reply:
    return Reply(title=title, where=Where(channel))


def landed(fake: FakeSlack) -> Counter[str]:
    """How many times each outbox entry's first message shows in Slack (any conversation)."""
    seen: Counter[str] = Counter()
    for message in fake.posted():
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == OUTBOX_EVENT and payload.get("part", 0) == 0:
            seen[str(payload["key"])] += 1
    return seen


def entries(ctx: AppContext) -> dict[str, OutboxEntry]:
    with ctx.sessions() as session:
        return {e.key: e for e in session.scalars(select(OutboxEntry).order_by(OutboxEntry.id))}


def statuses(ctx: AppContext) -> dict[str, str]:
    return {key: e.status for key, e in entries(ctx).items()}


def exactly_once(ctx: AppContext, fake: FakeSlack) -> list[str]:
    """What breaks "every entry that posts a message is in Slack exactly once, and nothing
    else is": a list of problems, empty when all is well."""
    expected = {key for key, e in entries(ctx).items() if e.platform == "slack" and e.kind != "update"}
    seen = landed(fake)
    problems = [f"{key}: in Slack {seen[key]} times" for key in sorted(expected) if seen[key] != 1]
    problems += [f"{key}: in Slack but not an outbox entry" for key in sorted(set(seen) - expected)]
    untagged = [m for m in fake.posted() if (m.get("metadata") or {}).get("event_type") != OUTBOX_EVENT]
    problems += [f"posted without an outbox key: {m.get('text')!r}" for m in untagged]
    return problems


# -- a dispatcher in its own process, to kill -9 --------------------------------------------


def child_command(ctx: AppContext, fake: FakeSlack, *, lease_seconds: float, client_timeout: float) -> list[str]:
    """The command line of a separate dispatcher process on this test's database and fake
    Slack, at the test clock's instant, doing one round (:func:`child_round`)."""
    import sys

    url = ctx.sessions.kw["bind"].url.render_as_string(hide_password=False)
    return [
        sys.executable,
        "-m",
        "tests.support.outbox",
        url,
        fake.api_url,
        ctx.clock.now().isoformat(),
        str(lease_seconds),
        str(client_timeout),
    ]


def child_round(url: str, api_url: str, now: str, lease_seconds: str, client_timeout: str) -> None:
    """What a dispatcher in another process does: one round, then exit."""
    from datetime import datetime

    from bot.settings import EXAMPLE_TEAM_FILE
    from commands.calendar import BusinessCalendar
    from commands.clock import FixedClock
    from commands.team import load_team
    from storage.db import make_engine, make_session_factory

    team = load_team(EXAMPLE_TEAM_FILE)
    ctx = AppContext(
        sessions=make_session_factory(make_engine(url)),
        team=team,
        calendar=BusinessCalendar(team.country),
        clock=FixedClock(datetime.fromisoformat(now)),
        platforms=("slack",),
    )
    settings = SlackSettings(bot_token="xoxb-test", signing_secret=SECRET, api_url=api_url)
    client = web_client(settings, outbox=True)
    client.timeout = float(client_timeout)  # type: ignore[assignment]
    messenger = SlackMessenger(client, SlackIdentity(client, ctx))
    Dispatcher(ctx, {"slack": messenger}, pacing={}, workers=1, lease_seconds=float(lease_seconds)).run_once()


if __name__ == "__main__":
    import sys

    child_round(*sys.argv[1:6])
