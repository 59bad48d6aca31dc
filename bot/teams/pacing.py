"""Sending at a pace Teams accepts. Teams limits each bot per thread (7 messages in any second,
8 in two, 60 in thirty, 1800 in an hour) and answers 429 past that; it also answers 412, 502 and
504 when it is briefly unable. A morning that posts 75 list lines or a burst of approval cards
must wait its turn rather than lose messages, and a transient failure is retried with backoff.
Time and sleep are injected, so the pacing is tested without waiting."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

from msrest.exceptions import HttpOperationError

log = logging.getLogger(__name__)
T = TypeVar("T")

# (messages, seconds): Teams' documented per-bot, per-thread send limits.
THREAD_LIMITS: tuple[tuple[int, float], ...] = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
RETRY_STATUSES = frozenset({412, 429, 502, 504})
_PRUNE_AT = 1000  # threads remembered before quiet ones are forgotten


class ThreadThrottle:
    """Waits, per thread, until one more message fits every window of ``limits``."""

    def __init__(
        self,
        limits: tuple[tuple[int, float], ...] = THREAD_LIMITS,
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._limits = limits
        self._longest = max(window for _, window in limits)
        self._now, self._sleep = now, sleep
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait_turn(self, thread: str) -> None:
        """Return when a message may be sent to ``thread``, counting it as sent."""
        lock = self._locks.setdefault(thread, asyncio.Lock())
        async with lock:
            while (delay := self.delay(thread)) > 0:
                await self._sleep(delay)
            self._sent.setdefault(thread, deque()).append(self._now())
        if len(self._sent) > _PRUNE_AT:
            self._prune()

    def delay(self, thread: str) -> float:
        """Seconds until one more message fits every window (0 when it fits now)."""
        sent = self._sent.get(thread)
        if not sent:
            return 0.0
        now = self._now()
        while sent and now - sent[0] >= self._longest:
            sent.popleft()
        wait = 0.0
        for count, window in self._limits:
            in_window = [t for t in sent if now - t < window]
            if len(in_window) >= count:
                wait = max(wait, in_window[-count] + window - now)
        return wait

    def _prune(self) -> None:
        now = self._now()
        for thread in [t for t, sent in self._sent.items() if not sent or now - sent[-1] >= self._longest]:
            lock = self._locks.get(thread)
            if lock is None or not lock.locked():
                self._sent.pop(thread, None)
                self._locks.pop(thread, None)


def status_of(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return int(status) if status is not None else None


def retry_after(exc: BaseException) -> float | None:
    """Seconds from a ``Retry-After`` header, when the service said how long to wait."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


async def with_retries(
    operation: Callable[[], Awaitable[T]],
    *,
    attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    jitter: Callable[[], float] = random.random,
) -> T:
    """Run ``operation``; on 412/429/502/504 wait (``Retry-After`` if given, else exponential
    backoff with jitter) and run it again, up to ``attempts`` times in all."""
    for attempt in range(1, attempts):
        try:
            return await operation()
        except HttpOperationError as exc:
            status = status_of(exc)
            if status not in RETRY_STATUSES:
                raise
            delay = retry_after(exc)
            if delay is None:
                delay = min(max_delay, base_delay * 2 ** (attempt - 1)) * (0.5 + jitter() / 2)
            log.info("Teams answered %s; retry %d of %d in %.2fs", status, attempt, attempts - 1, delay)
            await sleep(min(delay, max_delay))
    return await operation()
