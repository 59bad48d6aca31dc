"""Finding what an earlier attempt of an outbox entry left in a Slack conversation.

Every post the outbox makes carries its entry's key as message metadata. When an attempt may
have landed without the bot hearing so (a dispatcher died mid-send, a connection dropped or
timed out after Slack took the post), the retry reads the channel's history (or the thread's
replies) since shortly before the entry was queued and takes the parts it finds there as sent.
History wants a channel id; the team file names channels (``finance``), so names are resolved
once through ``conversations.list`` and kept."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient

from commands.messages import Where

OUTBOX_EVENT = "arbot_outbox"  # the metadata event type that carries an outbox entry's key
LOOKUP_MARGIN = timedelta(minutes=5)  # clocks disagree a little; look a bit before the entry was queued
LOOKUP_PAGE_SIZE = 100
LOOKUP_PAGES = 10  # at most 1,000 messages since the entry was queued: a busy channel, not a firehose
CHANNEL_ID = re.compile(r"[CDG][A-Z0-9]{2,}")


def outbox_metadata(key: str, part: int) -> dict[str, Any]:
    """Slack message metadata naming outbox entry ``key`` (and which part of a long reply)."""
    return {"event_type": OUTBOX_EVENT, "event_payload": {"key": key, "part": part}}


def outbox_part(message: dict[str, Any], key: str) -> int | None:
    """Which part of entry ``key`` this history message is, if it is one."""
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    if metadata.get("event_type") != OUTBOX_EVENT or payload.get("key") != key:
        return None
    part = payload.get("part", 0)
    return part if isinstance(part, int) else 0


class EarlierPosts:
    """Looks up earlier attempts through ``client``; Slack's errors are raised as they come
    (the messenger decides which of them still let the post go out)."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._channel_ids: dict[str, str] = {}  # a channel as the team file names it -> its id

    def remember(self, name: str, channel_id: str) -> None:
        """A post to ``name`` landed in ``channel_id``: no look-up needed for it later."""
        self._channel_ids.setdefault(name, channel_id)

    def landed(self, where: Where, key: str, since: datetime) -> dict[int, tuple[str, str]]:
        """The parts of outbox entry ``key`` already in the conversation: part -> (channel, ts)."""
        channel = self.channel_id(where.channel)
        if channel is None:
            return {}  # Slack knows no such channel: nothing was posted there
        return self._search(channel, where.thread, key, f"{(since - LOOKUP_MARGIN).timestamp():.6f}")

    def _search(self, channel: str, thread: str | None, key: str, oldest: str) -> dict[int, tuple[str, str]]:
        found: dict[int, tuple[str, str]] = {}
        cursor: str | None = None
        for _ in range(LOOKUP_PAGES):
            params: dict[str, Any] = {
                "channel": channel,
                "oldest": oldest,
                "limit": LOOKUP_PAGE_SIZE,
                "include_all_metadata": True,
                "cursor": cursor,
            }
            response = (
                self.client.conversations_replies(ts=thread, **params)
                if thread
                else self.client.conversations_history(**params)
            )
            for message in response.get("messages") or []:
                part = outbox_part(message, key)
                if part is not None:
                    found.setdefault(part, (channel, str(message["ts"])))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or not cursor:
                break
        return found

    def channel_id(self, name: str) -> str | None:
        """The id of channel ``name`` (the team file may name it): history needs the id."""
        if CHANNEL_ID.fullmatch(name):
            return name
        if name not in self._channel_ids:
            wanted = name.removeprefix("#")
            cursor: str | None = None
            for _ in range(LOOKUP_PAGES):
                response = self.client.conversations_list(
                    types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor
                )
                for channel in response.get("channels") or []:
                    if channel.get("name") == wanted:
                        self._channel_ids[name] = str(channel["id"])
                        return self._channel_ids[name]
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return None
        return self._channel_ids.get(name)
