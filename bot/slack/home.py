"""The App Home tab: the person's call list for today (with the same buttons as the morning
message), the promises they recorded that are still open, and the approval requests waiting
for someone with their roles. Published with ``views.publish`` when they open the tab, and again
after they press a button on it, so it never shows a decided request as waiting."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject
from slack_sdk.models.views import View

from bot.slack.render import blocks_for, escape
from commands.context import AppContext
from commands.home import waiting_on
from commands.messages import ChatUser, Incoming, Reply, Tone, Where
from commands.router import handle
from commands.team import Member

if TYPE_CHECKING:
    from bot.slack.runtime import SlackRuntime

MAX_BLOCKS = 100  # a Home tab view
LIST_ROWS = 15  # the rest of the list is `/ar list` away


def register(app: AsyncApp, runtime: SlackRuntime) -> None:
    async def on_home_opened(ack: AsyncAck, event: dict[str, Any]) -> None:
        await ack()
        if event.get("tab") == "home":
            runtime.in_thread(publish_home, runtime, str(event["user"]))

    app.event("app_home_opened")(on_home_opened)


def publish_home(runtime: SlackRuntime, user_id: str) -> None:
    email = runtime.messenger.identity.email_of(user_id)
    view = home_view(runtime.ctx, ChatUser("slack", user_id, email))
    runtime.messenger.client.views_publish(user_id=user_id, view=view)


def home_view(ctx: AppContext, user: ChatUser) -> View:
    member = ctx.team.member(user.email) if user.email else None
    if member is None:
        reply = Reply(
            title="Not on the team yet",
            tone=Tone.WARNING,
            text=f"I can't find you in the {ctx.team.name} team file; ask an admin to add your "
            "Slack email address, then open this tab again.",
        )
        return View(type="home", blocks=blocks_for(reply))
    sections = [_list(ctx, user, member)] if member.has("collector") else []
    return View(type="home", blocks=_fit(sections + waiting_on(ctx, member)))


def _list(ctx: AppContext, user: ChatUser, member: Member) -> Reply:
    """The same list `/ar list` shows, through the core, cut to the first lines."""
    [reply] = handle(ctx, Incoming(user=user, where=Where(user.user_id), text="list"))[:1]
    if len(reply.rows) <= LIST_ROWS:
        return reply
    more = len(reply.rows) - LIST_ROWS
    return replace(
        reply,
        rows=reply.rows[:LIST_ROWS],
        text=f"{more} more account{'s' if more != 1 else ''}: type /ar list to see them all.",
    )


def _fit(sections: list[Reply]) -> list[dict[str, Any]]:
    """The sections' blocks, stopping before Slack's 100-block limit with a note saying so."""
    ids: Iterator[int] = itertools.count(1)
    blocks: list[dict[str, Any]] = []
    for reply in sections:
        more = blocks_for(reply, ids=ids)
        if len(blocks) + len(more) > MAX_BLOCKS - 1:
            blocks.append(
                ContextBlock(
                    elements=[
                        MarkdownTextObject(
                            text=escape(f"More than fits here: {reply.title.lower()} and below are cut.")
                        )
                    ]
                ).to_dict()
            )
            break
        blocks += more
    return blocks
