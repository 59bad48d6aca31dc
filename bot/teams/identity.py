"""Who a Teams user is on the team. The core knows people by email; a Teams activity carries a
Teams user id and an Azure AD object id. In order: ids written in the team file
(``teams_id = "..."`` on a member, either id), then the cached answer while it is fresh, then
TeamsInfo (the member's email, else their UPN, which is the sign-in address and usually the
email), then an old cached answer when Teams cannot be asked. The cache is the one every platform
shares (bot.runtime.identities), so the connector is asked once a week per person, not once per
message.

The other way round, for mentions (:func:`mention_of`): the ``teams_id`` in the team file, else
the Teams user id that member last wrote to the bot from."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

from bot.runtime.identities import IdentityCache
from bot.teams.cards import Mention
from commands.context import AppContext

log = logging.getLogger(__name__)
PLATFORM = "teams"


def identities(ctx: AppContext) -> IdentityCache:
    return IdentityCache(ctx, PLATFORM)


async def email_of(turn_context: TurnContext, ctx: AppContext, cache: IdentityCache | None = None) -> str | None:
    """The email of whoever sent this activity, or None when Teams will not say."""
    sender = turn_context.activity.from_property
    if sender is None or not sender.id:
        return None
    aad_id = getattr(sender, "aad_object_id", None)
    in_file = team_file_email(ctx, sender.id, aad_id)
    if in_file is not None:
        return in_file
    cache = cache or identities(ctx)
    known = await asyncio.to_thread(cache.known, sender.id)
    if known is not None and known.fresh:
        return known.email
    found = await _ask_teams(turn_context, ctx, sender.id)
    if found is None:
        return known.email if known is not None else None
    await asyncio.to_thread(cache.remember, sender.id, found)
    return found


def team_file_email(ctx: AppContext, user_id: str, aad_object_id: str | None) -> str | None:
    """A member whose ``teams_id`` (a string or a list) names this Teams user or AAD object id."""
    ids = {user_id.lower()} | ({aad_object_id.lower()} if aad_object_id else set())
    for entry in ctx.team.raw.get("members", []):
        if ids & {item.lower() for item in _listed_ids(entry)}:
            return str(entry.get("email", "")).strip().lower() or None
    return None


def _listed_ids(entry: dict[str, Any]) -> list[str]:
    """A team file member's ``teams_id``: one id or a list of them."""
    listed = entry.get("teams_id") or []
    return [str(item).strip() for item in ([listed] if isinstance(listed, str) else listed) if str(item).strip()]


def mention_of(ctx: AppContext, email: str) -> Mention:
    """Team member ``email`` as a message names them; with no Teams id known they are only named
    (a notification to a wrong or guessed id would reach nobody, or someone else)."""
    member = ctx.team.member(email)
    return Mention(name=member.name if member else email, user_id=teams_id_of(ctx, email))


def teams_id_of(ctx: AppContext, email: str) -> str | None:
    """The Teams user id (``29:...``, preferred) or Azure AD object id the team file gives for
    ``email``; else the Teams user id cached from their last message."""
    email = email.strip().lower()
    for entry in ctx.team.raw.get("members", []):
        ids = _listed_ids(entry) if str(entry.get("email", "")).strip().lower() == email else []
        if ids:
            return next((i for i in ids if i.startswith("29:")), ids[0])
    return identities(ctx).user_id_of(email)


def pick_email(ctx: AppContext, candidates: list[Any]) -> str | None:
    """The first candidate address that is on the team, else the first address at all (so the
    refusal can name it)."""
    addresses = [str(c).strip().lower() for c in candidates if c and "@" in str(c)]
    on_team = [a for a in addresses if ctx.team.member(a) is not None]
    return (on_team or addresses or [None])[0]


async def _ask_teams(turn_context: TurnContext, ctx: AppContext, user_id: str) -> str | None:
    try:
        member = await TeamsInfo.get_member(turn_context, user_id)
    except Exception:  # no connector (a test channel), the user left, Teams is down: not fatal
        log.warning("could not look up Teams user %s", user_id, exc_info=True)
        return None
    return pick_email(ctx, [getattr(member, "email", None), getattr(member, "user_principal_name", None)])
