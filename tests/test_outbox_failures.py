"""One recipient fails, everyone else still gets their message in the same round.

Six messages go out at once (four direct messages, two channel posts) through the real Slack
sender to a fake Slack; one of them meets a fault. Permanent faults (an unknown or deactivated
member, a channel the bot is not in or that does not exist) end that entry as failed, tell the
admins channel once what to do, and a requeue after the fix delivers it. Transient ones (429s
with Retry-After, a 500, a timeout or a dropped connection after Slack took the post) are
delivered later, exactly once. On Teams, a member with no stored conversation is the
permanent case."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference
from sqlalchemy import select

from bot.teams import references
from commands.context import AppContext
from commands.outbox import enqueue
from commands.outbox.dispatch import BACKOFF_CAP_SECONDS
from commands.outbox.entries import requeue
from commands.outbox.outcomes import REPORT_PREFIX
from storage.models import OutboxEntry
from tests.support.outbox import SlackOutbox, direct, entries, exactly_once, landed, post, statuses
from tests.support.slack import FakeSlack, channel_id, text_of
from tests.support.teams import teams_ctx
from tests.support.teams_http import DELIVERED, FakeConnector, bot_and_teams

MEMBERS = ["dana.reyes@example.com", "sam.okafor@example.com", "priya.shah@example.com", "tom.becker@example.com"]
SAM = "sam.okafor@example.com"
SAM_DM = "D0SAM"  # the fake's direct-message channel with U0SAM


def queue_the_round(slack: SlackOutbox) -> dict[str, str]:
    """A morning's worth at once: who gets what, by outbox key."""
    replies = [direct(email, f"Your list, {email.split('.')[0]}") for email in MEMBERS]
    replies += [post("finance", "Confirm a payment"), post("approvals", "Approve a hold")]
    keys = slack.queue(replies, origin="morning")
    return dict(zip([*MEMBERS, "finance", "approvals"], keys, strict=True))


def admin_reports(fake: FakeSlack) -> list[str]:
    """What the admins channel shows (the renderer's look-alikes for _ and ` read back)."""
    return [text_of(m).replace("\u02cd", "_").replace("\u02cb", "`") for m in fake.posted("CARBOTADMINS")]


# -- permanent: failed, admins told once, retryable -------------------------------------------

Break = Callable[[FakeSlack], None]
PERMANENT: dict[str, tuple[str, Break, Break, str]] = {
    # name: (whose message, break it, fix it, what the admins are told to do)
    "users_not_found": (
        SAM,
        lambda f: f.users.pop("U0SAM"),
        lambda f: f.users.update(U0SAM=SAM),
        "check the member's email in the team file",
    ),
    "user_not_found": (
        SAM,
        lambda f: f.refuse("conversations.open", "U0SAM", "user_not_found"),
        lambda f: f.accept("conversations.open", "U0SAM"),
        "check the member's email",
    ),
    "account_inactive": (
        SAM,
        lambda f: f.refuse("chat.postMessage", SAM_DM, "account_inactive"),
        lambda f: f.accept("chat.postMessage", SAM_DM),
        "deactivated; update the team file",
    ),
    "not_in_channel": (
        "finance",
        lambda f: f.refuse("chat.postMessage", "finance", "not_in_channel"),
        lambda f: f.accept("chat.postMessage", "finance"),
        "invite the bot to that channel",
    ),
    "channel_not_found": (
        "approvals",
        lambda f: f.refuse("chat.postMessage", "approvals", "channel_not_found"),
        lambda f: f.accept("chat.postMessage", "approvals"),
        "check the channel in the team file",
    ),
}


@pytest.mark.parametrize("fault", list(PERMANENT))
def test_a_permanent_failure_fails_one_entry_tells_the_admins_once_and_is_retryable(
    slack: SlackOutbox, fault: str
) -> None:
    whose, break_it, fix_it, advice = PERMANENT[fault]
    keys = queue_the_round(slack)
    break_it(slack.fake)

    report = slack.restarted().run_once()

    broken = keys[whose]
    assert report.failed == 1 and report.sent == len(keys) - 1
    assert {k for k, n in landed(slack.fake).items() if n == 1} == set(keys.values()) - {broken}
    entry = entries(slack.ctx)[broken]
    assert entry.status == "failed" and fault in (entry.last_error or "")

    slack.restarted().drain()  # the admins' report goes out; nothing else happens
    [told] = admin_reports(slack.fake)
    assert fault in told and advice in told and f"arbot outbox retry {entry.id}" in told
    slack.ctx.clock.advance(seconds=BACKOFF_CAP_SECONDS)
    slack.restarted().drain()
    assert len(admin_reports(slack.fake)) == 1, "the admins are told once, not every round"
    assert entries(slack.ctx)[broken].status == "failed"

    fix_it(slack.fake)
    with slack.ctx.sessions.begin() as session:
        assert requeue(session, now=slack.ctx.clock.now(), ids=[entry.id]) == 1
    slack.restarted().drain()
    assert exactly_once(slack.ctx, slack.fake) == []
    assert statuses(slack.ctx)[broken] == "sent"
    assert len(admin_reports(slack.fake)) == 1


# -- transient: delivered later, exactly once ---------------------------------------------------


def rounds_until_sent(slack: SlackOutbox, key: str, *, limit: int = 10) -> int:
    """Rounds (each after the backoff passed) until ``key`` is sent; each round a new process."""
    for n in range(1, limit + 1):
        slack.ctx.clock.advance(seconds=BACKOFF_CAP_SECONDS + 1)
        slack.restarted().run_once()
        if statuses(slack.ctx)[key] == "sent":
            return n
    raise AssertionError(f"{key} not sent after {limit} rounds")


def test_four_429s_in_a_row_wait_for_retry_after_each_time_then_deliver_once(slack: SlackOutbox) -> None:
    keys = queue_the_round(slack)
    slack.fake.retry_after = "30"
    slack.fake.fail_next("chat.postMessage", 429, times=4, target=SAM_DM)

    first = slack.restarted().run_once()

    assert first.sent == len(keys) - 1 and first.retried == 1
    waits = []
    for _ in range(3):
        entry = entries(slack.ctx)[keys[SAM]]
        assert entry.status == "pending"
        waits.append(entry.next_attempt_at - slack.ctx.clock.now())
        slack.ctx.clock.advance(seconds=(entry.next_attempt_at - slack.ctx.clock.now()).total_seconds() - 1)
        assert slack.restarted().run_once().settled == 0, "nothing is tried before Retry-After"
        slack.ctx.clock.advance(seconds=1)
        assert slack.restarted().run_once().retried == 1
    assert all(wait >= timedelta(seconds=30) for wait in waits)
    assert rounds_until_sent(slack, keys[SAM]) == 1
    assert entries(slack.ctx)[keys[SAM]].attempts == 5
    assert exactly_once(slack.ctx, slack.fake) == []
    assert admin_reports(slack.fake) == []


@pytest.mark.parametrize(
    "fault, target", [(500, "finance"), ("drop", SAM_DM), ("timeout", "finance"), ("lost", SAM_DM), ("timeout", SAM_DM)]
)
def test_a_transient_failure_is_delivered_later_exactly_once(slack: SlackOutbox, fault: int | str, target: str) -> None:
    """A 500 or a connection dropped before Slack did anything: the post is simply sent again.
    A timeout, or a connection lost after Slack took the post: the retry finds the message
    (by its outbox key in the conversation's history) and does not post it again."""
    keys = queue_the_round(slack)
    whose = SAM if target == SAM_DM else target
    slack.fake.fail_next("chat.postMessage", fault, target=target)

    first = slack.restarted().run_once()

    assert first.sent == len(keys) - 1 and first.retried == 1
    assert entries(slack.ctx)[keys[whose]].status == "pending"
    assert rounds_until_sent(slack, keys[whose]) == 1
    assert exactly_once(slack.ctx, slack.fake) == []
    posts_there = [
        c
        for c in slack.fake.made("chat.postMessage", status=None)
        if c.params.get("channel") in (target, "finance" if target == "finance" else SAM_DM)
    ]
    took_it = fault in ("timeout", "lost")
    assert len(posts_there) == (1 if took_it else 2), "a post Slack took is not posted again"
    history = slack.fake.made("conversations.history")
    assert history, "the retry looked in the conversation before posting"
    assert admin_reports(slack.fake) == []


@pytest.mark.parametrize("refused", ["conversations.list", "conversations.history"])
def test_a_look_up_slack_refuses_for_good_lets_the_retry_post_again(slack: SlackOutbox, refused: str) -> None:
    """The post to #finance timed out (Slack may have taken it) and the bot may not read the
    channel list or its history (a missing scope): the retry cannot tell, so it posts again
    rather than lose the message, and nobody is bothered about it."""
    keys = queue_the_round(slack)
    slack.fake.fail_next("chat.postMessage", "timeout", target="finance")
    slack.fake.refuse(refused, "" if refused == "conversations.list" else channel_id("finance"), "missing_scope")

    slack.restarted().run_once()

    assert rounds_until_sent(slack, keys["finance"]) == 1
    assert len(slack.fake.made("chat.postMessage", status=None)) == len(keys) + 1, "finance posted again"
    assert slack.fake.made(refused, status=None), "the retry tried to look first"
    assert admin_reports(slack.fake) == []


def test_the_found_message_is_the_one_later_updates_and_thread_replies_use(slack: SlackOutbox) -> None:
    """A tracked card whose answer was lost: the retry settles with the card Slack has, so its
    update and its thread reply go to that card, not to a second one."""
    from commands.messages import Reply, Where

    [card] = slack.queue([Reply(title="Approve a hold", where=Where("approvals"), track="approval:7")])
    slack.fake.fail_next("chat.postMessage", "lost", target="approvals")
    slack.restarted().run_once()
    slack.queue(
        [
            Reply(title="Approved", where=Where("approvals"), replaces="approval:7"),
            Reply(title="Dana approved it", where=Where("approvals"), thread_of="approval:7"),
        ]
    )
    rounds_until_sent(slack, card)
    slack.ctx.clock.advance(seconds=5)  # the update and the reply waited for the card
    slack.restarted().drain()

    [shown] = slack.fake.posted("CAPPROVALS")[:1]
    assert shown["text"].startswith("Approved") and shown.get("edited")
    [reply] = [m for m in slack.fake.posted("CAPPROVALS") if m.get("thread_ts")]
    assert reply["thread_ts"] == shown["ts"]
    assert len([m for m in slack.fake.posted("CAPPROVALS") if not m.get("thread_ts")]) == 1
    assert exactly_once(slack.ctx, slack.fake) == []


# -- Teams: a member with no stored conversation -------------------------------------------------


def stored_chat(teams_url: str, email: str) -> dict[str, object]:
    """The conversation reference the bot keeps once a member has talked to it in Teams."""
    name = email.split("@")[0]
    return ConversationReference(
        activity_id=None,
        user=ChannelAccount(id=f"29:{name}"),
        bot=ChannelAccount(id="28:arbot", name="arbot"),
        conversation=ConversationAccount(id=f"a:{name}", conversation_type="personal", tenant_id="t1"),
        channel_id="msteams",
        service_url=teams_url + "/",
    ).serialize()


def test_teams_a_member_without_a_stored_conversation_fails_alone_and_is_retryable(ctx: AppContext) -> None:
    base = teams_ctx(ctx, channels={"arbot-admins": "19:admins@thread.tacv2"})
    connector = FakeConnector()
    reached, unreached = MEMBERS[:3], MEMBERS[3]

    async def scenario() -> None:
        async with bot_and_teams(base, connector) as (_bot, teams_url, app):
            for email in reached:
                references.save(base.sessions, base.clock, references.dm_key(email), stored_chat(teams_url, email))
            with base.sessions.begin() as session:
                enqueue(session, base, [direct(email, f"Your list, {email}") for email in MEMBERS], origin="morning")
            await app[DELIVERED].drain()  # the server's own dispatcher, as arbot serve runs it
            assert sorted(c for c, _ in connector.sent if c.startswith("a:")) == sorted(
                f"a:{e.split('@')[0]}" for e in reached
            )

            with base.sessions() as session:
                failed = session.scalars(select(OutboxEntry).where(OutboxEntry.status == "failed")).one()
                told = session.scalars(
                    select(OutboxEntry).where(OutboxEntry.key == f"{REPORT_PREFIX}{failed.id}#0")
                ).one()
            assert failed.destination == unreached and failed.attempts == 1
            assert "has not opened a chat with the bot in Teams" in (failed.last_error or "")
            assert told.status == "sent" and f"arbot outbox retry {failed.id}" in told.payload["text"]
            admins = [body for c, body in connector.sent if c == "19:admins@thread.tacv2"]
            assert len(admins) == 1

            references.save(base.sessions, base.clock, references.dm_key(unreached), stored_chat(teams_url, unreached))
            with base.sessions.begin() as session:
                assert requeue(session, now=base.clock.now(), ids=[failed.id]) == 1
            await app[DELIVERED].drain()
            conversations = [c for c, _ in connector.sent if c.startswith("a:")]
            assert sorted(conversations) == sorted(f"a:{e.split('@')[0]}" for e in MEMBERS)
            assert len([c for c, _ in connector.sent if c == "19:admins@thread.tacv2"]) == 1

    asyncio.run(scenario())
