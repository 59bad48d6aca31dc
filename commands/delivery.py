"""Where tracked posts landed. Handlers never call a chat SDK: they return Replies, each saying
where it goes, and the outbox (commands.outbox) delivers them; these look-ups answer "which
request is this thread about?" for a reply typed under a card."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.messages import PostedRef, Where
from storage.models import PostedMessage


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
    return session.scalar(
        select(PostedMessage.key).where(
            PostedMessage.channel == where.channel, PostedMessage.message_id == where.thread
        )
    )


def thread_of_tracked(session: Session, message_id: str) -> Where | None:
    """The thread under a tracked post known only by its message id (a terminal user answering
    a card posted in an earlier session)."""
    channel = session.scalar(select(PostedMessage.channel).where(PostedMessage.message_id == message_id))
    return None if channel is None else Where(channel=channel, thread=message_id)
