"""The Messenger port on Slack's Web API, and answering the person who asked.

Synchronous on purpose: the core is, and it runs in a worker thread after Slack was acknowledged
(the scheduler calls it from its own threads too). The Web API client retries a 429 after the
``Retry-After`` Slack gives and a 500/503 with a backoff, using slack_sdk's retry handlers, so a
busy workspace slows a post down instead of losing it.

Where a post lands is reported with the channel *id* Slack returns, even when the team file
names the channel (``finance``): ``chat.update`` and thread replies need the id."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

from bot.slack.drawn import DrawnReplies
from bot.slack.earlier_posts import EarlierPosts, outbox_metadata
from bot.slack.http_pool import HttpPool
from bot.slack.identity import SlackIdentity, UnknownSlackUser
from bot.slack.pooled_clients import PooledWebClient, PooledWebhookClient, shared_pool
from bot.slack.render import MAX_BLOCKS, SlackMessage, escape, render, render_one
from bot.slack.settings import SlackSettings
from commands.messages import Attachment, DeliveryFailed, PostedRef, Reply, Where

log = logging.getLogger(__name__)
T = TypeVar("T")

TIMEOUT_SECONDS = 15


def retry_handlers() -> list[RetryHandler]:
    """Connection resets once, rate limits up to three times (each after Slack's Retry-After),
    server errors twice with a backoff."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=1),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ]


def web_client(settings: SlackSettings, *, outbox: bool = False, pool: HttpPool | None = None) -> WebClient:
    """The fast path's client retries in place. The outbox's never does: a 429 or a 5xx is
    rescheduled by the dispatcher instead of holding a worker asleep, and a connection dropped
    after Slack may already have posted must not be blindly sent again; the dispatcher's retry
    first looks for the earlier attempt (:meth:`SlackMessenger.post` with ``unsure_since``).
    Both keep their connections to Slack open between calls (``pool``, the process's by
    default), which repeats a request only when it provably did not go out."""
    handlers: list[RetryHandler] = [] if outbox else retry_handlers()
    return PooledWebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        timeout=TIMEOUT_SECONDS,
        retry_handlers=handlers,
        pool=pool or shared_pool(),
    )


# A kept direct-message channel Slack refuses with one of these is stale: opened again, once.
STALE_DM_ERRORS = frozenset({"channel_not_found", "is_archived", "not_in_channel", "user_disabled", "user_not_found"})
RESPONSE_URL_USES = 5  # Slack accepts at most five messages through one response_url
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org"}
)
HINTS = {
    "not_in_channel": "invite the bot to that channel (/invite @arbot)",
    "channel_not_found": "check the channel in the team file, and invite the bot if it is private",
    "is_archived": "the channel is archived; point the team file at another one",
    "user_not_found": "check the member's email in the team file",
    "users_not_found": "check the member's email in the team file",
    "account_inactive": "the member's Slack account is deactivated; update the team file",
    "user_disabled": "the member's Slack account is deactivated; update the team file",
    "cannot_dm_bot": "the team file points a member at a bot user",
    "invalid_auth": "check SLACK_BOT_TOKEN",
    "not_authed": "check SLACK_BOT_TOKEN",
    "token_revoked": "the app was uninstalled or its token revoked; reinstall it and update SLACK_BOT_TOKEN",
}


def delivery_failure(exc: Exception) -> DeliveryFailed:
    """A Slack failure in the outbox's terms: what will pass by itself and what needs a person."""
    if isinstance(exc, UnknownSlackUser):
        return DeliveryFailed(
            str(exc),
            permanent=True,
            may_have_landed=False,
            hint="check the member's email in the team file, or give their slack_id there",
        )
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"HTTP {status}")
        # Slack answered: below 500 that answer is that it posted nothing (a 429, a refusal).
        # A 5xx may come from a gateway after Slack took the post.
        answered = status < 500
        if status == 429 or status >= 500 or error in TRANSIENT_ERRORS:
            retry_after = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
            return DeliveryFailed(
                f"Slack answered {error}",
                permanent=False,
                may_have_landed=not answered,
                retry_after=float(retry_after) if _number(retry_after) else None,
            )
        return DeliveryFailed(
            f"Slack refused: {error}", permanent=True, hint=HINTS.get(error, ""), may_have_landed=not answered
        )
    return DeliveryFailed(f"Slack did not answer: {type(exc).__name__}: {exc}"[:300], permanent=False)


def _slack_error(exc: Exception) -> str | None:
    """The error code Slack answered with, when the failure is Slack's refusal."""
    cause = exc.__cause__ if isinstance(exc, DeliveryFailed) else exc
    return str(cause.response.get("error")) if isinstance(cause, SlackApiError) else None


def _number(text: Any) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


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

        return cls(
            user_id=str(data.get("user_id", "")),
            channel=text("channel"),
            thread=text("thread"),
            response_url=text("response_url"),
        )


class SlackMessenger:
    """Posts, updates and direct messages through ``chat.postMessage`` / ``chat.update`` /
    ``conversations.open``, and answers askers (:meth:`answer`). Failures come out as the
    core's :class:`DeliveryFailed`, which the outbox retries or reports. Every post from the
    outbox carries its entry's key, so a retry can find an earlier attempt that landed."""

    finds_earlier_attempts = True  # the dispatcher passes ``key`` and ``unsure_since``
    resumes_parts = True  # and ``parts_sent``

    def __init__(self, client: WebClient, identity: SlackIdentity, *, pool: HttpPool | None = None) -> None:
        self.client = client
        self.identity = identity
        # response_url answers share the Web API client's kept connections (by default)
        self.pool = pool or (client.pool if isinstance(client, PooledWebClient) else shared_pool())
        self.earlier = EarlierPosts(client)  # what a retry finds of an attempt that landed
        self.drawn = DrawnReplies()  # answers drawn once for identical replies (a kept call list)

    def post(
        self,
        where: Where,
        reply: Reply,
        *,
        key: str | None = None,
        unsure_since: datetime | None = None,
        parts_sent: Mapping[int, PostedRef] | None = None,
    ) -> PostedRef:
        """Post in a channel or thread; a reply too long for one message continues in more,
        and the first (which carries the buttons and the mentions) is the one reported.

        ``key`` (the outbox entry's) goes along as message metadata. ``unsure_since`` says an
        earlier attempt may have landed (a dispatcher died mid-send, a connection dropped after
        Slack took the post): the conversation is searched first, and only the parts not found
        there are posted, so a retry never shows a message twice. ``parts_sent`` are parts an
        earlier attempt delivered (it failed on a later one): they are not posted again. When a
        part fails, the failure names the parts that went out before it."""
        with _as_delivery_failure():
            return self._post(where, reply, key=key, unsure_since=unsure_since, parts_sent=parts_sent)

    def _post(
        self,
        where: Where,
        reply: Reply,
        *,
        key: str | None = None,
        unsure_since: datetime | None = None,
        parts_sent: Mapping[int, PostedRef] | None = None,
    ) -> PostedRef:
        done = dict(parts_sent or {})
        if key and unsure_since:
            landed = self._landed(where, key, unsure_since, done)
            done.update(
                {n: PostedRef(Where(channel, where.thread), ts) for n, (channel, ts) in landed.items() if n not in done}
            )
        messages = render(reply)
        for n, message in enumerate(messages):
            if n in done:
                continue
            payload = _payload(self._mentioning(reply, message) if n == 0 else message)
            if key:
                payload["metadata"] = outbox_metadata(key, n)
            try:
                response = self.client.chat_postMessage(channel=where.channel, thread_ts=where.thread, **payload)
            except (SlackApiError, OSError, TimeoutError) as exc:
                failure = delivery_failure(exc)
                failure.parts = done
                raise failure from exc
            channel, ts = str(response["channel"]), str(response["ts"])
            self.earlier.remember(where.channel, channel)
            done[n] = PostedRef(where=Where(channel, where.thread), message_id=ts)
        for n, file in enumerate(reply.files, start=len(messages)):
            if n not in done:
                self._share_part(done[0].where.channel, where.thread, file, done)
                done[n] = done[0]
        return done[0]  # render always gives at least the title

    def _share_part(self, channel: str, thread: str | None, file: Attachment, done: dict[int, PostedRef]) -> None:
        """A file after its message, as one more part: a retry after a later failure does not
        share it twice (files carry no metadata, so one shared just before a crash can be)."""
        try:
            self.share(channel, thread, file)
        except (SlackApiError, SlackRequestError, OSError, TimeoutError) as exc:
            failure = delivery_failure(exc)
            failure.parts = done
            raise failure from exc

    def share(self, channel: str, thread: str | None, file: Attachment) -> None:
        """Upload ``file`` into a conversation (id) or thread: files.getUploadURLExternal, the
        upload, then files.completeUploadExternal, as ``files_upload_v2`` does them."""
        self.client.files_upload_v2(
            channel=channel, thread_ts=thread, file=file.data, filename=file.name, title=file.title or file.name
        )

    def _share_all(self, channel: str, files: Iterable[Attachment]) -> None:
        for file in files:
            self.share(channel, None, file)

    def update(self, ref: PostedRef, reply: Reply) -> None:
        """Replace a posted message; doing it twice shows the same thing, so a retry needs no
        look-up."""
        with _as_delivery_failure():
            self.client.chat_update(channel=ref.where.channel, ts=ref.message_id, **_payload(render_one(reply)))

    def direct(
        self,
        email: str,
        reply: Reply,
        *,
        key: str | None = None,
        unsure_since: datetime | None = None,
        parts_sent: Mapping[int, PostedRef] | None = None,
    ) -> PostedRef:
        """Post in team member ``email``'s direct messages (:meth:`_in_direct_messages`)."""
        with _as_delivery_failure():
            return self._in_direct_messages(
                self.identity.user_id_of(email),
                lambda channel, done: self._post(
                    Where(channel), reply, key=key, unsure_since=unsure_since, parts_sent=done
                ),
                parts_sent,
                email=email,
            )

    def _in_direct_messages(
        self,
        user_id: str,
        send: Callable[[str, Mapping[int, PostedRef] | None], T],
        parts_sent: Mapping[int, PostedRef] | None = None,
        *,
        email: str | None = None,
    ) -> T:
        """``send(channel, parts_sent)`` into ``user_id``'s direct messages: the channel kept
        from an earlier day as it is; if Slack refuses it (deleted, archived, the person
        deactivated), it is forgotten and opened again, once, so a stale id never costs a
        message. A refusal to open one (a deactivated person) is raised as Slack gave it."""
        kept = self.identity.kept_dm_channel(user_id)
        if kept is None:
            return send(self.identity.open_dm_channel(user_id, email=email), parts_sent)
        try:
            return send(kept, parts_sent)
        except (DeliveryFailed, SlackApiError) as exc:
            if _slack_error(exc) not in STALE_DM_ERRORS:
                raise
            log.info("Slack refused the kept direct messages of %s (%s); opening them again", user_id, exc)
            self.identity.forget_dm_channel(user_id)
            done = exc.parts if isinstance(exc, DeliveryFailed) else parts_sent
            return send(self.identity.open_dm_channel(user_id, email=email), done)

    def _landed(
        self, where: Where, key: str, since: datetime, done: dict[int, PostedRef]
    ) -> dict[int, tuple[str, str]]:
        """The parts of ``key`` an earlier attempt left in the conversation. A look-up Slack
        refuses for good (the scope is missing, the bot may post but not read there) cannot
        tell, and the post goes out: a possible repeat beats a lost message. A 429, 5xx or
        timeout on the look-up fails the attempt, still unsure, so the entry waits for the next
        one instead of posting blind."""
        try:
            return self.earlier.landed(where, key, since)
        except SlackApiError as exc:
            failure = delivery_failure(exc)
            if failure.permanent:
                log.warning(
                    "cannot look for earlier attempts of %s in %s (%s); sending it again",
                    key,
                    where.channel,
                    exc.response.get("error"),
                )
                return {}
            failure.may_have_landed, failure.parts = True, done
            raise failure from exc

    def _mentioning(self, reply: Reply, message: SlackMessage) -> SlackMessage:
        """The first message with a line that mentions ``reply.mentions`` (``<@U…>``), so their
        Slack notifies them; someone Slack cannot find is named instead."""
        if not reply.mentions:
            return message
        tags = []
        for email in reply.mentions:
            try:
                tags.append(f"<@{self.identity.user_id_of(email)}>")
            except (UnknownSlackUser, SlackApiError):
                tags.append(escape(email))
        line = " ".join(tags)
        block = {"type": "section", "text": {"type": "mrkdwn", "text": line}}
        return SlackMessage(f"{line} {message.text}", [block, *message.blocks][:MAX_BLOCKS])

    def answer(self, to: AnswerTo, reply: Reply, *, uses: list[int] | None = None) -> None:
        """Answer the asker, and only them: an answer carries balances and notes, and a channel
        is not the place for those. Through the ``response_url`` (ephemeral) while it has uses
        left, else ephemerally in the channel, else in their direct messages. ``uses`` counts
        the response_url's messages across the answers to one request."""
        uses = [0] if uses is None else uses
        messages = self.drawn.render(reply)
        if to.response_url and uses[0] + len(messages) <= RESPONSE_URL_USES:
            uses[0] += len(messages)
            self._respond(to.response_url, messages)
        elif to.channel and not to.channel.startswith("D"):
            self._ephemeral(to, reply)
        else:
            self.post(Where(to.channel or to.user_id, to.thread if to.channel else None), replace(reply, files=()))
        if reply.files:  # an ephemeral answer cannot carry a file: it goes to the asker's direct messages
            self._in_direct_messages(to.user_id, lambda dm, _: self._share_all(dm, reply.files))

    def _respond(self, url: str, messages: list[SlackMessage]) -> None:
        hook = PooledWebhookClient(url, timeout=TIMEOUT_SECONDS, retry_handlers=retry_handlers(), pool=self.pool)
        for message in messages:
            response = hook.send(
                text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False
            )
            if response.status_code != 200:
                raise SlackApiError(
                    f"response_url answered {response.status_code}",
                    {"ok": False, "error": response.body or str(response.status_code)},
                )

    def _ephemeral(self, to: AnswerTo, reply: Reply) -> None:
        """Only the asker sees it; where the bot cannot post ephemerally (a channel it is not
        in), it goes to their direct messages instead."""
        assert to.channel is not None
        try:
            for message in render(reply):
                self.client.chat_postEphemeral(
                    channel=to.channel, user=to.user_id, thread_ts=to.thread, text=message.text, blocks=message.blocks
                )
        except SlackApiError as exc:
            log.info("ephemeral answer in %s failed (%s); sending it directly", to.channel, exc.response.get("error"))
            self.post(Where(to.user_id), reply)


@contextmanager
def _as_delivery_failure() -> Iterator[None]:
    try:
        yield
    except DeliveryFailed:
        raise
    except (SlackApiError, UnknownSlackUser, OSError, TimeoutError) as exc:
        raise delivery_failure(exc) from exc


def _payload(message: SlackMessage) -> dict[str, Any]:
    return {"text": message.text, "blocks": message.blocks, "unfurl_links": False, "unfurl_media": False}
