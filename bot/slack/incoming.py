"""Slack payloads as requests for the core: who asked, where, what they said or pressed, and
where to answer them.

Slack sends text with its own markup: ``&amp;``-style entities, ``<@U123|dana>`` mentions,
``<#C123|finance>`` channels, ``<https://x|label>`` links. The core gets plain words, so a
customer typed as ``Smith & Sons`` is looked up as typed.

Which messages reach the core: every slash command; every mention of the bot; everything said
to the bot in its direct messages; and, in channels, replies in the thread of one of the bot's
own posts that are for the bot: a line starting with a command word (``approve``, ``confirm``...)
or one that reads as a decision ("Approved: customer paid", "Not received yet"); the core
decides which (``commands.router.wanted_in_thread``). A thread is where people also talk among
themselves, so "thanks, on it" there gets no "unknown command" answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.slack.messenger import AnswerTo
from bot.slack.render import from_lookalikes
from commands.messages import Action, Where

# Slash command -> the core command word it stands for ("" = the text names the command).
SLASH_COMMANDS = {"/ar": "", "/promise": "promise", "/logcall": "log", "/paid": "paid"}
# Events the app subscribes to (the manifest must declare each; a test checks it).
EVENTS = ("app_mention", "message.channels", "message.groups", "message.im", "app_home_opened")
PREFIX = "/ar"

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\^[^|>]*)?(?:\|([^>]*))?>")
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


@dataclass(frozen=True)
class Request:
    """One thing for the core to handle, and where its answer goes. ``request_id`` is its
    idempotency key: the ``event_id`` of an Events API delivery (Slack retries those), else the
    ``trigger_id`` Slack gives each slash command, button press and form submission."""

    user_id: str
    where: Where
    to: AnswerTo
    text: str | None = None
    action: Action | None = None
    request_id: str | None = None
    from_home: bool = False


def plain_text(text: str, *, bot_user_id: str | None = None) -> str:
    """Slack's markup as plain words; mentions of the bot itself are dropped."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    text = _MENTION.sub(lambda m: "@" + (m[2] or m[1]), text)
    text = _CHANNEL.sub(lambda m: "#" + (m[2] or m[1]), text)
    text = _SPECIAL.sub(lambda m: m[2] or "@" + m[1], text)
    text = _LINK.sub(lambda m: m[2] or m[1].removeprefix("mailto:"), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return from_lookalikes(text).strip()


def strip_prefix(text: str) -> str:
    """``/ar status acme`` typed as a message is ``status acme``."""
    word, _, rest = text.partition(" ")
    return rest.strip() if word.lower() == PREFIX else text


def from_command(body: dict[str, Any]) -> Request:
    """A slash command; ``/promise acme 1200 fri`` is ``promise acme 1200 fri``."""
    user, channel = str(body["user_id"]), str(body["channel_id"])
    word = SLASH_COMMANDS.get(str(body.get("command", "")), "")
    text = plain_text(str(body.get("text") or ""))
    return Request(
        user_id=user,
        where=Where(channel),
        text=f"{word} {text}".strip() if word else text,
        to=AnswerTo(user, channel, response_url=body.get("response_url") or None),
        request_id=trigger_of(body),
    )


def trigger_of(body: dict[str, Any]) -> str | None:
    """The ``trigger_id`` of a slash command, button press or form submission: unique to that
    one interaction, so it serves as the request's idempotency key."""
    trigger = body.get("trigger_id")
    return f"trigger:{trigger}" if isinstance(trigger, str) and trigger else None


def action_origin(body: dict[str, Any]) -> tuple[Where, AnswerTo, bool]:
    """Where a button was pressed and where to answer: in the thread of the message it is on
    (top level in a direct message), through the response URL on an ephemeral message, and in
    the presser's direct messages for the App Home tab. The flag says it was the Home tab."""
    user = str(body["user"]["id"])
    container = body.get("container") or {}
    if container.get("type") != "message":
        return Where(user), AnswerTo(user), True
    channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id", ""))
    message = body.get("message") or {}
    if container.get("is_ephemeral"):
        return Where(channel), AnswerTo(user, channel, response_url=body.get("response_url") or None), False
    thread = container.get("thread_ts") or message.get("thread_ts") or container.get("message_ts")
    in_dm = channel.startswith("D")
    return Where(channel, thread), AnswerTo(user, channel, None if in_dm else thread), False


def from_mention(event: dict[str, Any], *, event_id: str | None, bot_user_id: str | None) -> Request:
    """``@arbot approve`` in a thread, or ``@arbot status acme`` anywhere: answered in the
    thread (a new one under the mention when it was not in one)."""
    user, channel = str(event["user"]), str(event["channel"])
    thread = event.get("thread_ts")
    return Request(
        user_id=user,
        where=Where(channel, thread),
        request_id=event_id,
        text=strip_prefix(plain_text(str(event.get("text") or ""), bot_user_id=bot_user_id)),
        to=AnswerTo(user, channel, thread or event.get("ts")),
    )


def from_message(
    event: dict[str, Any], *, event_id: str | None, bot_user_id: str | None, wanted_in_thread: Callable[[str], bool]
) -> Request | None:
    """A message for the core, or None when it is not one (see the module)."""
    user = event.get("user")
    if event.get("subtype") or event.get("bot_id") or not user or user == bot_user_id:
        return None
    raw, channel, thread = str(event.get("text") or ""), str(event["channel"]), event.get("thread_ts")
    if event.get("channel_type") == "im":
        return Request(
            user_id=user,
            where=Where(channel, thread),
            to=AnswerTo(user, channel, thread),
            text=strip_prefix(plain_text(raw, bot_user_id=bot_user_id)),
            request_id=event_id,
        )
    if not thread or thread == event.get("ts") or event.get("parent_user_id") != bot_user_id:
        return None
    if bot_user_id and f"<@{bot_user_id}" in raw:
        return None  # the app_mention event for the same message is the one handled
    text = plain_text(raw, bot_user_id=bot_user_id)
    if not wanted_in_thread(text):
        return None
    return Request(
        user_id=user, where=Where(channel, thread), to=AnswerTo(user, channel, thread), text=text, request_id=event_id
    )
