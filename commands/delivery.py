"""Delivering a use case's replies. Handlers never call a chat SDK: they return Replies, each
saying where it goes (answer the user, post to a channel or thread, message one person, or
replace a posted card). :func:`deliver` sends them through the platform's Messenger after the
transaction committed, and records where tracked posts landed."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commands.clock import Clock
from commands.messages import Messenger, PostedRef, Reply, Where
from storage.models import PostedMessage

log = logging.getLogger(__name__)


def deliver(replies: Iterable[Reply], *, messenger: Messenger, sessions: sessionmaker[Session],
            clock: Clock) -> list[Reply]:
    """Send every reply that has a destination; return the ones meant for the person who asked
    (the adapter answers those in place: ephemeral, in the thread, or printed)."""
    for_user: list[Reply] = []
    for reply in replies:
        if reply.replaces is not None:
            messenger.update(reply.replaces, reply)
        elif reply.to_user is not None:
            _remember(sessions, clock, reply.track, messenger.direct(reply.to_user, reply))
        elif reply.where is not None:
            _remember(sessions, clock, reply.track, messenger.post(reply.where, reply))
        else:
            for_user.append(reply)
    return for_user


def _remember(sessions: sessionmaker[Session], clock: Clock, key: str | None, ref: PostedRef) -> None:
    if key is None:
        return
    with sessions.begin() as session:
        row = session.scalar(select(PostedMessage).where(PostedMessage.key == key))
        if row is None:
            row = PostedMessage(key=key)
            session.add(row)
        row.channel, row.message_id = ref.where.channel, ref.message_id
        row.thread, row.posted_at = ref.where.thread, clock.now()


def posted(session: Session, key: str) -> PostedRef | None:
    """Where the tracked post ``key`` landed, if it was posted."""
    row = session.scalar(select(PostedMessage).where(PostedMessage.key == key))
    if row is None:
        return None
    return PostedRef(where=Where(row.channel, row.thread), message_id=row.message_id)


def tracked_key(session: Session, where: Where) -> str | None:
    """The key of the tracked post whose thread ``where`` is in ("approval:12"), if any."""
    if where.thread is None:
        return None
    return session.scalar(select(PostedMessage.key).where(
        PostedMessage.channel == where.channel, PostedMessage.message_id == where.thread))


def thread_of_tracked(session: Session, message_id: str) -> Where | None:
    """The thread under a tracked post known only by its message id (a terminal user answering
    a card posted in an earlier session)."""
    channel = session.scalar(select(PostedMessage.channel).where(PostedMessage.message_id == message_id))
    return None if channel is None else Where(channel=channel, thread=message_id)
