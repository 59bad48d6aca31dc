"""Teams refuses a message above about 40 KB of JSON (413, MessageSizeTooBig). A collector's full
call list, 75 accounts with their reasons and three buttons each, is drawn as several cards that
each fit, every account once and in rank order; a short reply stays one card; hostile text is
cut with a visible "…" instead of costing the whole message. The bot sends all the pages: back
to the asker, to their personal chat, and through the outbox (tracked by the first page)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from botbuilder.schema import Activity, ActivityTypes, Attachment, ChannelAccount, ConversationAccount

from bot.teams.cards import (
    CARD_CONTENT_TYPE,
    ENVELOPE_HEADROOM,
    MAX_ACTIVITY_BYTES,
    Mention,
    activity_bytes,
    escape,
    render,
    render_pages,
    summary,
)
from commands.context import AppContext
from commands.messages import Button, ButtonStyle, ChatUser, Field, Incoming, Reply, Row, Tone, Where
from commands.router import handle
from demo import load_demo
from tests.support.teams_pages import DANA, demo_team, every_account_once, ranked, rows_of, verbs

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
THREAD = "19:d1b5ee3cd7d94c4ab7e6a3e6d2c3b7b1@thread.tacv2"


def sent_bytes(card: dict[str, Any], reply: Reply) -> int:
    """The card as Teams receives it: a reply in a channel thread, every id and address as long
    as Teams makes them, serialized by the SDK the bot sends with."""
    activity = Activity(
        type=ActivityTypes.message,
        id="1732374000456",
        timestamp=None,
        locale="en-US",
        service_url=f"https://smba.trafficmanager.net/amer/{TENANT}/",
        channel_id="msteams",
        from_property=ChannelAccount(id="28:0b5f8b8e-2f4d-4c1e-9a1e-7d7b1c2f3a4b", name="arbot"),
        recipient=ChannelAccount(
            id="29:1" + "Xq7" * 40, name="Dana Reyes", aad_object_id="6f1c1e3a-8b7d-4e2f-9c5a-1d2e3f4a5b6c"
        ),
        conversation=ConversationAccount(
            id=f"{THREAD};messageid=1732374000123", conversation_type="channel", is_group=True, tenant_id=TENANT
        ),
        reply_to_id="1732374000123",
        summary=summary(reply),
        channel_data={
            "tenant": {"id": TENANT},
            "channel": {"id": THREAD, "name": "collections"},
            "team": {"id": THREAD, "name": "Accounts receivable", "aadGroupId": "0d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a"},
        },
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
    )
    return len(json.dumps(activity.serialize()))


def test_a_full_call_list_is_paged_under_the_limit_with_every_account_once_in_rank_order(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        load_demo(session, ctx, customers=500)
    [listing] = handle(ctx, Incoming(user=ChatUser("teams", "29:dana", DANA), where=Where(f"dm:{DANA}"), text="list"))
    assert len(listing.rows) == 75 and all(len(row.buttons) == 3 for row in listing.rows)
    assert sent_bytes(render(listing), listing) > 2 * MAX_ACTIVITY_BYTES  # why it is paged at all

    pages = render_pages(listing)
    sizes = [sent_bytes(page, listing) for page in pages]
    assert len(pages) >= 3 and max(sizes) <= MAX_ACTIVITY_BYTES, sizes
    assert all(size - activity_bytes(page) < ENVELOPE_HEADROOM for size, page in zip(sizes, pages, strict=True))
    assert [page["body"][0]["text"] for page in pages] == [
        f"{escape(listing.title)} ({n} of {len(pages)})" for n in range(1, len(pages) + 1)
    ]
    drawn = [entry for page in pages for entry in ranked(page)]
    assert drawn == [(rank, escape(row.title)) for rank, row in enumerate(listing.rows, start=1)]
    containers = [row for page in pages for row in rows_of(page)]
    assert [[t["text"] for t in c["items"][1:] if t["type"] == "TextBlock"] for c in containers] == [
        [escape(row.detail)] for row in listing.rows
    ]  # every reason whole: nothing was cut
    assert [verbs(c) for c in containers] == [
        [(verb, {"customer": row.buttons[0].value["customer"]}) for verb in ("log_call", "promise", "paid")]
        for row in listing.rows
    ]
    assert all("refresh" in page for page in pages)


def test_a_short_reply_is_one_card_exactly_as_render_draws_it() -> None:
    reply = Reply(
        title="Payment to confirm: Acme Dental Group (C100)",
        text="Did this payment arrive?",
        fields=(Field("Amount", "$1,200.00"),),
        rows=(Row("Hold since Fri 20 Nov", detail="final invoice"),),
        buttons=(
            Button("Confirm", "confirmation.confirm", {"id": 1}, ButtonStyle.PRIMARY),
            Button("Partial", "confirmation.partial", {"id": 1, "needs": "amount"}),
        ),
    )
    assert render_pages(reply) == [render(reply)]
    assert render_pages(Reply(title="Done")) == [render(Reply(title="Done"))]


def approval_with_long_history() -> Reply:
    rows = tuple(
        Row(
            f"Mon 23 Nov 2026 09:{i % 60:02d} call, reached",
            detail="Left word with accounts payable. " * 30,
            fields=(Field("By", "Dana Reyes"),),
        )
        for i in range(120)
    )
    return Reply(
        title="Approval needed: hold on Acme Ortho",
        text="Decide with the buttons.",
        fields=(Field("Asked", "Put Acme Ortho (C200) on hold"),),
        rows=rows,
        tone=Tone.WARNING,
        buttons=(
            Button("Approve", "approval.approve", {"id": 7}, ButtonStyle.PRIMARY),
            Button("Reject", "approval.reject", {"id": 7, "needs": "reason"}, ButtonStyle.DANGER),
        ),
    )


def test_the_reply_s_own_buttons_text_and_fields_are_on_the_first_page_only() -> None:
    reply = approval_with_long_history()
    first, *rest = render_pages(reply)
    assert rest and [a["title"] for a in first["actions"]] == ["Approve", "Reject"]
    assert [b["id"] for b in first["body"] if b["type"] == "Input.Text"] == ["reason_1"]
    assert first["body"][1]["text"] == "Decide with the buttons." and first["body"][2]["type"] == "FactSet"
    assert "refresh" in first
    for page in rest:
        assert "actions" not in page and "refresh" not in page  # nothing on it to go stale
        assert [b["type"] for b in page["body"][1:]] == ["Container"] * len(rows_of(page))
    assert [rank for page in [first, *rest] for rank, _ in ranked(page)] == list(range(1, 121))


@pytest.mark.parametrize("limit", [20_000, 28_000])
def test_a_smaller_limit_gives_more_and_smaller_pages(limit: int) -> None:
    reply = approval_with_long_history()
    pages = render_pages(reply, limit=limit)
    assert len(pages) > len(render_pages(reply))
    assert max(sent_bytes(page, reply) for page in pages) <= limit


HOSTILE = '*bold* [link](http://x) <at>everyone</at> `code` ~x~ \\ "q" é 💥 \x07\n- item\n1. item\n'


def test_hostile_text_is_cut_with_a_visible_ellipsis_and_still_fits() -> None:
    huge_row = Row(
        "Acme " + HOSTILE * 50,
        detail=(HOSTILE * 1000)[:40_000],
        fields=(Field("Note", HOSTILE * 400),),
        buttons=(Button("Log call", "log_call", {"customer": "C1"}),),
    )
    reply = Reply(
        title="Your call list " + HOSTILE * 300,
        text=(HOSTILE * 1000)[:40_000],
        fields=(Field("Balance", HOSTILE * 500),),
        rows=(Row("first"), huge_row, Row("last")),
    )
    pages = render_pages(reply)
    assert all(sent_bytes(page, reply) <= MAX_ACTIVITY_BYTES for page in pages)
    drawn = [entry for page in pages for entry in ranked(page)]
    assert [rank for rank, _ in drawn] == [1, 2, 3]
    assert (drawn[0][1], drawn[2][1]) == ("first", "last") and drawn[1][1].startswith("Acme \\*bold\\*")
    [big] = [row for page in pages for row in rows_of(page) if row["items"][0]["text"].startswith("2")]
    *_, reason_ends, facts, buttons = big["items"]
    assert reason_ends["text"].endswith("…") and facts["facts"][0]["value"].endswith("…")
    assert buttons["actions"][0]["data"]["arbot"]["value"] == {"customer": "C1"}
    texts = [b["text"] for b in pages[0]["body"] if b["type"] == "TextBlock"]
    assert texts[0].endswith(f"… (1 of {len(pages)})") and len(texts[0]) < 2_000
    assert texts[-1].endswith("…")
    assert "\\u0007" not in json.dumps(pages) and "<at>" not in json.dumps(pages)  # still escaped when cut


def test_one_row_of_forty_thousand_characters_alone_is_cut_not_refused() -> None:
    reply = Reply(title="Status", rows=(Row("Acme", detail="x" * 40_000),))
    [page] = render_pages(reply)
    [row] = rows_of(page)
    assert sent_bytes(page, reply) <= MAX_ACTIVITY_BYTES
    assert row["items"][1]["text"].endswith("…") and len(row["items"][1]["text"]) > 30_000


# Through the bot: the call list as Teams receives it, over HTTP and through the outbox.


def test_a_collector_typing_list_in_teams_gets_every_page_under_the_limit(ctx: AppContext) -> None:
    """Over real HTTP: the list goes back into Dana's chat as pages, each request the connector
    receives under 40,000 bytes."""
    from tests.support.teams_http import FakeConnector, activity, bot_and_teams, run

    base, connector = demo_team(ctx), FakeConnector()

    async def scenario() -> None:
        async with bot_and_teams(base, connector) as (bot, teams, _), aiohttp.ClientSession() as http:
            response = await http.post(bot + "/api/messages", json=activity(teams, text="list"))
            assert response.status in (200, 201)

    run(scenario)
    assert {conversation for conversation, _ in connector.sent} == {"a:dana"}
    sizes = [size for _, size in connector.wire]
    assert len(sizes) >= 3 and max(sizes) <= MAX_ACTIVITY_BYTES, sizes
    every_account_once([body["attachments"][0]["content"] for _, body in connector.sent])


def test_a_long_list_posted_through_the_outbox_is_tracked_by_its_first_page(ctx: AppContext) -> None:
    """A proactive post of 75 rows: every page goes out in order, and the message id kept for
    later updates and thread replies is the first page's."""
    from commands.outbox import enqueue
    from tests.support.teams_http import FakeConnector, activity, bot_and_teams, delivered, posted_id, run

    base, connector = demo_team(ctx), FakeConnector()
    [listing] = handle(
        base, Incoming(user=ChatUser("teams", "29:dana.reyes", DANA), where=Where(f"dm:{DANA}"), text="list")
    )

    async def scenario() -> None:
        async with bot_and_teams(base, connector) as (bot, teams, app), aiohttp.ClientSession() as http:
            await http.post(bot + "/api/messages", json=activity(teams, text="help"))  # Dana's chat is known
            before = len(connector.sent)
            with base.sessions.begin() as session:
                enqueue(session, base, [replace(listing, to_user=DANA, track="list:dana")])
            await delivered(app)
            pages = connector.sent[before:]
            assert {conversation for conversation, _ in pages} == {"a:dana"}
            every_account_once([body["attachments"][0]["content"] for _, body in pages])
            [(first_id, _), *_] = connector.wire[before:]
            assert await asyncio.to_thread(posted_id, base, "list:dana") == first_id
            assert max(size for _, size in connector.wire[before:]) <= MAX_ACTIVITY_BYTES

    run(scenario)


def test_a_list_asked_for_in_a_channel_arrives_whole_in_the_personal_chat(ctx: AppContext) -> None:
    """@arbot list in #collections: every page goes to Dana's chat with the bot, in order; the
    channel thread only hears that it went there."""
    from tests.support.teams import TeamsWorld, channel, personal, run, title_of

    world = TeamsWorld(demo_team(ctx))

    async def conversation() -> None:
        await world.start()
        await world.install_team()
        await world.say(DANA, "help")
        *pages, note = await world.say(DANA, "list", where=channel("collections", "1700"), mention=True)
        assert {page.conversation.id for page in pages} == {personal(DANA).id}
        assert "sent you the answer in our chat" in title_of(note)
        every_account_once([page.attachments[0].content for page in pages])
        assert max(len(json.dumps(page.serialize())) for page in pages) <= MAX_ACTIVITY_BYTES

    run(conversation)


def test_mentions_are_on_the_first_page_and_counted_in_its_size() -> None:
    reply = approval_with_long_history()
    people = [Mention(name=f"Person {n} " + "Longname" * 8, user_id=f"29:{'x' * 90}{n}") for n in range(12)]
    pages = render_pages(reply, mentions=people)
    assert all(sent_bytes(page, reply) <= MAX_ACTIVITY_BYTES for page in pages)
    first, *rest = pages
    assert first["body"][1]["text"].startswith("<at>Person 0 Longname") and len(first["msteams"]["entities"]) == 12
    assert all("entities" not in page["msteams"] for page in rest)
    assert [rank for page in pages for rank, _ in ranked(page)] == list(range(1, 121))
