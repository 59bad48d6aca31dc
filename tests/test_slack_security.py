"""What Slack's boundary must withstand: requests not signed with the app's secret (a wrong
signature, a replayed old timestamp, a body changed after signing) are refused with 401 and
change nothing; an event Slack delivers four times takes effect once; a Web API call answered
with 429 or 500 is retried, after the Retry-After Slack asked for, and posted once."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from commands.outbox.dispatch import BACKOFF_CAP_SECONDS
from commands.outbox.entries import requeue
from commands.outbox.outcomes import MAX_ATTEMPTS
from storage.models import InboundEvent, OutboxEntry, PaymentConfirmation, Promise
from tests.support.slack import SlackWorld, sign
from tests.support.slack_requests import assert_no_effect, promise_body
from tests.support.world import row_counts


def count(world: SlackWorld, model: type) -> int:
    with world.ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_wrong_signature_is_refused_and_changes_nothing(world: SlackWorld) -> None:
    before = row_counts(world.ctx)
    body = promise_body(world)
    status, _ = world.post(
        body, "application/x-www-form-urlencoded", signature=sign(body, int(time.time()), secret="not-the-secret")
    )
    assert status == 401
    assert_no_effect(world, before)


def test_a_timestamp_301_seconds_old_is_refused(world: SlackWorld) -> None:
    before = row_counts(world.ctx)
    old = int(time.time()) - 301
    body = promise_body(world)
    status, _ = world.post(body, "application/x-www-form-urlencoded", timestamp=old, signature=sign(body, old))
    assert status == 401
    assert_no_effect(world, before)


def test_a_body_changed_after_signing_is_refused(world: SlackWorld) -> None:
    before = row_counts(world.ctx)
    now = int(time.time())
    body = promise_body(world)
    tampered = body.replace("300", "3000")
    assert tampered != body
    status, _ = world.post(tampered, "application/x-www-form-urlencoded", timestamp=now, signature=sign(body, now))
    assert status == 401
    assert_no_effect(world, before)


def test_the_same_request_correctly_signed_goes_through(world: SlackWorld) -> None:
    status, _ = world.post(promise_body(world), "application/x-www-form-urlencoded")
    assert status == 200
    world.settle()
    assert count(world, Promise) == 1
    [answer] = world.answers("sec")
    assert answer["text"] == "Promise recorded for Acme Ortho (C200)"


def test_an_event_delivered_four_times_takes_effect_once(world: SlackWorld) -> None:
    """Slack's first delivery and its three retries, arriving while the first is handled."""
    statuses: list[int] = []

    def deliver(retry: int) -> None:
        status, _ = world.event("event_message_im", event_id="Ev0SAMEONE", retry=retry, text="promise C200 300 fri")
        statuses.append(status)

    senders = [threading.Thread(target=deliver, args=(n,)) for n in range(4)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    world.settle()
    assert statuses == [200] * 4
    assert count(world, Promise) == 1
    assert count(world, InboundEvent) == 1
    answers = [c for c in world.posts("D0DANA") if "Promise recorded" in c.params["text"]]
    assert len(answers) == 1
    refusals = [c for c in world.posts("D0DANA") if "already has an open promise" in json.dumps(c.params)]
    assert refusals == [], "a retry is dropped, not answered with a refusal"


def test_a_rate_limited_post_is_retried_after_retry_after_and_posted_once(world: SlackWorld) -> None:
    world.fake.fail_next("chat.postMessage", 429)
    name = world.command("U0DANA", "paid C300 700 today wire FED-1")
    world.settle()
    [entry] = outbox(world)
    assert entry.status == "pending" and entry.attempts == 1
    assert entry.next_attempt_at >= world.ctx.clock.now() + timedelta(seconds=1), "Slack said Retry-After: 1"
    [ack] = world.answers(name)  # the asker's answer does not wait for finance's card
    assert ack["text"].startswith("Asked finance to confirm $700.00")
    world.ctx.clock.advance(seconds=10)
    world.settle()
    assert [a.status for a in world.fake.made("chat.postMessage", status=None)] == [429, 200]
    assert len(world.posts("CFINANCE")) == 1
    assert count(world, PaymentConfirmation) == 1
    assert [e.status for e in outbox(world)] == ["sent"]


def test_a_server_error_is_retried_and_posted_once(world: SlackWorld) -> None:
    world.fake.fail_next("chat.postMessage", 500)
    world.command("U0DANA", "paid C300 700 today wire FED-1")
    world.settle()
    world.ctx.clock.advance(seconds=BACKOFF_CAP_SECONDS)
    world.settle()
    assert [a.status for a in world.fake.made("chat.postMessage", status=None)] == [500, 200]
    assert len(world.posts("CFINANCE")) == 1


def test_a_post_slack_keeps_refusing_is_failed_reported_to_admins_once_and_retryable(world: SlackWorld) -> None:
    """Every attempt answered 500: the confirmation is saved (its transaction had committed),
    the entry ends failed, the admins channel is told once what to do, and a requeue sends it."""
    world.fake.fail_next("chat.postMessage", 500, times=MAX_ATTEMPTS)
    world.command("U0DANA", "paid C300 700 today wire FED-1")
    for _ in range(MAX_ATTEMPTS + 2):
        world.settle()
        world.ctx.clock.advance(seconds=BACKOFF_CAP_SECONDS * 2)
    assert count(world, PaymentConfirmation) == 1
    card, report = outbox(world)
    assert (card.status, card.attempts, card.reported) == ("failed", MAX_ATTEMPTS, True)
    assert report.status == "sent" and report.destination == "arbot-admins"
    [told] = [c for c in world.fake.made("chat.postMessage") if c.params.get("channel") == "arbot-admins"]
    assert f"arbot outbox retry {card.id}" in json.dumps(told.params)
    with world.ctx.sessions.begin() as session:
        assert requeue(session, now=world.ctx.clock.now(), ids=[card.id]) == 1
    world.settle()
    assert len(world.posts("CFINANCE")) == 1


def outbox(world: SlackWorld) -> list[OutboxEntry]:
    with world.ctx.sessions() as session:
        return list(session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))
