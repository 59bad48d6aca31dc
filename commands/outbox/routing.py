"""Which platform a message goes out on, and to what destination there.

A person is reached on their home platform: ``chat = "slack" | "teams"`` on their team-file
entry; else the only platform this deployment talks on; else the one where they were last seen
(their chat identity most recently looked up); else the first configured. A channel goes to the
first configured platform the team file places it on, under the id given there; a channel given
by plain name goes to the first configured platform under that name."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.context import AppContext
from storage.models import ChatIdentity


@dataclass(frozen=True)
class Route:
    platform: str
    destination: str


def person(session: Session, ctx: AppContext, email: str) -> Route:
    """Where team member ``email`` gets direct messages."""
    return Route(home_platform(session, ctx, email), email)


def home_platform(session: Session, ctx: AppContext, email: str) -> str:
    member = ctx.team.member(email)
    if member is not None and member.chat:
        return member.chat
    if len(ctx.platforms) == 1:
        return ctx.platforms[0]
    seen = session.scalar(
        select(ChatIdentity.platform)
        .where(ChatIdentity.email == email.lower(), ChatIdentity.platform.in_(ctx.platforms))
        .order_by(ChatIdentity.updated_at.desc())
        .limit(1)
    )
    return seen or ctx.platforms[0]


def channel(ctx: AppContext, name: str) -> Route:
    """Where channel ``name`` (a core name such as "finance", or a platform id) is posted."""
    places = ctx.team.workflow.channels.on(name)
    for platform in ctx.platforms:
        if platform in places:
            return Route(platform, places[platform])
    if places:  # placed only on platforms this process does not talk on: queue for one that does
        platform, destination = next(iter(places.items()))
        return Route(platform, destination)
    return Route(ctx.platforms[0], name)
