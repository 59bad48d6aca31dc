"""Pacing sends the way Teams allows (per thread: 7 in a second, 8 in two, 60 in thirty, 1800 in
an hour) and retrying what Teams refuses only for a while. Time is a fake clock that sleeping
advances, so nothing here waits."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from msrest.exceptions import HttpOperationError

from bot.teams.pacing import RETRY_STATUSES, THREAD_LIMITS, ThreadThrottle, with_retries
from commands.messages import Reply
from tests.support.teams import TeamsWorld, teams_ctx


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _sent_at(throttle: ThreadThrottle, time: FakeTime, thread: str, count: int) -> list[float]:
    async def send_all() -> list[float]:
        stamps = []
        for _ in range(count):
            await throttle.wait_turn(thread)
            stamps.append(round(time.now - 1000.0, 6))
        return stamps

    return asyncio.run(send_all())


def test_seven_a_second_then_eight_in_two_then_sixty_in_thirty() -> None:
    time = FakeTime()
    throttle = ThreadThrottle(now=time.clock, sleep=time.sleep)
    stamps = _sent_at(throttle, time, "19:x;messageid=1", 70)
    assert THREAD_LIMITS[0] == (7, 1.0)
    assert stamps[:7] == [0.0] * 7  # a burst of 7 goes at once
    assert stamps[7] == 1.0  # the 8th waits for the first second to pass
    assert stamps[8] == 2.0  # the 9th: no more than 8 in any two seconds
    for count, window in THREAD_LIMITS:
        for i in range(len(stamps) - count):
            assert stamps[i + count] - stamps[i] >= window - 1e-9, (count, window, i)
    assert stamps[60] >= 30.0


def test_threads_are_paced_separately() -> None:
    time = FakeTime()
    throttle = ThreadThrottle(now=time.clock, sleep=time.sleep)
    _sent_at(throttle, time, "busy", 7)
    assert _sent_at(throttle, time, "quiet", 7) == [0.0] * 7 and time.slept == []
    assert throttle.delay("busy") == pytest.approx(1.0)


def _http_error(status: int, retry_after: str | None = None) -> HttpOperationError:
    error = HttpOperationError.__new__(HttpOperationError)
    error.response = SimpleNamespace(status_code=status, headers={"Retry-After": retry_after} if retry_after else {})
    return error


@pytest.mark.parametrize("status", sorted(RETRY_STATUSES))
def test_transient_refusals_are_retried_with_growing_backoff(status: int) -> None:
    time = FakeTime()
    answers = [_http_error(status), _http_error(status), _http_error(status), "sent"]

    async def send() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    result = asyncio.run(with_retries(send, sleep=time.sleep, jitter=lambda: 1.0, base_delay=0.5))
    assert result == "sent" and time.slept == [0.5, 1.0, 2.0]


def test_retry_after_is_obeyed_and_attempts_are_bounded() -> None:
    time = FakeTime()
    calls = []

    async def always_throttled() -> None:
        calls.append(1)
        raise _http_error(429, retry_after="3")

    with pytest.raises(HttpOperationError):
        asyncio.run(with_retries(always_throttled, attempts=4, sleep=time.sleep))
    assert (len(calls), time.slept) == (4, [3.0, 3.0, 3.0])


def test_other_failures_are_not_retried() -> None:
    time = FakeTime()
    calls = []

    async def forbidden() -> None:
        calls.append(1)
        raise _http_error(403)

    with pytest.raises(HttpOperationError):
        asyncio.run(with_retries(forbidden, sleep=time.sleep))
    assert (len(calls), time.slept) == (1, [])


def test_the_messenger_waits_its_turn_in_a_busy_thread(ctx) -> None:
    """Ten proactive posts into one thread: the 8th waits for the second to turn."""
    world = TeamsWorld(teams_ctx(ctx))
    time = FakeTime()
    world.app.outbox.throttle = ThreadThrottle(now=time.clock, sleep=time.sleep)

    async def scenario() -> None:
        await world.start()
        await world.say("dana.reyes@example.com", "help")
        messenger = world.app.messenger
        for n in range(10):
            await asyncio.to_thread(messenger.direct, "dana.reyes@example.com", Reply(title=f"Reminder {n}"))

    asyncio.run(scenario())
    # "help" answered once, then 10 reminders: 11 sends, so sends 8 to 11 wait for a window.
    assert len(world.adapter.activity_buffer) == 11
    assert time.slept and time.now - 1000.0 >= 2.0
