"""Where the bot may post in Teams unprompted, kept in the database so a restart does not forget
it. A Teams bot cannot message a channel or a person until Teams told it about that conversation
(an install, a message); the serialized ConversationReference from then is what a proactive post
continues. Keys are what the core calls destinations: a channel name from the team file
(``approvals``) or ``dm:<email>`` for a person's chat with the bot.

Plain dicts here; the adapter turns them into SDK objects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from commands.clock import Clock
from storage.models import ConversationRef

PLATFORM = "teams"
THREAD_MARK = ";messageid="


def dm_key(email: str) -> str:
    return f"dm:{email.strip().lower()}"


def base_conversation(conversation_id: str) -> str:
    """A channel's conversation id without the thread part (``19:x@thread.tacv2;messageid=1`` ->
    ``19:x@thread.tacv2``): posting there starts a new thread."""
    return conversation_id.split(THREAD_MARK, 1)[0]


def thread_of(conversation_id: str) -> str | None:
    """The root message id of the thread a channel conversation id points into, if any."""
    _, mark, root = conversation_id.partition(THREAD_MARK)
    return root if mark and root else None


def save(sessions: sessionmaker[Session], clock: Clock, key: str, reference: dict[str, Any]) -> None:
    """Insert or replace the reference stored under ``key`` (a no-op when it is unchanged). Two
    installs racing for the same key both succeed; the later one wins."""
    for _ in range(2):
        try:
            with sessions.begin() as session:
                row = session.scalar(
                    select(ConversationRef).where(ConversationRef.platform == PLATFORM, ConversationRef.key == key)
                )
                if row is not None and row.reference == reference:
                    return  # every message re-saves its conversation; most change nothing
                if row is None:
                    row = ConversationRef(platform=PLATFORM, key=key)
                    session.add(row)
                row.reference, row.updated_at = reference, clock.now()
            return
        except IntegrityError:
            continue  # someone inserted the same key between our read and write: update theirs


def load(sessions: sessionmaker[Session], key: str) -> dict[str, Any] | None:
    with sessions() as session:
        return session.scalar(
            select(ConversationRef.reference).where(ConversationRef.platform == PLATFORM, ConversationRef.key == key)
        )


def keys_for(sessions: sessionmaker[Session], conversation_id: str) -> list[str]:
    """Every key whose stored conversation is ``conversation_id`` (thread part ignored)."""
    wanted = base_conversation(conversation_id)
    return [
        key
        for key, reference in _all(sessions)
        if base_conversation(str(reference.get("conversation", {}).get("id", ""))) == wanted
    ]


def latest(sessions: sessionmaker[Session]) -> dict[str, Any] | None:
    """The most recently stored reference: its service URL, tenant and bot identity are what a
    reference to a conversation known only by id (from the team file) is built from."""
    with sessions() as session:
        return session.scalar(
            select(ConversationRef.reference)
            .where(ConversationRef.platform == PLATFORM)
            .order_by(ConversationRef.updated_at.desc(), ConversationRef.id.desc())
            .limit(1)
        )


def forget(sessions: sessionmaker[Session], conversation_id: str) -> list[str]:
    """Drop every reference to a conversation the bot was removed from; returns the keys dropped."""
    keys = keys_for(sessions, conversation_id)
    if keys:
        with sessions.begin() as session:
            session.execute(
                delete(ConversationRef).where(ConversationRef.platform == PLATFORM, ConversationRef.key.in_(keys))
            )
    return keys


def _all(sessions: sessionmaker[Session]) -> list[tuple[str, dict[str, Any]]]:
    with sessions() as session:
        rows = session.execute(
            select(ConversationRef.key, ConversationRef.reference).where(ConversationRef.platform == PLATFORM)
        )
        return [(key, reference) for key, reference in rows]
