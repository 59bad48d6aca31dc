"""Teams over real HTTP: a local fake Bot Connector service, the bot's aiohttp server beside it,
and activities as Teams would send them."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.delivery import DeliveryService
from bot.teams.settings import TeamsSettings
from bot.teams.web import add_routes
from commands.context import AppContext
from storage.models import PostedMessage

APP_ID = "11111111-2222-3333-4444-555555555555"


@dataclass
class FakeConnector:
    """The Bot Connector REST API, as much of it as the bot uses. ``failures`` holds statuses
    to answer with, in order, before sends succeed again."""

    members: dict[str, dict[str, str]] = field(default_factory=dict)
    channels: list[dict[str, str]] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)  # conversation id -> status, every time
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    updated: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    wire: list[tuple[str, int]] = field(default_factory=list)  # (message id given, bytes received) per send
    attempts: int = 0
    member_lookups: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._send)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._update)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        app.router.add_get("/v3/teams/{tid}/conversations", self._channels)
        return app

    async def _send(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.failures or request.match_info["cid"] in self.refused:
            status = self.refused.get(request.match_info["cid"]) or self.failures.pop(0)
            return web.json_response(
                {"error": {"code": "Throttled", "message": "slow down"}}, status=status, headers={"Retry-After": "0"}
            )
        self.sent.append((request.match_info["cid"], await request.json()))
        self.wire.append((f"m{next(self._ids)}", len(await request.read())))
        return web.json_response({"id": self.wire[-1][0]})

    async def _update(self, request: web.Request) -> web.Response:
        self.updated.append((request.match_info["cid"], request.match_info["aid"], await request.json()))
        return web.json_response({"id": request.match_info["aid"]})

    async def _member(self, request: web.Request) -> web.Response:
        self.member_lookups += 1
        member = self.members.get(request.match_info["mid"])
        return web.json_response(member) if member else web.json_response({"error": {}}, status=404)

    async def _channels(self, request: web.Request) -> web.Response:
        return web.json_response({"conversations": self.channels})


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def bot_and_teams(
    ctx: AppContext, connector: FakeConnector, settings: TeamsSettings | None = None
) -> AsyncIterator[tuple[str, str, web.Application]]:
    app = web.Application()
    teams = add_routes(app, ctx, settings or TeamsSettings(dev=True))
    if teams is not None:  # the outbox's dispatcher, as arbot serve runs it beside the endpoint
        delivery = DeliveryService(ctx, {"teams": teams.messenger}, poll_seconds=0.05)
        ctx.on_enqueued = delivery.kick
        app[DELIVERED] = delivery
        app.cleanup_ctx.append(delivery.cleanup_context)
    async with serve(connector.app()) as teams_url, serve(app) as bot_url:
        yield bot_url, teams_url, app


def posted_id(ctx: AppContext, key: str) -> str:
    with ctx.sessions() as session:
        return session.scalars(select(PostedMessage.message_id).where(PostedMessage.key == key)).one()


DELIVERED = web.AppKey("test.delivery", DeliveryService)


async def delivered(app: web.Application) -> None:
    """Wait until what the requests so far queued in the outbox went out."""
    await app[DELIVERED].drain()


def activity(
    teams_url: str,
    *,
    text: str | None = None,
    user: str = "29:dana.reyes",
    conversation: str = "a:dana",
    conversation_type: str = "personal",
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "type": "message",
        "id": f"act-{next(_activity_ids)}",
        "channelId": "msteams",
        "serviceUrl": teams_url + "/",
        "from": {"id": user, "aadObjectId": "aad-" + user},
        "recipient": {"id": "28:arbot", "name": "arbot"},
        "conversation": {"id": conversation, "conversationType": conversation_type, "tenantId": "t1"},
        "channelData": {"tenant": {"id": "t1"}},
        **extra,
    }
    if text is not None:
        body["text"] = text
    return body


_activity_ids = itertools.count(1)


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())
