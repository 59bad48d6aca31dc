"""The Teams endpoint over real HTTP: ``/api/messages`` on an aiohttp server, with a local fake
Bot Connector service standing in for Teams (activities point their ``serviceUrl`` at it). Covers
who may reach the endpoint, invoke answers as Teams receives them, identity through TeamsInfo,
and retries when Teams answers 429/412/502/504."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.teams.settings import TeamsSettings, TeamsSettingsError, settings_problem
from bot.teams.web import add_routes, health
from commands.context import AppContext
from storage.models import ChatIdentity, OutboxEntry
from tests.support.teams import MARIA, teams_ctx
from tests.support.teams_http import APP_ID, FakeConnector, activity, bot_and_teams, delivered, posted_id, run, serve


def test_without_an_app_id_the_endpoint_is_not_served(ctx: AppContext) -> None:
    async def scenario() -> None:
        app = web.Application()
        assert add_routes(app, ctx, TeamsSettings()) is None
        assert health(app) == {"teams": "off"}
        async with serve(app) as url, aiohttp.ClientSession() as http:
            response = await http.post(url + "/api/messages", json={"type": "message"})
            assert response.status == 404

    run(scenario)


def test_with_an_app_id_an_unsigned_request_is_refused(ctx: AppContext) -> None:
    async def scenario() -> None:
        connector = FakeConnector()
        settings = TeamsSettings(app_id=APP_ID, app_password="secret")
        async with bot_and_teams(ctx, connector, settings) as (bot, teams, app):
            assert health(app) == {"teams": "on", "teams_app_type": "MultiTenant"}
            async with aiohttp.ClientSession() as http:
                response = await http.post(bot + "/api/messages", json=activity(teams, text="help"))
                assert response.status == 401
        assert connector.sent == []

    run(scenario)


def test_dev_mode_says_authentication_is_off(ctx: AppContext) -> None:
    app = web.Application()
    add_routes(app, ctx, TeamsSettings(dev=True))
    status = health(app)
    assert (status["teams"], status["teams_authentication"]) == ("dev", "OFF")
    assert "WITHOUT authentication" in status["warning"]


def test_settings_refuse_what_bot_framework_would_reject_later() -> None:
    assert TeamsSettings.from_env({}).served is False
    assert TeamsSettings.from_env({}, dev=True).auth_disabled is True
    on = TeamsSettings.from_env(
        {
            "MICROSOFT_APP_ID": APP_ID,
            "MICROSOFT_APP_TYPE": "singletenant",
            "MICROSOFT_APP_TENANT_ID": "t1",
            "MICROSOFT_APP_PASSWORD": "p",
        }
    )
    assert (on.app_type, on.served, on.auth_disabled) == ("SingleTenant", True, False)
    for env, says in [
        ({"MICROSOFT_APP_ID": "not-a-guid"}, "must be the bot's app id"),
        ({"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_TYPE": "SingleTenant"}, "needs MICROSOFT_APP_TENANT_ID"),
        ({"MICROSOFT_APP_TYPE": "Anything"}, "MICROSOFT_APP_TYPE must be one of"),
    ]:
        with pytest.raises(TeamsSettingsError, match=says):
            TeamsSettings.from_env(env)
        assert says in (settings_problem(env) or "")
    assert settings_problem({"MICROSOFT_APP_ID": APP_ID}) is None


def test_identity_comes_from_teamsinfo_once_then_from_the_cache(ctx: AppContext) -> None:
    """A member without a teams_id in the team file: their UPN is on the team, so they are Maria."""
    base = teams_ctx(ctx)
    connector = FakeConnector(
        members={"29:stranger": {"id": "29:stranger", "name": "Maria", "userPrincipalName": MARIA.upper()}}
    )

    async def scenario() -> None:
        async with bot_and_teams(base, connector) as (bot, teams, _), aiohttp.ClientSession() as http:
            for _ in range(2):
                response = await http.post(
                    bot + "/api/messages",
                    json=activity(teams, text="status c100", user="29:stranger", conversation="a:maria"),
                )
                assert response.status in (200, 201)
        assert connector.member_lookups == 1
        assert [body["attachments"][0]["content"]["body"][0]["text"] for _, body in connector.sent] == [
            "Acme Dental Group (C100)"
        ] * 2

    from tests.support.world import seed_world

    seed_world(base)
    run(scenario)
    with base.sessions() as session:
        assert session.scalar(select(ChatIdentity.email).where(ChatIdentity.user_id == "29:stranger")) == MARIA


def test_an_invoke_is_answered_with_the_card_in_the_http_response(ctx: AppContext) -> None:
    """Over HTTP, as Teams sees it: 200 and the invoke response JSON (the SDK's default path would 500)."""
    from tests.support.world import seed_world

    seed_world(ctx)
    base = teams_ctx(ctx)
    connector = FakeConnector(channels=[{"id": "19:approvals@thread.tacv2", "name": "Approvals"}])

    async def scenario() -> None:
        async with bot_and_teams(base, connector) as (bot, teams, app), aiohttp.ClientSession() as http:
            install = activity(
                teams,
                type="conversationUpdate",
                conversation="19:general@thread.tacv2",
                conversation_type="channel",
                membersAdded=[{"id": "28:arbot"}],
                channelData={
                    "team": {"id": "19:general@thread.tacv2"},
                    "eventType": "teamMemberAdded",
                    "tenant": {"id": "t1"},
                },
            )
            assert (await http.post(bot + "/api/messages", json=install)).status in (200, 201)
            await http.post(bot + "/api/messages", json=activity(teams, text="hold acme ortho retainer unpaid"))
            await delivered(app)
            [(conversation, card_post)] = [s for s in connector.sent if s[0] == "19:approvals@thread.tacv2"]
            approve = card_post["attachments"][0]["content"]["actions"][0]
            card_id = await asyncio.to_thread(posted_id, base, "approval:1")
            click = activity(
                teams,
                type="invoke",
                name="adaptiveCard/action",
                user="29:maria.lopez",
                conversation=f"{conversation};messageid={card_id}",
                conversation_type="channel",
                replyToId=card_id,
                value={"action": {"type": "Action.Execute", "verb": approve["verb"], "data": approve["data"]}},
            )
            response = await http.post(bot + "/api/messages", json=click)
            assert response.status == 200
            body = await response.json()
            await delivered(app)
            assert (body["statusCode"], body["type"]) == (200, "application/vnd.microsoft.card.adaptive")
            assert body["value"]["body"][0]["text"] == "Approved: hold on Acme Ortho"
        [(updated_in, message_id, update)] = connector.updated
        assert (updated_in, message_id, update["attachments"][0]["content"]) == (
            "19:approvals@thread.tacv2",
            card_id,
            body["value"],
        )

    run(scenario)


@pytest.mark.parametrize("status", [429, 412, 502, 504])
def test_a_throttled_or_failing_send_is_retried(ctx: AppContext, status: int) -> None:
    from tests.support.world import seed_world

    seed_world(ctx)
    connector = FakeConnector(failures=[status, status])

    async def scenario() -> None:
        async with bot_and_teams(teams_ctx(ctx), connector) as (bot, teams, _), aiohttp.ClientSession() as http:
            await http.post(bot + "/api/messages", json=activity(teams, text="status c100"))
        assert connector.attempts == 3
        [(conversation, body)] = connector.sent
        assert (
            conversation == "a:dana"
            and body["attachments"][0]["content"]["body"][0]["text"] == "Acme Dental Group (C100)"
        )

    run(scenario)


def test_a_refused_send_is_not_retried_and_the_admins_are_told(ctx: AppContext) -> None:
    """Teams says 403 to the approvals post (the bot was removed there): one attempt, the
    request itself is saved and acknowledged, the entry is failed and the admins are told."""
    from tests.support.world import seed_world

    seed_world(ctx)
    base = teams_ctx(ctx, channels={"approvals": "19:gone@thread.tacv2"})
    connector = FakeConnector()

    async def scenario() -> None:
        async with bot_and_teams(base, connector) as (bot, teams, app), aiohttp.ClientSession() as http:
            await http.post(bot + "/api/messages", json=activity(teams, text="help"))
            connector.refused["19:gone@thread.tacv2"] = 403
            attempts = connector.attempts
            await http.post(bot + "/api/messages", json=activity(teams, text="hold acme ortho retainer unpaid"))
            await delivered(app)
            assert connector.attempts - attempts == 2  # the answer to Dana, the refused post once
        titles = [body["attachments"][0]["content"]["body"][0]["text"] for _, body in connector.sent]
        assert titles[-1] == "Approval requested: hold on Acme Ortho (request #1)"
        with base.sessions() as session:
            card = session.scalars(select(OutboxEntry).where(OutboxEntry.track_key == "approval:1")).one()
            report = session.scalars(select(OutboxEntry).where(OutboxEntry.key == f"admin-report:{card.id}#0")).one()
        assert (card.status, card.attempts, card.last_error) == ("failed", 1, "Teams answered 403")
        assert "arbot outbox retry" in report.payload["text"]

    run(scenario)


@pytest.mark.parametrize("dev, mode, served", [(True, "dev (authentication OFF)", True), (False, "off", False)])
def test_the_shared_server_mounts_teams_beside_slack(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch, dev: bool, mode: str, served: bool
) -> None:
    """``arbot serve``: /healthz names the Teams mode; without an app id and without --dev the
    Teams route is simply not there."""
    from bot.server import ServerSettings, build_web_app
    from bot.slack.mount import mount as mount_slack
    from bot.teams.mount import mount

    monkeypatch.delenv("MICROSOFT_APP_ID", raising=False)

    async def scenario() -> None:
        app = build_web_app(ctx, ServerSettings(dev=dev), endpoints={"slack": mount_slack, "teams": mount})
        async with serve(app) as url, aiohttp.ClientSession() as http:
            health_body = await (await http.get(url + "/healthz")).json()
            assert (health_body["teams"], health_body["slack"]) == (mode, "off")
            response = await http.post(url + "/api/messages", json={"type": "message"})
            assert (response.status != 404) is served

    run(scenario)


@pytest.mark.parametrize(
    "body", ['{"type": "message"}', "not json", "{}", "[1]", '{"type": "message", "serviceUrl": 5}']
)
def test_a_malformed_activity_is_refused_with_400(ctx: AppContext, body: str) -> None:
    async def scenario() -> None:
        connector = FakeConnector()
        async with bot_and_teams(ctx, connector) as (bot, _, _app), aiohttp.ClientSession() as http:
            response = await http.post(bot + "/api/messages", data=body, headers={"Content-Type": "application/json"})
            assert response.status == 400, await response.text()
            assert "error" in await response.json()
        assert connector.sent == []

    run(scenario)
