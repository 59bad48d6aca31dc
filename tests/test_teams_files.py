"""A workbook in Teams, over real HTTP: Maria asks for the weekly workbook, Teams shows her a
file consent card, and when she accepts, the bot puts the file in her OneDrive (a local server
standing in for the upload session Teams opens) and shows it. The accept works after a restart,
a decline or an expired offer is answered in words, and a failed upload says so."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from openpyxl import load_workbook

from bot.teams.file_offers import CONSENT_CARD, CONSENT_INVOKE, FILE_INFO_CARD, KEPT
from commands.context import AppContext
from tests.support.teams import teams_ctx
from tests.support.teams_http import FakeConnector, activity, bot_and_teams, run, serve
from tests.support.world import seed_world

CONTENT_URL = "https://contoso-my.sharepoint.com/personal/maria/Documents/Applications/arbot/weekly.xlsx"


@dataclass
class OneDrive:
    """The upload session Teams opens in the person's OneDrive: takes a PUT of the file."""

    status: int = 201
    puts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_put("/upload/{session}", self._put)
        return app

    async def _put(self, request: web.Request) -> web.Response:
        self.puts.append((dict(request.headers), await request.read()))
        return web.json_response({"id": "file-1"}, status=self.status)


def consent_cards(connector: FakeConnector) -> list[dict[str, Any]]:
    return [a for _, body in connector.sent for a in body.get("attachments") or [] if a["contentType"] == CONSENT_CARD]


def card_texts(connector: FakeConnector) -> list[str]:
    return [
        block.get("text", "")
        for _, body in connector.sent
        for a in body.get("attachments") or []
        if a["contentType"] == "application/vnd.microsoft.card.adaptive"
        for block in a["content"]["body"]
    ]


def answer(teams: str, offer: dict[str, Any], upload_url: str, action: str = "accept") -> dict[str, Any]:
    """Maria's click on the consent card, as Teams sends it."""
    value = {"type": "fileUpload", "action": action, "context": offer["content"]["acceptContext"]}
    if action == "accept":
        value["uploadInfo"] = {
            "name": offer["name"],
            "uploadUrl": upload_url,
            "contentUrl": CONTENT_URL,
            "uniqueId": "5B1D-42",
            "fileType": "xlsx",
        }
    return activity(
        teams, type="invoke", name=CONSENT_INVOKE, user="29:maria.lopez", conversation="a:maria", value=value
    )


async def ask_for_the_workbook(bot: str, teams: str, http: aiohttp.ClientSession) -> None:
    response = await http.post(
        bot + "/api/messages",
        json=activity(teams, text="report weekly xlsx", user="29:maria.lopez", conversation="a:maria"),
    )
    assert response.status in (200, 201)


def world(ctx: AppContext) -> AppContext:
    base = teams_ctx(ctx)
    seed_world(base)
    return base


def test_maria_accepts_the_workbook_after_a_restart_and_it_lands_in_her_onedrive(ctx: AppContext) -> None:
    base, connector, drive = world(ctx), FakeConnector(), OneDrive()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as http, serve(drive.app()) as drive_url:
            async with bot_and_teams(base, connector) as (bot, teams, _):
                await ask_for_the_workbook(bot, teams, http)
            [offer] = consent_cards(connector)
            assert offer["name"].startswith("weekly-") and offer["name"].endswith(".xlsx")
            assert any("accept the download below" in text for text in card_texts(connector))
            async with bot_and_teams(base, connector) as (bot, teams, _):  # a restart before she clicks
                response = await http.post(bot + "/api/messages", json=answer(teams, offer, drive_url + "/upload/s1"))
                assert response.status == 200
            [(headers, data)] = drive.puts
            assert offer["content"]["sizeInBytes"] == len(data)
            assert headers["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
            assert load_workbook(io.BytesIO(data)).sheetnames[0] == "KPIs"
            [shown] = [
                a
                for _, body in connector.sent
                for a in body.get("attachments") or []
                if a["contentType"] == FILE_INFO_CARD
            ]
            assert (shown["contentUrl"], shown["name"], shown["content"]["uniqueId"]) == (
                CONTENT_URL,
                offer["name"],
                "5B1D-42",
            )

    run(scenario)


def test_a_declined_or_expired_offer_is_answered_and_nothing_is_uploaded(ctx: AppContext) -> None:
    base, connector, drive = world(ctx), FakeConnector(), OneDrive()

    async def scenario() -> None:
        async with (
            aiohttp.ClientSession() as http,
            serve(drive.app()) as drive_url,
            bot_and_teams(base, connector) as (bot, teams, _),
        ):
            await ask_for_the_workbook(bot, teams, http)
            [offer] = consent_cards(connector)
            await http.post(bot + "/api/messages", json=answer(teams, offer, drive_url + "/upload/s1", "decline"))
            assert card_texts(connector)[-2].startswith("Not sent: weekly-")
            base.clock.advance(days=KEPT.days + 1)  # type: ignore[attr-defined]
            response = await http.post(bot + "/api/messages", json=answer(teams, offer, drive_url + "/upload/s2"))
            assert response.status == 200
            assert "is no longer here to send" in card_texts(connector)[-1]
        assert drive.puts == []

    run(scenario)


def test_a_failed_upload_says_so_with_a_reference(ctx: AppContext) -> None:
    base, connector, drive = world(ctx), FakeConnector(), OneDrive(status=507)

    async def scenario() -> None:
        async with (
            aiohttp.ClientSession() as http,
            serve(drive.app()) as drive_url,
            bot_and_teams(base, connector) as (bot, teams, _),
        ):
            await ask_for_the_workbook(bot, teams, http)
            [offer] = consent_cards(connector)
            await http.post(bot + "/api/messages", json=answer(teams, offer, drive_url + "/upload/s1"))
        said = card_texts(connector)[-1]
        assert said.startswith("I could not put weekly-") and "OneDrive answered 507" in said and "(ref " in said
        assert not [
            a for _, body in connector.sent for a in body.get("attachments") or [] if a["contentType"] == FILE_INFO_CARD
        ]

    run(scenario)


def test_asked_in_a_channel_the_workbook_is_offered_in_the_personal_chat_only(ctx: AppContext) -> None:
    base, connector = world(ctx), FakeConnector()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as http, bot_and_teams(base, connector) as (bot, teams, _):
            hello = activity(
                teams,
                type="conversationUpdate",
                user="29:maria.lopez",
                conversation="a:maria",
                membersAdded=[{"id": "28:arbot"}],
            )
            await http.post(bot + "/api/messages", json=hello)  # the app installed in her personal scope
            await http.post(
                bot + "/api/messages",
                json=activity(
                    teams,
                    text="<at>arbot</at> report weekly xlsx",
                    user="29:maria.lopez",
                    conversation="19:collections@thread.tacv2",
                    conversation_type="channel",
                    entities=[{"type": "mention", "text": "<at>arbot</at>", "mentioned": {"id": "28:arbot"}}],
                ),
            )
        in_channel = [body for where, body in connector.sent if where.startswith("19:collections")]
        in_chat = [body for where, body in connector.sent if where == "a:maria"]
        assert not [a for body in in_channel for a in body.get("attachments") or [] if a["contentType"] == CONSENT_CARD]
        assert [
            a["name"] for body in in_chat for a in body.get("attachments") or [] if a["contentType"] == CONSENT_CARD
        ] == [consent_cards(connector)[0]["name"]]

    run(scenario)
