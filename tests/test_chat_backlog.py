"""More requests than the process can answer soon: the person hears at once when the answer
should come, and past the bound is told to ask again, with nothing done; never minutes of
silence. The pace is measured from the answers themselves."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from bot.runtime.backlog import MAX_WAIT, NOTICE_AFTER, TYPICAL_SECONDS, Backlog
from storage.models import Promise
from tests.support.slack import SlackWorld, text_of


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def busy(backlog: Backlog, clock: Clock, *, inside: int, seconds_each: float) -> None:
    """``inside`` requests in the process, answered one every ``seconds_each`` until now."""
    for _ in range(inside + 40):
        assert backlog.enter() is not None
    for _ in range(40):
        clock.now += seconds_each
        backlog.leave()


def test_an_idle_process_takes_a_request_without_a_word() -> None:
    place = Backlog().enter()
    assert place is not None and place.ahead == 0 and place.wait == TYPICAL_SECONDS and not place.announced


def test_the_pace_comes_from_the_answers_and_a_long_wait_is_announced() -> None:
    clock = Clock()
    backlog = Backlog(clock=clock)
    busy(backlog, clock, inside=9, seconds_each=1.0)
    place = backlog.enter()
    assert place is not None and place.ahead == 9
    assert NOTICE_AFTER <= place.wait <= 10.0 and place.announced, place
    notice = place.notice()
    assert notice.private and "about 10 seconds" in notice.title and "9 requests are ahead" in notice.text


def test_idle_gaps_are_not_taken_for_the_pace() -> None:
    clock = Clock()
    backlog = Backlog(clock=clock)
    for _ in range(5):  # one request at a time, an hour apart
        backlog.enter()
        clock.now += 3600
        backlog.leave()
    place = backlog.enter()
    assert place is not None and place.wait == TYPICAL_SECONDS


def test_past_the_bound_a_request_is_turned_away() -> None:
    backlog = Backlog(limit=3)
    assert all(backlog.enter() is not None for _ in range(3))
    assert backlog.enter() is None
    backlog.leave()
    assert backlog.enter() is not None
    clock = Clock()
    slow = Backlog(clock=clock)
    busy(slow, clock, inside=3, seconds_each=MAX_WAIT / 3)
    assert slow.enter() is None, "an answer expected past MAX_WAIT: turned away"


def promises(world: SlackWorld) -> int:
    with world.ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Promise)) or 0)


def test_on_slack_a_turned_away_request_does_nothing_and_says_so(world: SlackWorld) -> None:
    backlog = Backlog(limit=2)
    world.runtime.chat.backlog = backlog
    backlog.enter(), backlog.enter()  # two requests already inside
    asked = world.command("U0DANA", f"promise C100 500 {date(2026, 11, 27).isoformat()}")
    world.settle()
    [answer] = world.answers(asked)
    assert "ask again in a minute" in text_of(answer) and "did nothing" in text_of(answer)
    assert promises(world) == 0
    backlog.leave(), backlog.leave()
    again = world.command("U0DANA", f"promise C100 500 {date(2026, 11, 27).isoformat()}")
    world.settle()
    assert "Promise recorded" in text_of(world.answers(again)[-1])
    assert promises(world) == 1


def test_on_slack_a_long_wait_is_announced_and_the_answer_follows(world: SlackWorld) -> None:
    clock = Clock()
    backlog = Backlog(clock=clock)
    busy(backlog, clock, inside=9, seconds_each=1.0)
    world.runtime.chat.backlog = backlog
    asked = world.command("U0DANA", f"promise C100 500 {date(2026, 11, 27).isoformat()}")
    world.settle()
    said = sorted(text_of(answer) for answer in world.answers(asked))
    assert len(said) == 2, said
    assert any("Busy right now: your answer should come in about 10 seconds" in text for text in said), said
    assert any("Promise recorded" in text for text in said), said
    assert backlog.inside == 9, "the request left the backlog when it was answered"
    assert promises(world) == 1
