"""Learning where the bot may post, from what Teams tells it: an install in a personal chat or a
team, a channel created or renamed, every message. The core names its channels (``finance``,
``approvals``); a Teams channel becomes that destination when the team file maps it by id
(``[teams.channels] finance = "19:...@thread.tacv2"``) or when its name matches (a channel called
"Finance" or "#approvals"). Personal chats are stored as ``dm:<email>``."""

from __future__ import annotations

import asyncio
import copy
import logging
import re
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

from bot.teams import references
from commands.context import AppContext

log = logging.getLogger(__name__)
GENERAL = "general"  # Teams sends no name for a team's General channel


def normalized(name: str) -> str:
    """``#Client Services`` and ``client_services`` name the same channel as ``client-services``."""
    return re.sub(r"[\s_]+", "-", name.strip().lstrip("#").strip().lower())


def core_channels(ctx: AppContext) -> dict[str, str]:
    """Normalized name -> the name the core posts to, for every channel the team file uses."""
    channels = ctx.team.workflow.channels
    names = [channels.collections, channels.finance, channels.approvals, *channels.hold_announcements]
    return {normalized(name): name for name in names}


def configured_ids(ctx: AppContext) -> dict[str, str]:
    """``[teams.channels]``: core channel name -> Teams channel conversation id."""
    section = ctx.team.raw.get("teams", {}).get("channels", {})
    return {str(name): str(channel_id) for name, channel_id in section.items() if channel_id}


def keys_of_channel(ctx: AppContext, conversation_id: str) -> list[str]:
    """The core names a Teams channel goes by: mapped in the team file, or learnt before."""
    base = references.base_conversation(conversation_id)
    mapped = [name for name, channel_id in configured_ids(ctx).items() if channel_id == base]
    learnt = [key for key in references.keys_for(ctx.sessions, base) if not key.startswith("dm:")]
    return list(dict.fromkeys(mapped + learnt))


def channel_reference(reference: dict[str, Any], channel_id: str) -> dict[str, Any]:
    """A reference that starts a new thread in the channel: no thread, no user, no message."""
    stored = copy.deepcopy(reference)
    stored["conversation"] = {**stored.get("conversation", {}), "id": channel_id}
    for key in ("user", "activityId"):
        stored.pop(key, None)
    return stored


def remember_conversation(
    ctx: AppContext, reference: dict[str, Any], *, conversation_type: str | None, email: str | None
) -> list[str]:
    """On every message: keep the reference of a personal chat, and of a channel the core knows,
    fresh (the service URL may move). Returns the keys written or confirmed."""
    conversation_id = str(reference.get("conversation", {}).get("id", ""))
    if conversation_type == "personal":
        if not email:
            return []
        key = references.dm_key(email)
        references.save(ctx.sessions, ctx.clock, key, {k: v for k, v in reference.items() if k != "activityId"})
        return [key]
    keys = keys_of_channel(ctx, conversation_id)
    base = references.base_conversation(conversation_id)
    for key in keys:
        references.save(ctx.sessions, ctx.clock, key, channel_reference(reference, base))
    return keys


def remember_channels(ctx: AppContext, reference: dict[str, Any], channels: list[tuple[str, str | None]]) -> list[str]:
    """Store the channels of a team (id, name) whose name or id the team file uses."""
    wanted, mapped = core_channels(ctx), configured_ids(ctx)
    saved = []
    for channel_id, name in channels:
        keys = [key for key, mapped_id in mapped.items() if mapped_id == channel_id]
        match = wanted.get(normalized(name or GENERAL))
        for key in dict.fromkeys(keys + ([match] if match else [])):
            references.save(ctx.sessions, ctx.clock, key, channel_reference(reference, channel_id))
            saved.append(key)
    return saved


async def team_channels(turn_context: TurnContext) -> list[tuple[str, str | None]]:
    """The channels of the team this activity came from, as (id, name). The SDK's call is a
    blocking HTTP request, so it runs on a worker thread with its own loop."""
    channel_data = turn_context.activity.channel_data or {}
    team_id = (channel_data.get("team") or {}).get("id")
    if not team_id:
        return []
    try:
        listed = await asyncio.to_thread(asyncio.run, TeamsInfo.get_team_channels(turn_context, team_id))
    except Exception:  # Teams refuses or is down: the channels in the activity itself still count
        log.warning("could not list the channels of team %s", team_id, exc_info=True)
        listed = []
    channels = [(c.id, c.name) for c in listed if c.id]
    named = channel_data.get("channel") or {}
    if named.get("id") and named["id"] not in {c for c, _ in channels}:
        channels.append((named["id"], named.get("name")))
    return channels


def bot_was_added(activity: Any) -> bool:
    added = [m.id for m in (activity.members_added or [])]
    return activity.recipient is not None and activity.recipient.id in added


def bot_was_removed(activity: Any) -> bool:
    removed = [m.id for m in (activity.members_removed or [])]
    return activity.recipient is not None and activity.recipient.id in removed
