"""The Messenger port on Slack's Web API, and answering the person who asked.

Synchronous on purpose: the core is, and it runs in a worker thread after Slack was acknowledged
(the scheduler calls it from its own threads too). The Web API client retries a 429 after the
``Retry-After`` Slack gives and a 500/503 with a backoff, using slack_sdk's retry handlers, so a
busy workspace slows a post down instead of losing it.

Where a post lands is reported with the channel *id* Slack returns, even when the team file
names the channel (``finance``): ``chat.update`` and thread replies need the id."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler, RateLimitErrorRetryHandler, ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.webhook import WebhookClient

from bot.slack.identity import SlackIdentity
from bot.slack.render import SlackMessage, render, render_one
from bot.slack.settings import SlackSettings
from commands.messages import PostedRef, Reply, Where

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15


def retry_handlers() -> list[RetryHandler]:
    """Connection resets once, rate limits up to three times (each after Slack's Retry-After),
    server errors twice with a backoff."""
    return [ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2)]


def web_client(settings: SlackSettings) -> WebClient:
    return WebClient(token=settings.bot_token, base_url=settings.api_url, timeout=TIMEOUT_SECONDS,
                     retry_handlers=retry_handlers())


@dataclass(frozen=True)
class AnswerTo:
    """Where to answer the person who asked: through the ``response_url`` Slack gave (slash
    commands, buttons on ephemeral messages), in a channel or thread (only they see a private
    answer there), or else in their direct messages with the bot."""

    user_id: str
    channel: str | None = None
    thread: str | None = None
    response_url: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnswerTo:
        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and value else None
        return cls(user_id=str(data.get("user_id", "")), channel=text("channel"), thread=text("thread"),
                   response_url=text("response_url"))


class SlackMessenger:
    """Posts, updates and direct messages through ``chat.postMessage`` / ``chat.update`` /
    ``conversations.open``, and answers askers (:meth:`answer`)."""

    def __init__(self, client: WebClient, identity: SlackIdentity) -> None:
        self.client = client
        self.identity = identity
        self._dm_channels: dict[str, str] = {}

    def post(self, where: Where, reply: Reply) -> PostedRef:
        """Post in a channel or thread; a reply too long for one message continues in more,
        and the first (which carries the buttons) is the one reported."""
        first: PostedRef | None = None
        for message in render(reply):
            response = self.client.chat_postMessage(channel=where.channel, thread_ts=where.thread,
                                                    **_payload(message))
            if first is None:
                first = PostedRef(where=Where(str(response["channel"]), where.thread),
                                  message_id=str(response["ts"]))
        assert first is not None  # render always gives at least the title
        return first

    def update(self, ref: PostedRef, reply: Reply) -> None:
        self.client.chat_update(channel=ref.where.channel, ts=ref.message_id, **_payload(render_one(reply)))

    def direct(self, email: str, reply: Reply) -> PostedRef:
        return self.post(Where(self.dm_channel(email)), reply)

    def dm_channel(self, email: str) -> str:
        """The direct-message channel with team member ``email``, opened once per process."""
        if email not in self._dm_channels:
            user_id = self.identity.user_id_of(email)
            response = self.client.conversations_open(users=user_id)
            self._dm_channels[email] = str(response["channel"]["id"])
        return self._dm_channels[email]

    def answer(self, to: AnswerTo, reply: Reply) -> None:
        """Answer the asker: privately when the reply says so, else where they spoke."""
        if to.response_url:
            self._respond(to.response_url, reply)
        elif to.channel and reply.private:
            self._ephemeral(to, reply)
        elif to.channel:
            self.post(Where(to.channel, to.thread), reply)
        else:
            self.post(Where(to.user_id), reply)

    def _respond(self, url: str, reply: Reply) -> None:
        hook = WebhookClient(url, timeout=TIMEOUT_SECONDS, retry_handlers=retry_handlers())
        kind = "ephemeral" if reply.private else "in_channel"
        for message in render(reply):
            response = hook.send(text=message.text, blocks=message.blocks, response_type=kind,
                                 replace_original=False)
            if response.status_code != 200:
                raise SlackApiError(f"response_url answered {response.status_code}",
                                    {"ok": False, "error": response.body or str(response.status_code)})

    def _ephemeral(self, to: AnswerTo, reply: Reply) -> None:
        """Only the asker sees it; where the bot cannot post ephemerally (a channel it is not
        in), it goes to their direct messages instead."""
        assert to.channel is not None
        try:
            for message in render(reply):
                self.client.chat_postEphemeral(channel=to.channel, user=to.user_id, thread_ts=to.thread,
                                               text=message.text, blocks=message.blocks)
        except SlackApiError as exc:
            log.info("ephemeral answer in %s failed (%s); sending it directly",
                     to.channel, exc.response.get("error"))
            self.post(Where(to.user_id), reply)


def _payload(message: SlackMessage) -> dict[str, Any]:
    return {"text": message.text, "blocks": message.blocks, "unfurl_links": False, "unfurl_media": False}
