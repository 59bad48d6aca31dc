"""Mentions of the bot and messages: how "approve" typed in an approval card's thread, or a
command typed in the bot's direct messages, reaches the core (which messages do is decided in
:func:`bot.slack.incoming.from_message`). Events are acknowledged before anything else; Slack
retries an event it got no answer for, and the runtime drops the retries by ``event_id``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.slack.incoming import from_mention, from_message
from commands.router import default_registry

if TYPE_CHECKING:
    from bot.slack.runtime import SlackRuntime


def register(app: AsyncApp, runtime: SlackRuntime) -> None:
    registry = default_registry()

    def is_command(word: str) -> bool:
        return registry.find(word) is not None

    async def on_mention(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any],
                         context: AsyncBoltContext) -> None:
        await ack()
        runtime.submit(from_mention(event, event_id=body.get("event_id"), bot_user_id=context.bot_user_id))

    async def on_message(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any],
                         context: AsyncBoltContext) -> None:
        # Every message event is acknowledged, handled or not: an unanswered one is retried.
        await ack()
        request = from_message(event, event_id=body.get("event_id"), bot_user_id=context.bot_user_id,
                               is_command=is_command)
        if request is not None:
            runtime.submit(request)

    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
