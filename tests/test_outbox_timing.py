"""When the outbox sends: a 429 is tried again when Slack's Retry-After has passed (not before,
and not a backoff later), without reading the conversation first (Slack said it posted nothing);
each channel gets one message per 1.1 s, a 429 pushes that channel back by Retry-After, and a
later message for the channel never overtakes one waiting to retry, while other people get
theirs at once; a long message whose later part failed is resumed, not posted again from part 1;
and the delivery loop sleeps until exactly the next retry is due.

The test's clock drives everything: the dispatcher's pace reads it (``monotonic``), and the fake
Slack stamps each message with it, so when a message was posted is what the timestamp says."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from typing import Any

import pytest
from aiohttp import web

from bot.delivery import GATHER, WAKE_EARLY, DeliveryService
from commands.messages import Reply, Row, Where
from commands.outbox import Dispatcher
from commands.outbox.dispatch import RETRY_AFTER_JITTER
from commands.outbox.replicas import MEMORY
from tests.support.outbox import SlackOutbox, direct, entries, exactly_once, landed, post, statuses
from tests.support.slack import text_of

SAM = "sam.okafor@example.com"
DANA = "dana.reyes@example.com"
GAP = 1.1


def paced(slack: SlackOutbox) -> Dispatcher:
    """One dispatcher for the whole test (its pace is per process), pacing Slack as serve does,
    on the test's clock."""
    return Dispatcher(
        slack.ctx,
        {"slack": slack.messenger()},
        pacing={"slack": GAP},
        monotonic=lambda: slack.ctx.clock.now().timestamp(),
    )


def advance(slack: SlackOutbox, seconds: float) -> None:
    slack.ctx.clock.advance(seconds=seconds)  # type: ignore[attr-defined]


def wait_of(slack: SlackOutbox, key: str) -> float:
    """Seconds from now until the entry's next attempt."""
    return (entries(slack.ctx)[key].next_attempt_at - slack.ctx.clock.now()).total_seconds()


def posted_titles(slack: SlackOutbox, channel: str) -> list[str]:
    return [text_of(m).split("\n")[0] for m in slack.fake.posted(channel)]


def stamps(slack: SlackOutbox, channel: str) -> list[float]:
    return [float(m["ts"]) for m in slack.fake.posted(channel)]


# -- a 429: Retry-After, no look-up, the lane's order ----------------------------------------------


def test_after_a_429_the_retry_is_due_at_retry_after_and_posts_without_reading_history(slack: SlackOutbox) -> None:
    [key] = slack.queue([direct(SAM, "Your list")])
    slack.fake.retry_after = "1"
    slack.fake.fail_next("chat.postMessage", 429, target="D0SAM")

    assert slack.restarted().run_once().retried == 1
    wait = wait_of(slack, key)
    assert wait == 1.0, f"a dispatcher alone retries in {wait:.3f} s, Slack asked for 1 s"
    assert not entries(slack.ctx)[key].may_have_landed, "Slack said it posted nothing"

    advance(slack, 0.99)
    assert slack.restarted().run_once().settled == 0, "nothing is tried before Retry-After"
    advance(slack, wait - 0.99)
    assert slack.restarted().run_once().sent == 1
    assert slack.fake.made("conversations.history", status=None) == [], "no look-up after a 429"
    assert exactly_once(slack.ctx, slack.fake) == []


def test_a_timeout_still_makes_the_retry_look_first(slack: SlackOutbox) -> None:
    """The look-up stays where it is needed: Slack may have taken a post whose answer was lost."""
    [key] = slack.queue([direct(SAM, "Your list")])
    slack.fake.fail_next("chat.postMessage", "lost", target="D0SAM")
    slack.restarted().run_once()
    assert entries(slack.ctx)[key].may_have_landed
    advance(slack, 300)
    slack.restarted().run_once()
    assert slack.fake.made("conversations.history")
    assert landed(slack.fake)[key] == 1 and statuses(slack.ctx)[key] == "sent"


def test_a_later_message_for_the_channel_waits_behind_the_one_that_got_a_429(slack: SlackOutbox) -> None:
    first, second = slack.queue([post("finance", "First card"), post("finance", "Second card")], origin="a")
    [dana] = slack.queue([direct(DANA, "Your list")], origin="b")
    slack.fake.retry_after = "2"
    slack.fake.fail_next("chat.postMessage", 429, target="finance")

    report = slack.restarted().run_once()

    assert (report.retried, report.deferred, report.sent) == (1, 1, 1)
    assert statuses(slack.ctx)[dana] == "sent", "someone else's message does not wait"
    assert posted_titles(slack, "CFINANCE") == []
    [third] = slack.queue([post("finance", "Third card")], origin="c")  # queued while the first waits
    advance(slack, 1.5)
    assert slack.restarted().run_once().settled == 0, "neither the second nor a new one overtakes the first"

    advance(slack, wait_of(slack, first))
    assert slack.restarted().run_once().sent == 3
    assert [t.split(" ")[0] for t in posted_titles(slack, "CFINANCE")] == ["First", "Second", "Third"]
    assert {statuses(slack.ctx)[k] for k in (first, second, third)} == {"sent"}
    assert exactly_once(slack.ctx, slack.fake) == []


# -- the pace: 1.1 s per channel, pushed back by a 429 -----------------------------------------------


def test_one_channel_gets_a_message_each_1_1_s_and_other_people_do_not_wait(slack: SlackOutbox) -> None:
    dispatcher = paced(slack)
    keys = slack.queue([post("collections", f"News {n}") for n in range(3)] + [direct(SAM, "Your list")])

    report = dispatcher.run_once()
    assert (report.sent, report.paced) == (2, 2), "the first news and Sam's list; the rest at their turn"
    assert statuses(slack.ctx)[keys[3]] == "sent"
    assert wait_of(slack, keys[1]) == pytest.approx(GAP)
    assert dispatcher.run_once().settled == 0, "not before its turn"

    for _ in range(2):
        advance(slack, GAP)
        assert dispatcher.run_once().sent == 1
    times = stamps(slack, "CCOLLECTIONS")
    assert [round(b - a, 3) for a, b in itertools.pairwise(times)] == [GAP, GAP]
    assert posted_titles(slack, "CCOLLECTIONS") == [f"News {n}" for n in range(3)]


def test_a_429_pushes_its_channel_back_by_retry_after(slack: SlackOutbox) -> None:
    dispatcher = paced(slack)
    slack.fake.retry_after = "3"
    slack.fake.fail_next("chat.postMessage", 200, target="collections")  # the first one goes through
    slack.fake.fail_next("chat.postMessage", 429, target="collections")
    first, second, third = slack.queue([post("collections", f"News {n}") for n in range(3)])

    dispatcher.run_once()  # the first goes out; the second must wait its turn
    advance(slack, GAP)
    assert dispatcher.run_once().retried == 1  # the second's turn: 429
    assert 3.0 <= wait_of(slack, second) <= 3.0 * (1 + RETRY_AFTER_JITTER)
    assert wait_of(slack, third) == pytest.approx(wait_of(slack, second)), "the third stays behind it"

    advance(slack, wait_of(slack, second))
    assert dispatcher.run_once().sent == 1  # the second; the third waits a pace behind it
    advance(slack, GAP)
    assert dispatcher.run_once().sent == 1
    times = stamps(slack, "CCOLLECTIONS")
    assert times[1] - times[0] >= GAP + 3.0 - 1e-6 and round(times[2] - times[1], 3) == GAP
    assert exactly_once(slack.ctx, slack.fake) == []


def test_a_post_refused_with_a_429_does_not_count_for_the_pace(slack: SlackOutbox) -> None:
    """Slack posted nothing, so the retry waits Retry-After (1 s), not 1.1 s after the refused try."""
    slept: list[float] = []
    dispatcher = dataclasses.replace(paced(slack), sleep=lambda seconds: slept.append(seconds))
    slack.fake.retry_after = "1"
    slack.fake.fail_next("chat.postMessage", 429, target="collections")
    [key] = slack.queue([post("collections", "News")])
    refused_at = slack.ctx.clock.now().timestamp()

    assert dispatcher.run_once().retried == 1
    assert wait_of(slack, key) == 1.0
    advance(slack, 1.0)
    assert dispatcher.run_once().sent == 1
    assert slept == [], "no pace to sleep out"
    assert stamps(slack, "CCOLLECTIONS") == [pytest.approx(refused_at + 1.0)]


def test_a_drain_sleeps_the_pace_out_and_delivers_the_whole_channel(slack: SlackOutbox) -> None:
    """``arbot scheduler --once`` and shutdown: everything due goes now, spaced by sleeping."""
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        advance(slack, seconds)

    dispatcher = dataclasses.replace(paced(slack), sleep=sleep)
    keys = slack.queue([post("collections", f"News {n}") for n in range(3)])
    dispatcher.run_once()  # as the server's loop would: the rest queued for their turn
    assert dispatcher.drain().sent == 2
    assert set(statuses(slack.ctx)[k] for k in keys) == {"sent"}
    assert slept and sum(slept) == pytest.approx(2 * GAP)


# -- a long message: resumed, not started over ------------------------------------------------------


def long_list(title: str) -> Reply:
    return Reply(
        title=title,
        where=Where("collections"),
        rows=tuple(Row(title=f"Account {n:02d}", detail=f"${n}00 past due") for n in range(60)),
    )


def test_a_long_slack_message_whose_second_part_got_a_429_resends_only_that_part(slack: SlackOutbox) -> None:
    [key] = slack.queue([long_list("Call list")])
    slack.fake.fail_next("chat.postMessage", 200, target="collections")
    slack.fake.fail_next("chat.postMessage", 429, target="collections")

    assert slack.restarted().run_once().retried == 1
    assert len(slack.fake.posted("CCOLLECTIONS")) == 1
    advance(slack, 2)
    assert slack.restarted().run_once().sent == 1

    parts = [m["metadata"]["event_payload"]["part"] for m in slack.fake.posted("CCOLLECTIONS")]
    assert len(parts) >= 2 and parts == list(range(len(parts))), "each part once, in order"
    entry = entries(slack.ctx)[key]
    assert entry.message_id == slack.fake.posted("CCOLLECTIONS")[0]["ts"], "the first part is the message"
    assert slack.fake.made("conversations.history", status=None) == []


# -- the delivery loop's sleep -----------------------------------------------------------------------


def test_the_delivery_loop_sleeps_until_the_retry_is_due_not_a_poll(slack: SlackOutbox) -> None:
    service = DeliveryService(slack.ctx, {"slack": slack.messenger()}, poll_seconds=30)
    service.dispatcher = paced(slack)
    assert service.idle_seconds() == 30, "nothing waiting: the idle poll"
    slack.queue([direct(SAM, "Your list")])
    slack.fake.retry_after = "1"
    slack.fake.fail_next("chat.postMessage", 429, target="D0SAM")
    service.dispatcher.run_once()

    idle = service.idle_seconds()
    assert idle == pytest.approx(1.0 - WAKE_EARLY), "it wakes a moment before Retry-After has passed"
    advance(slack, idle + WAKE_EARLY)
    assert service.idle_seconds() == 0, "due now (it came due while a round ran): no sleep"
    assert service.dispatcher.run_once().sent == 1
    assert service.idle_seconds() == 30


def test_the_server_loop_retries_a_429_when_it_is_due(slack: SlackOutbox) -> None:
    """The loop as ``arbot serve`` runs it, on a clock a test moves: the retry goes out once
    the clock passes Retry-After, without a kick."""
    service = DeliveryService(slack.ctx, {"slack": slack.messenger()}, poll_seconds=0.05)
    service.dispatcher = paced(slack)
    [key] = slack.queue([direct(SAM, "Your list")])
    slack.fake.fail_next("chat.postMessage", 429, target="D0SAM")

    async def scenario() -> None:
        app = web.Application()
        app.cleanup_ctx.append(service.cleanup_context)
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            await _until(lambda: entries(slack.ctx)[key].attempts == 1)
            assert statuses(slack.ctx)[key] == "pending"
            advance(slack, wait_of(slack, key))
            await _until(lambda: statuses(slack.ctx)[key] == "sent")
        finally:
            await runner.cleanup()

    asyncio.run(scenario())
    assert exactly_once(slack.ctx, slack.fake) == []


async def _until(check: Any, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await asyncio.to_thread(check):
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_no_retry_waits_longer_than_retry_after_plus_jitter(slack: SlackOutbox) -> None:
    alone = slack.restarted()
    assert {alone.backoff(attempts, 1.0) for attempts in range(1, 8)} == {1.0}, "alone: exactly Retry-After"
    without = [alone.backoff(3, None) for _ in range(20)]
    assert min(without) >= 6.0 and max(without) <= 10.0, "no Retry-After: exponential backoff"

    slack.queue([direct(DANA, "Dana's list")], origin="other")
    assert slack.restarted().claim(), "another replica holds a claim"
    alone.next_due()  # its loop looks, as it does at least once a second
    waits = [alone.backoff(attempts, 1.0) for attempts in range(1, 8) for _ in range(20)]
    assert min(waits) >= 1.0 and max(waits) <= 1.0 + RETRY_AFTER_JITTER


# -- replicas: jitter only when there are several ---------------------------------------------------


def test_retries_of_two_replicas_are_spread_and_a_lone_dispatcher_waits_exactly(slack: SlackOutbox) -> None:
    """Two replicas that got 429s together do not come back together; once the other has not
    been seen at work for a while, Retry-After is kept to the millisecond again."""
    [held] = slack.queue([direct(DANA, "Dana's list")], origin="held")
    other = slack.restarted(jitter=lambda: 0.2)
    assert [e.key for e in other.claim()] == [held], "the other replica is sending Dana's list"
    [sams] = slack.queue([direct(SAM, "Sam's list")], origin="sam")
    slack.fake.retry_after = "2"
    slack.fake.fail_next("chat.postMessage", 429, target="D0SAM")

    this = slack.restarted(jitter=lambda: 0.8)
    assert this.run_once().retried == 1
    assert wait_of(slack, sams) == pytest.approx(2.0 * (1 + RETRY_AFTER_JITTER * 0.8))
    assert other.backoff(1, 2.0) == 2.0, "the other has not seen this one's claims: it waits exactly"
    other.next_due()
    assert other.backoff(1, 2.0) == pytest.approx(2.0 * (1 + RETRY_AFTER_JITTER * 0.2)), "now it has"

    advance(slack, MEMORY.total_seconds() + 1)  # the other's claim lapsed long ago
    this.next_due()
    assert this.backoff(1, 2.0) == 2.0
    assert this.drain().sent == 2, "Sam's retry, and Dana's list taken back from the lapsed claim"
    assert exactly_once(slack.ctx, slack.fake) == []


# -- claiming ahead: retries due together, one round, each at its instant --------------------------


def test_retries_coming_due_together_go_out_in_one_round_each_at_its_retry_after(slack: SlackOutbox) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        advance(slack, seconds)

    dispatcher = dataclasses.replace(paced(slack), sleep=sleep, workers=1)
    slack.fake.retry_after = "1"
    keys = []
    for n, (email, channel) in enumerate([(SAM, "D0SAM"), (DANA, "D0DANA"), ("priya.shah@example.com", "D0PRIYA")]):
        keys += slack.queue([direct(email, f"List {n}")], origin=f"list-{n}")
        slack.fake.fail_next("chat.postMessage", 429, target=channel)
        assert dispatcher.run_once().retried == 1
        advance(slack, 0.01)  # the next 429 comes 10 ms later
    due = {key: entries(slack.ctx)[key].next_attempt_at.timestamp() for key in keys}

    advance(slack, wait_of(slack, keys[0]) - WAKE_EARLY)  # the loop wakes a moment early
    report = dispatcher.run_once(ahead=GATHER)

    assert report.sent == 3, "one round for the three"
    assert slept == pytest.approx([WAKE_EARLY, 0.01, 0.01]), "each lane slept until its own entry was due"
    sent_at = {key: float(entries(slack.ctx)[key].message_id or 0) for key in keys}
    assert all(sent_at[key] >= due[key] for key in keys), "none before its Retry-After"
    assert sent_at == pytest.approx(due), "and none later"
    assert exactly_once(slack.ctx, slack.fake) == []


def test_an_entry_claimed_ahead_is_not_sent_while_the_clock_says_it_is_early(slack: SlackOutbox) -> None:
    [key] = slack.queue([direct(SAM, "Your list")])
    slack.fake.fail_next("chat.postMessage", 429, target="D0SAM")
    assert slack.restarted().run_once().retried == 1
    before = entries(slack.ctx)[key]
    advance(slack, 0.98)

    stuck = dataclasses.replace(slack.restarted(), sleep=lambda seconds: None)  # a clock that does not move
    report = stuck.run_once(ahead=GATHER)

    assert (report.deferred, report.sent, report.retried) == (1, 0, 0)
    after = entries(slack.ctx)[key]
    assert (after.status, after.next_attempt_at, after.attempts) == ("pending", before.next_attempt_at, 1)
    assert slack.fake.posted("D0SAM") == []
    advance(slack, 0.02)
    assert slack.restarted().run_once().sent == 1
