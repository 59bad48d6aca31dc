"""A long Teams message goes out as pages; when a later page fails, the retry sends only the
pages that did not go out. Dana's 75-account list through the outbox to her personal chat, over
real HTTP to a fake Bot Connector that fails the second page once with a 500: page 1 is in her
chat once, every account once in order, and the message tracked is still page 1."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import aiohttp
from aiohttp import web
from sqlalchemy import select

from commands.context import AppContext
from commands.messages import ChatUser, Incoming, Where
from commands.outbox import enqueue
from commands.outbox.dispatch import BACKOFF_CAP_SECONDS
from commands.router import handle
from storage.models import OutboxEntry
from tests.support.teams_http import FakeConnector, activity, bot_and_teams, delivered, posted_id, run
from tests.support.teams_pages import DANA, demo_team, every_account_once


@dataclass
class FailsOnce(FakeConnector):
    """Answers 500 to the ``nth`` send it receives (counting from 1), once."""

    nth: int = 0

    async def _send(self, request: web.Request) -> web.Response:
        if self.attempts + 1 == self.nth:
            self.attempts += 1
            return web.json_response({"error": {"code": "ServiceError", "message": "try again"}}, status=500)
        return await super()._send(request)


def test_a_teams_list_whose_second_page_failed_sends_only_the_rest_on_retry(ctx: AppContext) -> None:
    base = demo_team(ctx)
    connector = FailsOnce()
    [listing] = handle(
        base, Incoming(user=ChatUser("teams", "29:dana.reyes", DANA), where=Where(f"dm:{DANA}"), text="list")
    )

    async def scenario() -> None:
        async with bot_and_teams(base, connector) as (bot, teams, app), aiohttp.ClientSession() as http:
            await http.post(bot + "/api/messages", json=activity(teams, text="help"))  # Dana's chat is known
            before = len(connector.sent)
            connector.nth = connector.attempts + 2  # the list's second page
            with base.sessions.begin() as session:
                [queued] = enqueue(session, base, [replace(listing, to_user=DANA, track="list:dana")])
            await delivered(app)
            entry = await asyncio.to_thread(_entry, base, queued.key)
            assert entry.status == "pending" and entry.attempts == 1
            assert list(entry.parts_sent or {}) == ["0"], "page 1 went out and is remembered"
            assert len(connector.sent) == before + 1

            base.clock.advance(seconds=BACKOFF_CAP_SECONDS)  # type: ignore[attr-defined]
            await delivered(app)
            pages = connector.sent[before:]
            assert {conversation for conversation, _ in pages} == {"a:dana"}
            every_account_once([body["attachments"][0]["content"] for _, body in pages])
            first_id = connector.wire[before][0]
            assert await asyncio.to_thread(posted_id, base, "list:dana") == first_id
            assert (await asyncio.to_thread(_entry, base, queued.key)).status == "sent"

    run(scenario)


def _entry(ctx: AppContext, key: str) -> OutboxEntry:
    with ctx.sessions() as session:
        return session.scalars(select(OutboxEntry).where(OutboxEntry.key == key)).one()
