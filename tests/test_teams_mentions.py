"""People a message must reach are really mentioned in Teams: ``<at>Name</at>`` on the card with a
mention entity carrying their Teams id, so their client notifies them. The id comes from the
team file's ``teams_id``, else from the Teams user the member last wrote from; someone Teams
cannot be told about is named in plain text, with no entity that could notify the wrong person."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import Any

from botbuilder.schema import Activity

from bot.teams.cards import Mention, mentioning, render
from commands.clock import FixedClock
from commands.context import AppContext
from commands.messages import Reply
from commands.outbox import enqueue
from commands.team import team_from_dict
from commands.workflows.payment_timers import run_timers
from storage.models import ChatIdentity
from tests.support.teams import CHANNELS, DANA, PRIYA, TeamsWorld, card_of, channel, personal, run, teams_ctx, title_of

TOM = "tom.becker@example.com"


def mention(name: str, user_id: str) -> dict[str, Any]:
    return {"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": user_id, "name": name}}


def in_thread(sent: list[Activity], channel_name: str, root: str) -> list[Activity]:
    return [a for a in sent if a.conversation.id == f"{CHANNELS[channel_name]};messageid={root}"]


def posted_id(ctx: AppContext, key: str) -> str:
    from commands.delivery import posted

    with ctx.sessions() as session:
        ref = posted(session, key)
    assert ref is not None, f"nothing tracked as {key}"
    return ref.message_id


def without_teams_ids(ctx: AppContext, *emails: str) -> AppContext:
    """The Teams team, except that the team file gives no ``teams_id`` for ``emails``."""
    data = teams_ctx(ctx).team.raw
    for member in data["members"]:
        if member["email"] in emails:
            del member["teams_id"]
    return dataclasses.replace(ctx, team=team_from_dict(data), platforms=("teams",))


def test_finance_confirming_a_payment_mentions_the_collector_in_the_card_thread(ctx: AppContext) -> None:
    from tests.support.world import seed_world

    seed_world(ctx)
    world = TeamsWorld(teams_ctx(ctx))

    async def conversation() -> None:
        await world.start()
        await world.install_team()
        sent = await world.say(DANA, "paid acme dental 1200 today wire REF-1")
        [card_post] = [a for a in sent if a.conversation.id == CHANNELS["finance"]]
        card_id = await asyncio.to_thread(posted_id, world.ctx, "confirmation:1")
        _, others = await world.click(
            PRIYA, card_of(card_post), "Confirm", message_id=card_id, where=channel("finance", card_id)
        )
        [note] = in_thread(others, "finance", card_id)
        card = card_of(note)
        assert title_of(note).startswith("Dana Reyes: Priya Shah confirmed $1,200.00")
        assert card["body"][1] == {"type": "TextBlock", "text": "<at>Dana Reyes</at>", "wrap": True}
        assert card["msteams"] == {"width": "Full", "entities": [mention("Dana Reyes", "29:dana.reyes")]}
        [direct] = [a for a in others if a.conversation.id == personal(DANA).id]
        assert "entities" not in card_of(direct)["msteams"]  # her own chat notifies her anyway

    run(conversation)


def test_a_reminder_mentions_finance_by_the_id_each_is_known_by(ctx: AppContext) -> None:
    """Priya is not in the team file by Teams id but has written to the bot from ``29:priya.shah``;
    Tom is known to Teams by neither, so he is named without an entity."""
    from tests.support.world import seed_world

    seed_world(ctx)
    team = without_teams_ids(ctx, PRIYA, TOM)
    with team.sessions.begin() as session:
        session.add(
            ChatIdentity(
                platform="teams", user_id="29:priya.shah", email=PRIYA, updated_at=datetime(2026, 11, 20, tzinfo=UTC)
            )
        )
    world = TeamsWorld(team)

    async def conversation() -> None:
        await world.start()
        await world.install_team()
        await world.say(DANA, "paid acme dental 1200 today wire REF-1")
        card_id = await asyncio.to_thread(posted_id, team, "confirmation:1")
        assert isinstance(team.clock, FixedClock)
        team.clock.advance(hours=5)  # four business hours unanswered
        before = len(world.adapter.activity_buffer)
        await asyncio.to_thread(remind, team)
        await asyncio.to_thread(world.dispatcher.drain)
        [reminder] = in_thread(world.adapter.activity_buffer[before:], "finance", card_id)
        card = card_of(reminder)
        assert title_of(reminder).startswith("Reminder: $1,200.00 from Acme Dental Group (C100)")
        assert card["body"][1]["text"] == "<at>Priya Shah</at> Tom Becker"
        assert card["msteams"]["entities"] == [mention("Priya Shah", "29:priya.shah")]

    run(conversation)


def remind(ctx: AppContext) -> None:
    """What the scheduler's payment timer does: run the timers, queue what they say."""
    with ctx.sessions.begin() as session:
        replies = run_timers(session, ctx)
        assert replies
        enqueue(session, ctx, replies)


def test_names_cannot_break_out_of_their_mention_and_unknown_people_are_only_named() -> None:
    card = render(Reply(title="Payment to confirm", text="Did it arrive?"))
    drawn = mentioning(card, [Mention("Jo <b>*Ann*</b>\n O'Neil", "29:jo"), Mention("<at>everyone</at>")])
    assert drawn["body"][1]["text"] == "<at>Jo bAnn/b O'Neil</at> ateveryone/at"
    assert drawn["msteams"]["entities"] == [mention("Jo bAnn/b O'Neil", "29:jo")]
    assert [b["text"] for b in drawn["body"][::2]] == [b["text"] for b in card["body"]]
    assert mentioning(card, []) is card
