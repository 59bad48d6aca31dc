"""Slack and Teams in one ``arbot serve``: each member's messages go out on their own platform.

Dana works in Slack, Sam in Teams (``chat = ...`` in the team file). The real server is built
with both endpoints (Slack against the local fake Web API, Teams in dev mode against a stand-in
Bot Connector); the morning run queues both lists and the server's dispatcher delivers each
through the platform its owner works on, and nothing through the other one."""

from __future__ import annotations

import asyncio
import dataclasses
import tomllib
from datetime import date
from decimal import Decimal

import aiohttp
from aiohttp import web

from bot.server import DELIVERY, MOUNTED, ServerSettings, build_web_app
from bot.settings import EXAMPLE_TEAM_FILE
from bot.slack.mount import mount as mount_slack
from bot.slack.settings import SlackSettings
from bot.teams.settings import TeamsSettings
from commands.context import AppContext
from commands.team import team_from_dict
from scheduler.service import tick
from storage.models import Customer, Invoice, InvoiceKind, OutboxEntry, TeamMember
from tests.support.slack import CREATED, SECRET, FakeSlack, seed, text_of
from tests.support.teams import teams_user_id
from tests.support.teams_http import FakeConnector, activity, serve

DANA, SAM = "dana.reyes@example.com", "sam.okafor@example.com"


def two_platform_ctx(ctx: AppContext) -> AppContext:
    data = tomllib.loads(EXAMPLE_TEAM_FILE.read_text(encoding="utf-8"))
    for member in data["members"]:
        member["teams_id"] = teams_user_id(member["email"])
        member["chat"] = {DANA: "slack", SAM: "teams"}.get(member["email"])
        if member["chat"] is None:
            del member["chat"]
    return dataclasses.replace(ctx, team=team_from_dict(data))


def give_sam_an_account(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        sam = session.query(TeamMember).filter_by(email=SAM).one()
        customer = Customer(
            erp_id="S900", name="Lakeside Family Dental", currency="USD", created_at=CREATED, collector_id=sam.id
        )
        session.add(customer)
        session.flush()
        session.add(
            Invoice(
                customer_id=customer.id,
                number="L-1",
                kind=InvoiceKind.STANDARD,
                due_date=date(2026, 9, 15),
                amount=Decimal("1800.00"),
                open_balance=Decimal("1800.00"),
                currency="USD",
            )
        )


def test_each_member_gets_the_morning_list_on_their_own_platform(ctx: AppContext) -> None:
    tctx = two_platform_ctx(ctx)
    seed(tctx)
    give_sam_an_account(tctx)
    connector, slack = FakeConnector(), FakeSlack()

    def teams_dev(app: web.Application, c: AppContext, _settings: ServerSettings):  # type: ignore[no-untyped-def]
        from bot.teams.mount import mount

        return mount(app, c, TeamsSettings(dev=True))

    async def scenario() -> None:
        await slack.start()
        settings = ServerSettings(slack=SlackSettings(bot_token="xoxb-t", signing_secret=SECRET, api_url=slack.api_url))
        app = build_web_app(tctx, settings, endpoints={"slack": mount_slack, "teams": teams_dev})
        assert {name: m.mode for name, m in app[MOUNTED].items()} == {
            "slack": "http",
            "teams": "dev (authentication OFF)",
        }
        assert tctx.platforms == ("slack", "teams")
        try:
            async with serve(connector.app()) as teams_url, serve(app) as bot_url, aiohttp.ClientSession() as http:
                # Sam has talked to the bot in Teams once, so it can reach his personal chat.
                hello = activity(teams_url, text="help", user=teams_user_id(SAM), conversation="a:sam")
                assert (await http.post(bot_url + "/api/messages", json=hello)).status in (200, 201)
                outcomes = await asyncio.to_thread(tick, tctx)
                assert {o.key: o.status for o in outcomes}["daily_lists"] == "done"
                await app[DELIVERY].drain()
        finally:
            await slack.stop()

        slack_posts = [(c.answer["channel"], text_of(c.params)) for c in slack.made("chat.postMessage")]
        teams_posts = [
            (cid, body["attachments"][0]["content"]["body"][0]["text"])
            for cid, body in connector.sent
            if body.get("attachments")
        ]
        dana_lists = [t for channel, t in slack_posts if channel == "D0DANA" and t.startswith("Your call list")]
        sam_lists = [t for cid, t in teams_posts if cid == "a:sam" and t.startswith("Your call list")]
        assert len(dana_lists) == 1 and len(sam_lists) == 1
        assert not [t for cid, t in teams_posts if "Reyes" in t or cid != "a:sam"], "nothing of Dana's in Teams"
        assert not [c for c, _ in slack_posts if c not in ("D0DANA", "CCOLLECTIONS")], "nothing of Sam's in Slack"
        assert [t for c, t in slack_posts if c == "CCOLLECTIONS" and t.startswith("Call lists for")]
        with tctx.sessions() as session:
            states = {(e.platform, e.destination): e.status for e in session.query(OutboxEntry)}
        assert states[("slack", DANA)] == "sent" and states[("teams", SAM)] == "sent"
        assert set(states.values()) == {"sent"}

    asyncio.run(scenario())
