"""One run of a look-only command answers the same question from the same person waiting behind
it (bot.runtime.shared_answers), and never one asked after the run began."""

from __future__ import annotations

import urllib.parse
from typing import Any

from bot.runtime.backlog import Place
from bot.runtime.shared_answers import SharedAnswers
from bot.slack.incoming import Request, from_command
from tests.support.slack import fixture, text_of


def test_a_run_answers_those_that_came_before_it_started_and_no_later_one() -> None:
    shared: SharedAnswers[str] = SharedAnswers()
    first = shared.arrive("dana list", "first")
    shared.arrive("dana list", "second")
    shared.arrive("sam list", "sam's")
    started = shared.start("dana list", first)
    assert started is not None
    late = shared.arrive("dana list", "after the run began")
    assert shared.take("dana list", started) == ["second"]
    assert shared.start("dana list", late) is not None  # it runs itself


def test_a_request_already_answered_finds_nothing_to_do() -> None:
    shared: SharedAnswers[str] = SharedAnswers()
    first = shared.arrive("k", "first")
    second = shared.arrive("k", "second")
    started = shared.start("k", first)
    assert started is not None and shared.take("k", started) == ["second"]
    assert shared.start("k", second) is None
    assert shared.waiting == 0


def _request(world: Any, text: str, name: str, user: str = "U0DANA") -> Request:
    body = {
        **fixture("slash_command"),
        "user_id": user,
        "command": "/ar",
        "text": text,
        "channel_id": "C0COLLECT",
        "response_url": world.fake.response_url(name),
        "trigger_id": world.trigger(),
    }
    return from_command(dict(urllib.parse.parse_qsl(urllib.parse.urlencode(body))))


def test_lists_waiting_behind_one_are_answered_by_its_run_at_once(world: Any) -> None:
    runtime = world.runtime
    place = Place(ahead=0, wait=0.0)
    first, second = _request(world, "list", "first"), _request(world, "list", "second")
    key_first = ("U0DANA", "C0COLLECT", "", "list")
    ticket_first = runtime.shared.arrive(key_first, (first, place))
    ticket_second = runtime.shared.arrive(key_first, (second, place))
    runtime._admitted(first, place, key_first, ticket_first)
    # the second has its answer before its own turn comes, and the same one
    answers = [text_of(a) for a in world.answers("second")]
    assert answers and answers == [text_of(a) for a in world.answers("first")]
    assert "Acme Ortho" in answers[0]
    made = len(world.fake.made("response_url"))
    runtime._admitted(second, place, key_first, ticket_second)  # its turn: nothing left to do
    assert len(world.fake.made("response_url")) == made


def test_a_list_asked_after_the_run_began_is_worked_out_afresh(world: Any) -> None:
    runtime = world.runtime
    place = Place(ahead=0, wait=0.0)
    key = ("U0DANA", "C0COLLECT", "", "list")
    first = _request(world, "list", "first")
    ticket_first = runtime.shared.arrive(key, (first, place))
    runtime._admitted(first, place, key, ticket_first)
    runtime.process(_request(world, "promise C200 800 2026-11-27", "promise"))
    later = _request(world, "list", "later")
    runtime._admitted(later, place, key, runtime.shared.arrive(key, (later, place)))
    assert "Acme Ortho" in text_of(world.answers("first")[0])
    assert "Acme Ortho" not in text_of(world.answers("later")[0])


def test_only_typed_look_only_commands_share_an_answer(world: Any) -> None:
    from bot.slack.runtime import _shared_key

    assert _shared_key(_request(world, "list", "a")) == ("U0DANA", "C0COLLECT", "", "list")
    assert _shared_key(_request(world, "  LIST ", "b")) == ("U0DANA", "C0COLLECT", "", "list")
    assert _shared_key(_request(world, "promise C200 800 fri", "c")) is None
    assert _shared_key(_request(world, "log C200 reached", "d")) is None
