"""Who a Slack user is on the team, and which Slack user a team member is.

The core knows people by email. A Slack user id is mapped to one by, in order: a ``slack_id``
given for the member in the team file (for workspaces that hide emails from apps), the
``chat_identities`` cache, and ``users.info`` (which needs the ``users:read.email`` scope). The
other way round, for direct messages, ``users.lookupByEmail``. Looked-up answers are kept by the
shared identity cache (bot.runtime.identities: memory and database, asked again after a week;
an old answer stands in while Slack cannot be asked). The direct-message channel of each
member is kept the same way (:meth:`SlackIdentity.kept_dm_channel`): ``conversations.open``
once per person, not once per process.

The morning's direct messages ask for each member's user id and channel; a database read for
each (on SQLite, in a transaction that waits for the writer lock the outbox's settles and the
jobs hold) made the identity the dearest part of a direct message. So the known identities are
read in one query into :class:`KnownIdentities` and answered from memory. Changes made through
this object update it at once; changes another process made (a replica that learned a new user
id or opened a new channel) are read again after :data:`SNAPSHOT_SECONDS`, and a member missing
from it is still looked for in the database before Slack is asked."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.runtime.identities import IdentityCache
from commands.context import AppContext
from storage.db import read_only
from storage.models import ChatIdentity

log = logging.getLogger(__name__)

PLATFORM = "slack"
SNAPSHOT_SECONDS = 60.0  # how long identities another process changed may be answered from memory


class UnknownSlackUser(LookupError):
    """No Slack account has this team member's email (or the app may not read emails)."""


def team_file_ids(raw: dict[str, Any]) -> dict[str, str]:
    """Slack user id -> email for ``[[members]]`` entries that give a ``slack_id``."""
    ids = {}
    for entry in raw.get("members", []):
        slack_id, email = str(entry.get("slack_id", "")).strip(), str(entry.get("email", "")).strip().lower()
        if slack_id and email:
            ids[slack_id] = email
    return ids


@dataclass
class KnownIdentities:
    """The Slack identities in ``chat_identities`` (email -> user id, user id -> direct-message
    channel), read in one query and kept for :data:`SNAPSHOT_SECONDS`. Thread-safe: the
    outbox's lanes ask it side by side."""

    ctx: AppContext
    seconds: float = SNAPSHOT_SECONDS
    monotonic: Callable[[], float] = time.monotonic
    _user_of: dict[str, str] = field(default_factory=dict)
    _channel_of: dict[str, str] = field(default_factory=dict)
    _read_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def user_id_of(self, email: str) -> str | None:
        self._fresh()
        return self._user_of.get(email)

    def dm_channel(self, user_id: str) -> str | None:
        self._fresh()
        return self._channel_of.get(user_id)

    def learned(self, user_id: str, email: str) -> None:
        """``user_id`` is ``email`` now: an address it had before no longer leads to it."""
        with self._lock:
            for old in [e for e, u in self._user_of.items() if u == user_id and e != email]:
                del self._user_of[old]
            self._user_of[email] = user_id

    def opened(self, user_id: str, channel: str | None) -> None:
        """``user_id``'s direct messages are ``channel`` now (None: forgotten)."""
        with self._lock:
            if channel is None:
                self._channel_of.pop(user_id, None)
            else:
                self._channel_of[user_id] = channel

    def _fresh(self) -> None:
        now = self.monotonic()
        if self._read_at is not None and now - self._read_at < self.seconds:
            return
        with self._lock:
            if self._read_at is not None and now - self._read_at < self.seconds:
                return
            with self.ctx.sessions() as session:
                rows = (
                    read_only(session)
                    .execute(
                        select(ChatIdentity.user_id, ChatIdentity.email, ChatIdentity.dm_channel)
                        .where(ChatIdentity.platform == PLATFORM)
                        .order_by(ChatIdentity.updated_at, ChatIdentity.id)  # the latest holder of an email last
                    )
                    .all()
                )
            self._user_of = {row.email: row.user_id for row in rows}
            self._channel_of = {row.user_id: row.dm_channel for row in rows if row.dm_channel}
            self._read_at = now


class SlackIdentity:
    """Slack user ids and team emails, both ways. Synchronous: it runs in worker threads,
    beside the database session it shares the process with."""

    def __init__(self, client: WebClient, ctx: AppContext) -> None:
        self._client = client
        self._ctx = ctx
        self._email_by_id = team_file_ids(ctx.team.raw)
        self._id_by_email = {email: user_id for user_id, email in self._email_by_id.items()}
        self.cache = IdentityCache(ctx, PLATFORM)
        self.known = KnownIdentities(ctx)

    def email_of(self, user_id: str) -> str | None:
        """The email of Slack user ``user_id``, or None when Slack will not say (the core then
        tells the person it cannot see their address)."""
        if user_id in self._email_by_id:
            return self._email_by_id[user_id]
        known = self.cache.known(user_id)
        if known is not None and known.fresh:
            return known.email
        try:
            profile = self._client.users_info(user=user_id)["user"].get("profile", {})
        except SlackApiError as exc:
            log.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
            return known.email if known is not None else None
        email = str(profile.get("email") or "").strip().lower()
        if not email:
            return None
        self._remember(user_id, email)
        return email

    def user_id_of(self, email: str) -> str:
        """The Slack user behind team member ``email``; :class:`UnknownSlackUser` if none."""
        email = email.strip().lower()
        if email in self._id_by_email:
            return self._id_by_email[email]
        known = self.known.user_id_of(email) or self.cache.user_id_of(email)
        if known is not None:
            return known
        try:
            user_id = str(self._client.users_lookupByEmail(email=email)["user"]["id"])
        except SlackApiError as exc:
            raise UnknownSlackUser(f"no Slack user has the email {email} ({exc.response.get('error')})") from exc
        self._remember(user_id, email)
        return user_id

    def _remember(self, user_id: str, email: str) -> None:
        self.cache.remember(user_id, email)
        self.known.learned(user_id, email)

    def kept_dm_channel(self, user_id: str) -> str | None:
        """The direct-message channel kept for ``user_id`` on an earlier day, if any."""
        return self.known.dm_channel(user_id) or self.cache.dm_channel(user_id)

    def open_dm_channel(self, user_id: str, *, email: str | None = None) -> str:
        """Ask Slack for the direct-message channel and keep it, with the member's email (given,
        or known from the team file or the cache) so their identity row can be made."""
        channel = str(self._client.conversations_open(users=user_id)["channel"]["id"])
        if email is None and user_id in self._email_by_id:
            email = self._email_by_id[user_id]
        elif email is None:
            known = self.cache.known(user_id)
            email = known.email if known is not None else None
        self.cache.remember_dm_channel(user_id, channel, email=email)
        self.known.opened(user_id, channel)
        return channel

    def forget_dm_channel(self, user_id: str) -> None:
        self.cache.forget_dm_channel(user_id)
        self.known.opened(user_id, None)
