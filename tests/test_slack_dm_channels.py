"""A member's Slack direct messages are opened once, not once per process: the channel id
``conversations.open`` gave is kept with their identity in the database, so after a restart the
morning's lists (the outbox's direct messages) and files answered to an asker go straight out,
with no ``users.lookupByEmail`` or ``conversations.open``. A kept channel Slack refuses (deleted,
archived, the person deactivated) is forgotten and opened again, once; a person Slack will not
open a conversation with is a permanent failure, and nothing is kept for them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.slack.identity import SlackIdentity
from bot.slack.messenger import SlackMessenger, web_client
from bot.slack.settings import SlackSettings
from commands.context import AppContext
from commands.messages import DeliveryFailed, Reply
from commands.outbox import enqueue
from storage.models import ChatIdentity
from tests.support.slack import FakeSlack, SlackWorld, seed

PRIYA = "priya.shah@example.com"


def messenger(ctx: AppContext, fake: FakeSlack) -> SlackMessenger:
    """A messenger as a freshly started process has one: nothing in memory."""
    client = web_client(SlackSettings(bot_token="xoxb-test", signing_secret="s", api_url=fake.api_url), outbox=True)
    return SlackMessenger(client, SlackIdentity(WebClient(token="xoxb-test", base_url=fake.api_url), ctx))


def kept(ctx: AppContext, email: str) -> list[tuple[str, str | None]]:
    with ctx.sessions() as session:
        rows = session.execute(
            select(ChatIdentity.user_id, ChatIdentity.dm_channel).where(ChatIdentity.email == email)
        ).all()
    return [(r.user_id, r.dm_channel) for r in rows]


def methods(fake: FakeSlack) -> list[str]:
    return [c.method for c in fake.made(status=None)]


def test_a_members_direct_messages_are_opened_once_across_restarts(ctx: AppContext, fake: FakeSlack) -> None:
    first = messenger(ctx, fake).direct(PRIYA, Reply(title="Your list for Monday"))
    assert methods(fake) == ["users.lookupByEmail", "conversations.open", "chat.postMessage"]
    assert first.where.channel == "D0PRIYA"
    assert kept(ctx, PRIYA) == [("U0PRIYA", "D0PRIYA")]

    again = messenger(ctx, fake).direct(PRIYA, Reply(title="Your list for Tuesday"))
    assert again.where.channel == "D0PRIYA"
    assert methods(fake)[3:] == ["chat.postMessage"]


def test_a_refused_kept_channel_is_forgotten_and_opened_again_once(ctx: AppContext, fake: FakeSlack) -> None:
    messenger(ctx, fake).direct(PRIYA, Reply(title="Your list for Monday"))
    with ctx.sessions.begin() as session:  # the channel kept from an earlier day is gone
        row = session.scalars(select(ChatIdentity).where(ChatIdentity.user_id == "U0PRIYA")).one()
        row.dm_channel = "D0GONE"
    fake.refuse("chat.postMessage", "D0GONE", "channel_not_found")
    calls_before = len(fake.made(status=None))

    posted = messenger(ctx, fake).direct(PRIYA, Reply(title="Your list for Tuesday"))

    assert posted.where.channel == "D0PRIYA"
    tried = fake.made(status=None)[calls_before:]
    assert [(c.method, c.answer.get("error")) for c in tried] == [
        ("chat.postMessage", "channel_not_found"),
        ("conversations.open", None),
        ("chat.postMessage", None),
    ]
    assert kept(ctx, PRIYA) == [("U0PRIYA", "D0PRIYA")]
    assert [m["text"] for m in fake.posted("D0PRIYA")][-1].startswith("Your list for Tuesday")


def test_a_deactivated_member_fails_for_good_and_nothing_is_kept(ctx: AppContext, fake: FakeSlack) -> None:
    messenger(ctx, fake).direct(PRIYA, Reply(title="Your list for Monday"))
    fake.refuse("chat.postMessage", "D0PRIYA", "user_disabled")
    fake.refuse("conversations.open", "U0PRIYA", "user_disabled")
    calls_before = len(fake.made(status=None))

    with pytest.raises(DeliveryFailed) as failed:
        messenger(ctx, fake).direct(PRIYA, Reply(title="Your list for Tuesday"))

    assert failed.value.permanent and "user_disabled" in str(failed.value)
    assert [c.method for c in fake.made(status=None)[calls_before:]] == ["chat.postMessage", "conversations.open"]
    assert kept(ctx, PRIYA) == [("U0PRIYA", None)]


def test_a_passing_failure_keeps_the_channel(ctx: AppContext, fake: FakeSlack) -> None:
    """A 429 says nothing about the channel: it is kept, and not opened again."""
    messenger(ctx, fake).direct(PRIYA, Reply(title="Your list for Monday"))
    fake.fail_next("chat.postMessage", 429)
    with pytest.raises(DeliveryFailed) as failed:
        messenger(ctx, fake).direct(PRIYA, Reply(title="Your list for Tuesday"))
    assert not failed.value.permanent and failed.value.retry_after == 1
    assert methods(fake).count("conversations.open") == 1
    assert kept(ctx, PRIYA) == [("U0PRIYA", "D0PRIYA")]


def restarted(world: SlackWorld) -> SlackWorld:
    """The server stopped and started again on the same database (and a fresh fake, whose
    record starts empty)."""
    world.close()
    return SlackWorld(world.ctx)


@pytest.fixture
def served(ctx: AppContext) -> Iterator[list[SlackWorld]]:
    seed(ctx)
    worlds = [SlackWorld(ctx)]
    try:
        yield worlds
    finally:
        worlds[-1].close()


def test_the_outbox_direct_messages_after_a_restart_need_no_lookup(served: list[SlackWorld]) -> None:
    world = served[0]
    with world.ctx.sessions.begin() as session:
        enqueue(session, world.ctx, [Reply(title="Your list for Monday", to_user=PRIYA)])
    world.settle()
    assert methods(world.fake) == ["users.lookupByEmail", "conversations.open", "chat.postMessage"]

    served.append(world := restarted(world))
    with world.ctx.sessions.begin() as session:
        enqueue(session, world.ctx, [Reply(title="Your list for Tuesday", to_user=PRIYA)])
    world.settle()
    assert methods(world.fake) == ["chat.postMessage"]
    assert [m["text"] for m in world.fake.posted("D0PRIYA")] == ["Your list for Tuesday"]


def test_a_file_answered_to_the_asker_uses_the_kept_channel_after_a_restart(served: list[SlackWorld]) -> None:
    """The same kept channel serves an answer's files (a workbook asked for in a channel)."""
    world = served[0]
    world.command("U0MARIA", "report weekly xlsx", channel="CCOLLECTIONS")
    world.settle()
    assert methods(world.fake).count("conversations.open") == 1
    assert len(world.fake.files["D0MARIA"]) == 1

    served.append(world := restarted(world))
    world.command("U0MARIA", "report weekly xlsx", channel="CCOLLECTIONS")
    world.settle()
    assert "conversations.open" not in methods(world.fake)
    assert "users.info" not in methods(world.fake)
    [book] = world.fake.files["D0MARIA"]
    assert book["name"].endswith(".xlsx")
    assert kept(world.ctx, "maria.lopez@example.com") == [("U0MARIA", "D0MARIA")]


def test_a_file_to_a_refused_kept_channel_goes_to_the_one_opened_again(served: list[SlackWorld]) -> None:
    world = served[0]
    world.command("U0MARIA", "report weekly xlsx", channel="CCOLLECTIONS")
    world.settle()
    with world.ctx.sessions.begin() as session:  # since then, that conversation is gone
        row = session.scalars(select(ChatIdentity).where(ChatIdentity.user_id == "U0MARIA")).one()
        row.dm_channel = "D0GONE"

    served.append(world := restarted(world))
    world.fake.refuse("files.completeUploadExternal", "D0GONE", "channel_not_found")
    world.command("U0MARIA", "report weekly xlsx", channel="CCOLLECTIONS")
    world.settle()
    delivering = [
        (c.method, c.answer.get("error"))
        for c in world.fake.made(status=None)
        if c.method.startswith(("files.", "upload", "conversations.open"))
    ]
    assert delivering == [
        ("files.getUploadURLExternal", None),
        ("upload", None),
        ("files.completeUploadExternal", "channel_not_found"),
        ("conversations.open", None),
        ("files.getUploadURLExternal", None),
        ("upload", None),
        ("files.completeUploadExternal", None),
    ]
    [book] = world.fake.files["D0MARIA"]
    assert book["name"].endswith(".xlsx")
    assert kept(world.ctx, "maria.lopez@example.com") == [("U0MARIA", "D0MARIA")]
