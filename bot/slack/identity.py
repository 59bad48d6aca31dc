"""Who a Slack user is on the team, and which Slack user a team member is.

The core knows people by email. A Slack user id is mapped to one by, in order: a ``slack_id``
given for the member in the team file (for workspaces that hide emails from apps), the
``chat_identities`` cache, and ``users.info`` (which needs the ``users:read.email`` scope). The
other way round, for direct messages, ``users.lookupByEmail``. Looked-up answers are cached in
the database, so a restart does not ask Slack about everyone again, and refreshed after a week
in case an address changed."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from commands.context import AppContext
from storage.models import ChatIdentity

log = logging.getLogger(__name__)

PLATFORM = "slack"
REFRESH_AFTER = timedelta(days=7)


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


class SlackIdentity:
    """Slack user ids and team emails, both ways. Synchronous: it runs in worker threads,
    beside the database session it shares the process with."""

    def __init__(self, client: WebClient, ctx: AppContext) -> None:
        self._client = client
        self._ctx = ctx
        self._email_by_id = team_file_ids(ctx.team.raw)
        self._id_by_email = {email: user_id for user_id, email in self._email_by_id.items()}
        # Looked-up answers also kept in memory: every request asks who is speaking.
        self._known: dict[str, tuple[str, datetime]] = {}

    def email_of(self, user_id: str) -> str | None:
        """The email of Slack user ``user_id``, or None when Slack will not say (the core then
        tells the person it cannot see their address)."""
        if user_id in self._email_by_id:
            return self._email_by_id[user_id]
        known = self._known.get(user_id)
        if known is not None and self._fresh(known[1]):
            return known[0]
        cached = self._cached(user_id)
        if cached is not None and self._fresh(cached.updated_at):
            self._known[user_id] = (cached.email, cached.updated_at)
            return cached.email
        try:
            profile = self._client.users_info(user=user_id)["user"].get("profile", {})
        except SlackApiError as exc:
            log.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
            return cached.email if cached is not None else None
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
        with self._ctx.sessions() as session:
            known = session.scalar(select(ChatIdentity.user_id).where(
                ChatIdentity.platform == PLATFORM, ChatIdentity.email == email,
            ).order_by(ChatIdentity.updated_at.desc()).limit(1))
        if known is not None:
            return known
        try:
            user_id = str(self._client.users_lookupByEmail(email=email)["user"]["id"])
        except SlackApiError as exc:
            raise UnknownSlackUser(f"no Slack user has the email {email} "
                                   f"({exc.response.get('error')})") from exc
        self._remember(user_id, email)
        return user_id

    def _fresh(self, updated_at: datetime) -> bool:
        return self._ctx.clock.now() - updated_at < REFRESH_AFTER

    def _cached(self, user_id: str) -> ChatIdentity | None:
        with self._ctx.sessions() as session:
            return session.scalar(select(ChatIdentity).where(
                ChatIdentity.platform == PLATFORM, ChatIdentity.user_id == user_id))

    def _remember(self, user_id: str, email: str) -> None:
        """Insert or refresh the cache row; a concurrent insert of the same user is fine."""
        now = self._ctx.clock.now()
        self._known[user_id] = (email, now)
        try:
            with self._ctx.sessions.begin() as session:
                row = session.scalar(select(ChatIdentity).where(
                    ChatIdentity.platform == PLATFORM, ChatIdentity.user_id == user_id))
                if row is None:
                    session.add(ChatIdentity(platform=PLATFORM, user_id=user_id, email=email, updated_at=now))
                else:
                    row.email, row.updated_at = email, now
        except IntegrityError:
            log.debug("identity of %s cached by another request first", user_id)
