"""Teams through the Bot Framework test adapter. ``TeamsWorld`` is the test rig: the example team,
each member known to Teams as ``29:<name>``, five team channels, and helpers that speak Teams
activities and read the cards the bot sends."""

from __future__ import annotations

import asyncio
import dataclasses
import tomllib
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount, Entity
from sqlalchemy import select

from bot.settings import EXAMPLE_TEAM_FILE
from bot.teams.cards import DATA_KEY
from bot.teams.settings import TeamsSettings
from bot.teams.web import TeamsApp, build
from commands.context import AppContext
from commands.delivery import posted
from commands.outbox import Dispatcher
from commands.team import team_from_dict
from storage.models import ConversationRef

TENANT = "tenant-1"


BOT = ChannelAccount(id="28:arbot", name="arbot")


SERVICE_URL = "https://smba.example.test/amer/"


TEAM_ID = "19:general@thread.tacv2"


CHANNELS = {
    "collections": TEAM_ID,
    "finance": "19:finance@thread.tacv2",
    "approvals": "19:approvals@thread.tacv2",
    "client-services": "19:cs@thread.tacv2",
    "sales": "19:sales@thread.tacv2",
}


DANA, PRIYA, MARIA = "dana.reyes@example.com", "priya.shah@example.com", "maria.lopez@example.com"


def teams_user_id(email: str) -> str:
    return "29:" + email.split("@")[0]


def teams_ctx(ctx: AppContext, **teams_section: Any) -> AppContext:
    """The example team with a ``teams_id`` on every member (and an optional ``[teams]`` table)."""
    data = tomllib.loads(EXAMPLE_TEAM_FILE.read_text(encoding="utf-8"))
    for member in data["members"]:
        member["teams_id"] = teams_user_id(member["email"])
    if teams_section:
        data["teams"] = teams_section
    return dataclasses.replace(ctx, team=team_from_dict(data), platforms=("teams",))


def card_of(activity: Activity) -> dict[str, Any]:
    [attachment] = activity.attachments
    return attachment.content


def title_of(activity: Activity) -> str:
    return card_of(activity)["body"][0]["text"]


def personal(email: str) -> ConversationAccount:
    return ConversationAccount(id=f"a:chat-{email.split('@')[0]}", conversation_type="personal", tenant_id=TENANT)


def channel(name: str, thread: str | None = None) -> ConversationAccount:
    conversation_id = CHANNELS[name] + (f";messageid={thread}" if thread else "")
    return ConversationAccount(id=conversation_id, conversation_type="channel", is_group=True, tenant_id=TENANT)


class TeamsWorld:
    """One bot process: a TestAdapter standing in for the Bot Connector, the real TeamsBot."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        template = Activity(
            channel_id="msteams",
            service_url=SERVICE_URL,
            recipient=BOT,
            from_property=ChannelAccount(id="29:nobody"),
            conversation=personal(DANA),
        )
        self.adapter = TestAdapter(template_or_conversation=template)
        self.app: TeamsApp = build(ctx, TeamsSettings(dev=True), adapter=self.adapter)
        self.adapter.logic = self.app.bot.on_turn
        ctx.platforms = ("teams",)
        self.dispatcher = Dispatcher(ctx, {"teams": self.app.messenger}, workers=1, pacing={})

    async def start(self) -> None:
        self.app.messenger.bind(asyncio.get_running_loop())

    async def send(self, activity: Activity) -> list[Activity]:
        """Deliver one activity; return everything the bot sent because of it."""
        before = len(self.adapter.activity_buffer)
        await self.adapter.receive_activity(activity)
        await asyncio.to_thread(self.dispatcher.drain)  # what it queued for others, delivered
        return self.adapter.activity_buffer[before:]

    async def install_team(self) -> None:
        """The bot is added to the team, and Teams tells it about each channel."""
        for name, channel_id in CHANNELS.items():
            await self.send(
                Activity(
                    type=ActivityTypes.conversation_update,
                    from_property=ChannelAccount(id=teams_user_id(DANA)),
                    conversation=channel("collections"),
                    channel_data={
                        "eventType": "channelCreated",
                        "team": {"id": TEAM_ID},
                        "channel": {"id": channel_id, "name": name.replace("-", " ").title()},
                        "tenant": {"id": TENANT},
                    },
                )
            )

    async def say(
        self,
        email: str,
        text: str,
        *,
        where: ConversationAccount | None = None,
        mention: bool = False,
        activity_id: str | None = None,
    ) -> list[Activity]:
        sender = ChannelAccount(id=teams_user_id(email), name=email)
        entities = None
        if mention:
            text = f"<at>arbot</at> {text}"
            # As the connector delivers it: a JSON entity, not the SDK's Mention class.
            entities = [
                Entity().deserialize(
                    {"type": "mention", "text": "<at>arbot</at>", "mentioned": {"id": BOT.id, "name": BOT.name}}
                )
            ]
        return await self.send(
            Activity(
                type=ActivityTypes.message,
                text=text,
                from_property=sender,
                conversation=where or personal(email),
                entities=entities,
                id=activity_id,
            )
        )

    async def click(
        self,
        email: str,
        card: dict[str, Any],
        label: str,
        *,
        message_id: str,
        where: ConversationAccount,
        typed: str | None = None,
    ) -> tuple[Any, list[Activity]]:
        """Press the button ``label`` as ``email`` (Action.Execute); returns the invoke response
        body and the other activities the bot sent."""
        action = next(a for a in _actions(card) if a["title"] == label)
        data = dict(action["data"])
        if typed is not None:
            data[action["data"][DATA_KEY]["input"]] = typed
        sent = await self.send(
            Activity(
                type=ActivityTypes.invoke,
                name="adaptiveCard/action",
                reply_to_id=message_id,
                from_property=ChannelAccount(id=teams_user_id(email)),
                conversation=where,
                value={"action": {"type": "Action.Execute", "verb": action["verb"], "data": data}, "trigger": "manual"},
            )
        )
        [response] = [a for a in sent if a.type == ActivityTypes.invoke_response]
        return response.value.body, [a for a in sent if a.type != ActivityTypes.invoke_response]


def _actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(card.get("actions", []))
    for block in card["body"]:
        for item in block.get("items", []):
            found += item.get("actions", [])
    return found


def run(world_test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(world_test())


def seeded_teams_world(ctx: AppContext) -> TeamsWorld:
    from tests.support.world import seed_world

    seed_world(ctx)
    return TeamsWorld(teams_ctx(ctx))


def in_conversation(sent: list[Activity], conversation_id: str) -> Activity:
    """The one activity sent into ``conversation_id`` (the asker's answer goes out first, posts
    for others after it, through the outbox)."""
    [found] = [a for a in sent if a.conversation.id == conversation_id]
    return found


def tracked_message_id(ctx: AppContext, key: str) -> str:
    with ctx.sessions() as session:
        ref = posted(session, key)
    assert ref is not None, f"nothing tracked as {key}"
    return ref.message_id


async def stored_conversation_keys(ctx: AppContext) -> list[str]:
    def keys() -> list[str]:
        with ctx.sessions() as session:
            return sorted(session.scalars(select(ConversationRef.key)))

    return await asyncio.to_thread(keys)
