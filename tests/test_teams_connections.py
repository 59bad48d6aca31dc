"""Dana asks the bot three questions over real HTTP, one after the other. Each answer reaches the
(fake) Bot Connector, and all of them over one kept-alive connection made by one connector
client: the server does not build a new client, with its own HTTP session, for every message
(which cost a new connection to Teams per reply and a tenth of the server's CPU per message)."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from bot.teams.web import TEAMS_APP, RefusingAuthentication
from commands.context import AppContext
from tests.support.teams import teams_ctx
from tests.support.teams_http import FakeConnector, activity, bot_and_teams, run
from tests.support.world import seed_world


@dataclass
class CountingConnector(FakeConnector):
    """The fake Bot Connector, noting which TCP connection (the client's port) each send came on."""

    connections: list[object] = field(default_factory=list)

    async def _send(self, request: web.Request) -> web.Response:
        transport = request.transport
        self.connections.append(transport.get_extra_info("peername") if transport else None)
        return await super()._send(request)


def test_replies_reuse_one_connector_client_and_its_connection(ctx: AppContext) -> None:
    base = teams_ctx(ctx)
    seed_world(base)
    connector = CountingConnector()
    made: list[int] = []

    async def scenario() -> None:
        async with bot_and_teams(base, connector) as (bot, teams, app), aiohttp.ClientSession() as http:
            for text in ("status c100", "help", "status c100"):
                response = await http.post(bot + "/api/messages", json=activity(teams, text=text))
                assert response.status in (200, 201)
            authentication = app[TEAMS_APP].adapter.bot_framework_authentication
            assert isinstance(authentication, RefusingAuthentication)
            made.append(authentication.kept.made)

    run(scenario)
    titles = [body["attachments"][0]["content"]["body"][0]["text"] for _, body in connector.sent]
    assert titles[0] == titles[-1] == "Acme Dental Group (C100)" and len(titles) == 3, titles
    assert made == [2], "one connector client and one user token client, for all three messages"
    assert len(set(connector.connections)) == 1, f"replies came over {len(set(connector.connections))} connections"
