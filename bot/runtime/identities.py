"""Who a platform user is on the team: the platform user id -> email answers a platform gave,
cached in memory and in ``chat_identities`` so a restart does not ask about everyone again, and
asked again after :data:`REFRESH_AFTER` in case an address changed. When the platform cannot be
asked, an old answer is better than none.

With the identity goes the direct-message channel the platform opened for that user (Slack's
``conversations.open``): kept in the same row, so after a restart the morning's lists go straight
to each member instead of costing a look-up and an open each. It is forgotten when the platform
refuses it, and opened again by the adapter."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from commands.context import AppContext
from storage.models import ChatIdentity

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(days=7)
_KEPT_IN_MEMORY = 10_000


@dataclass(frozen=True)
class Known:
    email: str
    fresh: bool  # looked up less than REFRESH_AFTER ago; else worth asking the platform again


class IdentityCache:
    """One platform's looked-up identities. Synchronous: called from worker threads."""

    def __init__(self, ctx: AppContext, platform: str, *, refresh_after: timedelta = REFRESH_AFTER) -> None:
        self._ctx = ctx
        self.platform = platform
        self._refresh_after = refresh_after
        self._memory: dict[str, tuple[str, datetime]] = {}
        self._dm_channels: dict[str, str] = {}  # user id -> direct-message channel

    def known(self, user_id: str) -> Known | None:
        """The cached email of ``user_id`` and whether it is fresh; None if never looked up."""
        remembered = self._memory.get(user_id)
        if remembered is None:
            with self._ctx.sessions() as session:
                row = session.execute(
                    select(ChatIdentity.email, ChatIdentity.updated_at).where(
                        ChatIdentity.platform == self.platform, ChatIdentity.user_id == user_id
                    )
                ).first()
            if row is None:
                return None
            remembered = (row.email, row.updated_at)
            self._keep(user_id, remembered)
        email, updated_at = remembered
        return Known(email, self._ctx.clock.now() - updated_at < self._refresh_after)

    def user_id_of(self, email: str) -> str | None:
        """The platform user last seen with ``email`` (the other way round, for mentions and DMs)."""
        with self._ctx.sessions() as session:
            return session.scalar(
                select(ChatIdentity.user_id)
                .where(ChatIdentity.platform == self.platform, ChatIdentity.email == email.strip().lower())
                .order_by(ChatIdentity.updated_at.desc(), ChatIdentity.id.desc())
                .limit(1)
            )

    def remember(self, user_id: str, email: str) -> None:
        """Insert or refresh the cache row; a concurrent insert of the same user is fine."""
        now = self._ctx.clock.now()
        email = email.strip().lower()
        self._keep(user_id, (email, now))
        try:
            with self._ctx.sessions.begin() as session:
                row = session.scalar(
                    select(ChatIdentity).where(ChatIdentity.platform == self.platform, ChatIdentity.user_id == user_id)
                )
                if row is None:
                    session.add(ChatIdentity(platform=self.platform, user_id=user_id, email=email, updated_at=now))
                else:
                    row.email, row.updated_at = email, now
        except IntegrityError:
            log.debug("identity of %s cached by another request first", user_id)

    def _keep(self, user_id: str, entry: tuple[str, datetime]) -> None:
        self._memory[user_id] = entry
        while len(self._memory) > _KEPT_IN_MEMORY:
            self._memory.pop(next(iter(self._memory)))

    def dm_channel(self, user_id: str) -> str | None:
        """The direct-message channel kept for ``user_id`` (memory, then the database), if any."""
        channel = self._dm_channels.get(user_id)
        if channel is None:
            with self._ctx.sessions() as session:
                channel = session.scalar(
                    select(ChatIdentity.dm_channel).where(
                        ChatIdentity.platform == self.platform, ChatIdentity.user_id == user_id
                    )
                )
            if channel is not None:
                self._dm_channels[user_id] = channel
        return channel

    def remember_dm_channel(self, user_id: str, channel: str, *, email: str | None) -> None:
        """Keep ``channel`` as ``user_id``'s direct messages: on their identity row, or on a new
        one when ``email`` says who they are; with neither, in this process's memory only."""
        self._dm_channels[user_id] = channel
        try:
            with self._ctx.sessions.begin() as session:
                row = session.scalar(
                    select(ChatIdentity).where(ChatIdentity.platform == self.platform, ChatIdentity.user_id == user_id)
                )
                if row is not None:
                    row.dm_channel = channel
                elif email:
                    session.add(
                        ChatIdentity(
                            platform=self.platform,
                            user_id=user_id,
                            email=email.strip().lower(),
                            updated_at=self._ctx.clock.now(),
                            dm_channel=channel,
                        )
                    )
        except IntegrityError:
            log.debug("identity of %s cached by another request first", user_id)

    def forget_dm_channel(self, user_id: str) -> None:
        """The platform refused the kept channel (deleted, archived, the user deactivated)."""
        self._dm_channels.pop(user_id, None)
        with self._ctx.sessions.begin() as session:
            row = session.scalar(
                select(ChatIdentity).where(ChatIdentity.platform == self.platform, ChatIdentity.user_id == user_id)
            )
            if row is not None:
                row.dm_channel = None
