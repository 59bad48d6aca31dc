"""Mentions of the bot and messages: how "approve" typed in an approval card's thread, or a
command typed in the bot's direct messages, reaches the core (which messages do is decided in
:func:`bot.slack.incoming.from_message`). Events are acknowledged before anything else; Slack
retries an event it got no answer for, and the runtime drops the retries by ``event_id``.

Slack's ``app_rate_limited`` notice is not an event callback, so no Bolt listener matches it (Bolt
would answer 404); a middleware acknowledges it and logs it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.slack.incoming import from_mention, from_message
from commands.router import default_registry, wanted_in_thread

if TYPE_CHECKING:
    from bot.slack.runtime import SlackRuntime

log = logging.getLogger(__name__)


def register(app: AsyncApp, runtime: SlackRuntime) -> None:
    registry = default_registry()

    def wanted(text: str) -> bool:
        return wanted_in_thread(text, registry)

    async def on_mention(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        runtime.submit(from_mention(event, event_id=body.get("event_id"), bot_user_id=context.bot_user_id))

    async def on_message(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        # Every message event is acknowledged, handled or not: an unanswered one is retried.
        await ack()
        request = from_message(
            event, event_id=body.get("event_id"), bot_user_id=context.bot_user_id, wanted_in_thread=wanted
        )
        if request is not None:
            runtime.submit(request)

    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
    app.middleware(acknowledge_rate_limit_notice)


async def acknowledge_rate_limit_notice(
    body: dict[str, Any], next: Callable[[], Awaitable[None]]
) -> BoltResponse | None:  # noqa: A002
    """Slack sends ``app_rate_limited`` when it starts dropping this app's events (more than
    30,000 an hour to one workspace): the events of that minute are lost for good, which the
    people waiting for answers will notice, so it is a warning. Everything else goes on."""
    if body.get("type") != "app_rate_limited":
        await next()
        return None
    log.warning(
        "Slack is dropping events for this app: rate limited from minute %s (team %s, app %s)",
        body.get("minute_rate_limited"),
        body.get("team_id"),
        body.get("api_app_id"),
    )
    return BoltResponse(status=200, body="")
