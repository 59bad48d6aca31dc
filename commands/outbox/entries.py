"""Writing outbox entries, in the caller's transaction, and reading them back for people.

:func:`enqueue` is called by the router (a chat message) and the scheduler (a job's run) with the
session that holds the ledger change, so the change and the messages about it commit together or
not at all. Each entry gets an idempotency key (``<origin>#<n>``): a job run's origin is its run
key, so a second scheduler that lost the race to the run cannot enqueue the same morning twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.messages import Reply
from commands.outbox import routing
from commands.outbox.codec import encode
from storage.models import OutboxEntry, PostedMessage
from storage.models.outbox import FAILED, PENDING, SENDING
from storage.row_counts import rows_changed


def enqueue(
    session: Session, ctx: AppContext, replies: Iterable[Reply], *, origin: str | None = None
) -> list[OutboxEntry]:
    """Queue every reply that goes to someone other than the asker; returns the new entries."""
    origin = origin or uuid.uuid4().hex
    now = ctx.clock.now()
    entries = []
    for n, reply in enumerate(r for r in replies if not r.for_asker):
        kind, route = _route(session, ctx, reply)
        entry = OutboxEntry(
            key=f"{origin}#{n}",
            platform=route.platform,
            kind=kind,
            destination=route.destination,
            thread_key=reply.thread_of,
            replaces_key=reply.replaces,
            track_key=reply.track,
            payload=encode(reply),
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            reported=False,
        )
        session.add(entry)
        entries.append(entry)
    session.flush()
    return entries


def _route(session: Session, ctx: AppContext, reply: Reply) -> tuple[str, routing.Route]:
    """The entry's kind and route. A reply tied to a tracked post goes to that post's platform;
    its own ``where`` / ``to_user`` is the fallback for when that post never went out."""
    if reply.to_user is not None:
        kind, route = "direct", routing.person(session, ctx, reply.to_user)
    elif reply.where is not None:
        kind, route = "post", routing.channel(ctx, reply.where.channel)
    else:
        kind, route = "post", routing.Route(ctx.platforms[0], "")
    if reply.replaces is not None:
        kind = "update"
    tracked = reply.replaces or reply.thread_of
    platform = tracked_platform(session, tracked) if tracked else None
    return kind, routing.Route(platform or route.platform, route.destination)


def tracked_platform(session: Session, key: str) -> str | None:
    """The platform the tracked post ``key`` went (or is going) out on."""
    posted = session.scalar(select(PostedMessage.platform).where(PostedMessage.key == key))
    if posted:
        return posted
    return session.scalar(
        select(OutboxEntry.platform).where(OutboxEntry.track_key == key).order_by(OutboxEntry.id.desc()).limit(1)
    )


def listing(session: Session, *, failed_only: bool = False, limit: int = 50) -> list[OutboxEntry]:
    """The newest entries first (``arbot outbox``)."""
    query = select(OutboxEntry).order_by(OutboxEntry.id.desc()).limit(limit)
    if failed_only:
        query = query.where(OutboxEntry.status == FAILED)
    return list(session.scalars(query))


def requeue(session: Session, *, now: datetime, ids: Iterable[int] = (), all_failed: bool = False) -> int:
    """Put failed entries back in the queue (``arbot outbox retry``); returns how many. A person
    fixed the cause (invited the bot, corrected an email): the next tick tries at once."""
    ids = list(ids)
    if not ids and not all_failed:
        return 0
    condition = OutboxEntry.status == FAILED
    if ids:
        condition = condition & OutboxEntry.id.in_(ids)
    return rows_changed(
        session,
        update(OutboxEntry)
        .where(condition)
        .values(status=PENDING, attempts=0, next_attempt_at=now, claimed_by=None, claimed_until=None, reported=False),
    )


def pending_count(session: Session) -> int:
    return len(
        session.scalars(
            select(OutboxEntry.id).where(or_(OutboxEntry.status == PENDING, OutboxEntry.status == SENDING))
        ).all()
    )
