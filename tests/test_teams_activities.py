"""Teams activities as the Bot Connector posts them (tests/fixtures/teams/*.json: ids, entities
and channel data in Teams' own shapes), replayed over HTTP to ``/api/messages`` of the real bot,
with the local fake connector (tests.support.teams_http) standing in for Teams. People are found
the way a real tenant finds them: their Teams ids are in no team file, so the bot asks the
connector who they are. Each test checks what the bot answers, or what it now knows."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from bot.teams.web import TEAMS_APP
from commands.context import AppContext
from commands.messages import Reply
from commands.team import load_team, sync_members
from storage.models import ConversationRef
from tests.support.teams_http import FakeConnector, bot_and_teams, delivered, posted_id, run

FIXTURES = Path(__file__).parent / "fixtures" / "teams"
DANA, MARIA = "dana.reyes@example.com", "maria.lopez@example.com"
TENANT = "5f2e6c1a-3b7d-4e8f-9a0b-1c2d3e4f5a6b"
FINANCE = "19:0c5f7a2e9d3b4c1a8e6f2d9b7a3c5e1f@thread.tacv2"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def captured(name: str, teams_url: str, **changes: Any) -> dict[str, Any]:
    """A captured activity, its ``serviceUrl`` pointed at the fake connector."""
    return {**fixture(name), "serviceUrl": teams_url + "/", **changes}


def connector() -> FakeConnector:
    """Teams as the fixtures' tenant has it: the two people who speak in them, as TeamsInfo
    describes a member, and the team's channels (General listed without a name, as Teams does)."""
    people = {}
    for sender, email in ((fixture("message_personal")["from"], DANA), (fixture("invoke_refresh")["from"], MARIA)):
        given, surname = sender["name"].split()
        people[sender["id"]] = {
            "id": sender["id"],
            "name": sender["name"],
            "aadObjectId": sender["aadObjectId"],
            "givenName": given,
            "surname": surname,
            "email": email,
            "userPrincipalName": email,
            "tenantId": TENANT,
            "userRole": "user",
        }
    team = fixture("conversation_update_members_added")["channelData"]["team"]["id"]
    approvals = fixture("invoke_refresh")["channelData"]["channel"]["id"]
    return FakeConnector(
        members=people,
        channels=[{"id": team}, {"id": approvals, "name": "Approvals"}, {"id": FINANCE, "name": "Finance"}],
    )


def teams_team(ctx: AppContext) -> AppContext:
    """The Teams test tenant's team file (channels General, Finance, Approvals; no Teams ids)."""
    from tests.support.world import seed_world

    team = load_team(FIXTURES / "team.toml")
    with ctx.sessions.begin() as session:
        sync_members(session, team)
    tctx = replace(ctx, team=team, platforms=("teams",))
    seed_world(tctx)
    return tctx


def title(post: dict[str, Any]) -> str:
    return post["attachments"][0]["content"]["body"][0]["text"]


def stored(ctx: AppContext) -> dict[str, str]:
    """Core name -> Teams conversation id, for every place the bot may post to."""
    with ctx.sessions() as session:
        return {ref.key: ref.reference["conversation"]["id"] for ref in session.scalars(select(ConversationRef))}


async def post(http: aiohttp.ClientSession, bot: str, body: dict[str, Any]) -> aiohttp.ClientResponse:
    response = await http.post(bot + "/api/messages", json=body)
    assert response.status in (200, 201), await response.text()
    return response


def test_a_personal_message_is_answered_in_the_chat_it_came_from(ctx: AppContext) -> None:
    tctx, teams = teams_team(ctx), connector()
    message = fixture("message_personal")

    async def scenario() -> None:
        async with bot_and_teams(tctx, teams) as (bot, url, _), aiohttp.ClientSession() as http:
            await post(http, bot, captured("message_personal", url))

    run(scenario)
    [(conversation, answer)] = teams.sent
    assert conversation == message["conversation"]["id"]
    assert title(answer) == "Acme Dental Group (C100)"
    assert answer["replyToId"] == message["id"]
    assert teams.member_lookups == 1, "who Dana is came from Teams"


def test_a_channel_mention_is_answered_privately_and_the_thread_told(ctx: AppContext) -> None:
    """The <at>arbot</at> and its mention entity are taken off the text; a status carries
    balances, so the card goes to Dana's personal chat (known from her install) and the thread
    hears where it went."""
    tctx, teams = teams_team(ctx), connector()
    mention = fixture("message_channel_mention")

    async def scenario() -> None:
        async with bot_and_teams(tctx, teams) as (bot, url, _), aiohttp.ClientSession() as http:
            await post(http, bot, captured("installation_update_personal", url))
            await post(http, bot, captured("message_channel_mention", url))

    run(scenario)
    personal_chat = fixture("installation_update_personal")["conversation"]["id"]
    assert [(conversation, title(body)) for conversation, body in teams.sent] == [
        (personal_chat, "Acme Dental Group (C100)"),
        (mention["conversation"]["id"], "Dana Reyes: I sent you the answer in our chat."),
    ]


def test_installing_the_app_in_a_personal_chat_is_remembered_and_answered_with_nothing(ctx: AppContext) -> None:
    tctx, teams = teams_team(ctx), connector()
    install = fixture("installation_update_personal")

    async def scenario() -> None:
        async with bot_and_teams(tctx, teams) as (bot, url, app), aiohttp.ClientSession() as http:
            await post(http, bot, captured("installation_update_personal", url))
            assert teams.sent == []
            assert stored(tctx) == {f"dm:{DANA}": install["conversation"]["id"]}
            # What the install stored is how the bot reaches Dana later, unasked.
            await asyncio.to_thread(app[TEAMS_APP].messenger.direct, DANA, Reply(title="Your list is ready"))

    run(scenario)
    assert [(conversation, title(body)) for conversation, body in teams.sent] == [
        (install["conversation"]["id"], "Your list is ready")
    ]


def test_adding_the_bot_to_a_team_stores_the_channels_the_team_file_names(ctx: AppContext) -> None:
    tctx, teams = teams_team(ctx), connector()
    added = fixture("conversation_update_members_added")
    team = added["channelData"]["team"]["id"]

    async def scenario() -> None:
        async with bot_and_teams(tctx, teams) as (bot, url, _), aiohttp.ClientSession() as http:
            await post(http, bot, captured("conversation_update_members_added", url))

    run(scenario)
    assert teams.sent == []
    approvals = fixture("invoke_refresh")["channelData"]["channel"]["id"]
    assert stored(tctx) == {"general": team, "approvals": approvals, "finance": FINANCE}


def test_approve_and_refresh_on_the_approval_card(ctx: AppContext) -> None:
    """After the team install and Dana's hold request, Teams refreshes the approval card for
    Maria (the card as drawn, from the database) and Maria presses Approve (Action.Execute):
    the invoke response is the decided card."""
    tctx, teams = teams_team(ctx), connector()
    execute, refresh = fixture("invoke_action_execute"), fixture("invoke_refresh")

    async def scenario() -> None:
        async with bot_and_teams(tctx, teams) as (bot, url, app), aiohttp.ClientSession() as http:
            await post(http, bot, captured("conversation_update_members_added", url))
            await post(
                http, bot, captured("message_personal", url, id="1763910231044", text="hold acme ortho retainer unpaid")
            )
            await delivered(app)
            channel = execute["channelData"]["channel"]["id"]
            [card_post] = [body for conversation, body in teams.sent if conversation == channel]
            card = card_post["attachments"][0]["content"]
            approve = next(a for a in card["actions"] if a["title"] == "Approve")
            assert execute["value"]["action"] == {
                "type": "Action.Execute",
                "title": "Approve",
                "verb": approve["verb"],
                "data": approve["data"],
            }
            assert refresh["value"]["action"] == card["refresh"]["action"]
            card_id = await asyncio.to_thread(posted_id, tctx, "approval:1")
            in_thread = {
                "conversation": {**execute["conversation"], "id": f"{channel};messageid={card_id}"},
                "replyToId": card_id,
            }

            redrawn = await (await post(http, bot, captured("invoke_refresh", url, **in_thread))).json()
            assert (redrawn["statusCode"], redrawn["type"]) == (200, "application/vnd.microsoft.card.adaptive")
            assert redrawn["value"] == card

            decided = await (await post(http, bot, captured("invoke_action_execute", url, **in_thread))).json()
            await delivered(app)
            assert (decided["statusCode"], decided["type"]) == (200, "application/vnd.microsoft.card.adaptive")
            assert title({"attachments": [{"content": decided["value"]}]}) == "Approved: hold on Acme Ortho"
        [(_, message_id, update)] = teams.updated
        assert (message_id, update["attachments"][0]["content"]) == (card_id, decided["value"])

    run(scenario)
