"""The chat runtime both adapters share: a redelivery is dropped by the process that answered
it but not when its answer left the person unsure; a failure anywhere becomes one sentence with
a reference; each reply is delivered on its own, and a lost one is owned up to truly."""

from __future__ import annotations

import pytest

from bot.runtime.requests import ChatRuntime
from commands import messages
from commands.context import AppContext
from commands.failures import Saved, failure_reply
from commands.messages import ChatUser, Incoming, Reply, Tone, Where
from tests.support.world import DANA, row_counts, seed_world

ASKED = Reply(title="Promise recorded for Acme Ortho (C200)", tone=Tone.SUCCESS, private=True)
MORE = Reply(title="Open promises: 1", private=True)


class Unreachable(Exception):
    """The platform did not take the message."""


def sender(failing: set[str]) -> tuple[list[Reply], object]:
    shown: list[Reply] = []

    def send(reply: Reply) -> None:
        if reply.title in failing:
            raise Unreachable(reply.title)
        shown.append(reply)

    return shown, send


def test_each_reply_goes_on_its_own_and_a_lost_one_is_owned_up_to(ctx: AppContext) -> None:
    runtime = ChatRuntime(ctx, "slack")
    shown, send = sender({ASKED.title})
    assert runtime.deliver([ASKED, MORE], send) == 1  # type: ignore[arg-type]
    assert shown[0] == MORE
    [note] = shown[1:]
    assert note.tone is Tone.ERROR and note.title.startswith("Saved, but I could not show you all of my answer (ref ")


def test_a_lost_refusal_does_not_claim_anything_was_saved(ctx: AppContext) -> None:
    runtime = ChatRuntime(ctx, "slack")
    refusal = messages.error("'acme' matches 2 customers")
    shown, send = sender({refusal.title})
    runtime.deliver([refusal], send)  # type: ignore[arg-type]
    [note] = shown
    assert note.title.startswith("I could not show you my answer; nothing was saved (ref ")


def test_a_redelivery_is_dropped_once_answered_but_not_when_the_answer_was_unsure(ctx: AppContext) -> None:
    runtime = ChatRuntime(ctx, "teams")
    assert runtime.first_sight("act-1")
    assert not runtime.first_sight("act-1"), "in flight: a concurrent redelivery is dropped"
    runtime.finished("act-1", [ASKED])
    assert not runtime.first_sight("act-1"), "answered: dropped"
    assert runtime.first_sight("act-2")
    unsure = failure_reply(ConnectionError("server closed the connection unexpectedly"), saved=Saved.UNKNOWN)
    runtime.finished("act-2", [unsure])
    assert runtime.first_sight("act-2"), "the person does not know yet: a redelivery gets the stored answer"
    assert runtime.first_sight(None) and runtime.first_sight(None), "no key: nothing to drop by"


def test_a_failing_identity_lookup_is_answered(ctx: AppContext) -> None:
    seed_world(ctx)
    runtime = ChatRuntime(ctx, "slack")

    def who_asked() -> Incoming:
        raise TimeoutError("users.info did not answer")

    [said] = runtime.converse(who_asked)
    assert said.tone is Tone.ERROR and said.private
    assert said.title.startswith("Something went wrong on our side") and "(ref " in said.title
    assert "nothing was saved" in said.title


@pytest.mark.parametrize(
    ("saved", "says"),
    [
        (Saved.NO, "nothing was saved"),
        (Saved.YES, "but your request was saved"),
        (Saved.UNKNOWN, "I can't tell yet whether it was"),
    ],
)
def test_what_a_failure_says_about_saving(saved: Saved, says: str) -> None:
    said = failure_reply(RuntimeError("boom"), saved=saved)
    assert says in said.title and "boom" not in said.title, "the cause is in the log, not in chat"


def test_the_core_answers_a_keyed_request_once(ctx: AppContext) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    runtime = ChatRuntime(ctx, "slack")
    incoming = Incoming(
        user=ChatUser("slack", "U0DANA", DANA), where=Where("D0DANA"), text="promise C200 300 fri", request_id="Ev-once"
    )
    [first] = runtime.converse(lambda: incoming)
    [again] = ChatRuntime(ctx, "slack").converse(lambda: incoming)  # another replica, same key
    assert first.tone is Tone.SUCCESS and again == first
    after = row_counts(ctx)
    assert (after["promises"], after["inbound_events"]) == (before["promises"] + 1, before["inbound_events"] + 1)
