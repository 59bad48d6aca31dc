"""How much chat work one platform's runtime takes on, and what the person hears when there is
more than it can answer soon.

Each request's core work runs on a worker thread. When requests come faster than the process
answers them (a burst of call lists costs tens of milliseconds of CPU each), the excess waits
for a thread, and without a bound that wait grew to minutes with nobody told. Here:

- the requests inside the process are counted, and the pace at which they are answered is
  measured (the seconds between answers while there is a queue);
- a request that will likely wait longer than :data:`NOTICE_AFTER` is taken, and its asker told
  at once when the answer should come;
- past the bound (:data:`DEFAULT_LIMIT` requests inside, or an expected wait over
  :data:`MAX_WAIT`), a request is turned away at once: nothing done, ask again in a minute.

``ARBOT_CHAT_BACKLOG`` sets the bound."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from commands import messages
from commands.messages import Reply, Tone

NOTICE_AFTER = 5.0  # seconds: an answer expected later than this is announced
MAX_WAIT = 120.0  # seconds: a request expected to wait longer is turned away
DEFAULT_LIMIT = 500  # requests inside the process (running or waiting)
TYPICAL_SECONDS = 0.05  # the pace assumed before any has been measured
_SMOOTHING = 0.1


@dataclass(frozen=True)
class Place:
    """Where an admitted request stands: how many are ahead and the expected wait for its answer."""

    ahead: int
    wait: float

    @property
    def announced(self) -> bool:
        return self.wait >= NOTICE_AFTER

    def notice(self) -> Reply:
        seconds = max(5, int(math.ceil(self.wait / 5.0)) * 5)
        return Reply(
            title=f"Busy right now: your answer should come in about {seconds} seconds",
            text=f"{self.ahead} requests are ahead of yours; nothing needs doing meanwhile.",
            tone=Tone.INFO,
            private=True,
        )


def turned_away() -> Reply:
    return messages.error(
        "I have more requests than I can answer right now and did nothing with this one; ask again in a minute"
    )


class Backlog:
    """Counts the requests inside one runtime and measures how fast they are answered."""

    def __init__(self, limit: int = DEFAULT_LIMIT, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._inside = 0
        self._pace = TYPICAL_SECONDS  # seconds between answers while busy
        self._last_answer: float | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Backlog:
        env = os.environ if environ is None else environ
        try:
            limit = int(env.get("ARBOT_CHAT_BACKLOG") or DEFAULT_LIMIT)
        except ValueError:
            limit = DEFAULT_LIMIT
        return cls(max(1, limit))

    def enter(self) -> Place | None:
        """A place for one more request, or None when it must be turned away."""
        with self._lock:
            wait = (self._inside + 1) * self._pace
            if self._inside >= self.limit or wait > MAX_WAIT:
                return None
            place = Place(ahead=self._inside, wait=wait)
            self._inside += 1
            if self._inside == 1:
                self._last_answer = None  # idle until now: the next gap is no measure of the pace
            return place

    def leave(self) -> None:
        """One request answered (or given up on)."""
        with self._lock:
            now = self._clock()
            if self._last_answer is not None:
                self._pace += _SMOOTHING * ((now - self._last_answer) - self._pace)
            self._inside -= 1
            self._last_answer = now if self._inside > 0 else None

    @property
    def inside(self) -> int:
        return self._inside
