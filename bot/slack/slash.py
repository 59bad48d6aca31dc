"""Slash commands: ``/ar <command>`` for everything, and ``/promise``, ``/logcall``, ``/paid`` as
shortcuts for the commands used most. Acknowledged empty at once (Slack shows nothing for an
empty acknowledgement); the answer follows through the command's ``response_url``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.incoming import SLASH_COMMANDS, from_command

if TYPE_CHECKING:
    from bot.slack.runtime import SlackRuntime


def register(app: AsyncApp, runtime: SlackRuntime) -> None:
    async def on_command(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        runtime.submit(from_command(body))

    for name in SLASH_COMMANDS:
        app.command(name)(on_command)
