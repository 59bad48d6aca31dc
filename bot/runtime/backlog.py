"""How much chat work one platform's runtime takes on, and what the person hears when there is
more than it can answer soon.

Each request's core work runs on a worker thread. When requests come faster than the process
answers them (a burst of call lists costs tens of milliseconds of CPU each), the excess waits
for a thread, and without a bound that wait grew to minutes with nobody told. Here:

- the requests inside the process are counted by kind (the command's first word), and the
  process's pace is measured per kind: while there is a queue, the seconds between one answer
  and the one before it are the time the process gave the request just answered, and an
  exponentially weighted mean of them per kind is that kind's service time;
- a request's expected wait is the service time of every request ahead of it, kind by kind,
  plus its own: a queue of lists waits longer than a queue of the same length of status
  questions;
- what the asker is told is that estimate times a margin learnt from the promises already made:
  each answered request compares the seconds it took with the estimate it was given, and the
  margin is the weighted mean of that ratio plus four weighted mean deviations (as TCP sets its
  retransmission timeout from the round-trip times), and never under 1.2: the service means
  themselves wander by about a tenth, and every wait told leans on the same means. A promise is
  then late mostly when the process slows down after it was made;
- a request that will likely wait longer than :data:`NOTICE_AFTER` is taken, and its asker told
  at once when the answer should come;
- past the bound (:data:`DEFAULT_LIMIT` requests inside, or an expected wait over
  :data:`MAX_WAIT`), a request is turned away at once: nothing done, ask again in a minute.

``ARBOT_CHAT_BACKLOG`` sets the bound."""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from commands import messages
from commands.messages import Reply, Tone

NOTICE_AFTER = 5.0  # seconds: an answer expected later than this is announced
MAX_WAIT = 120.0  # seconds: a request expected to wait longer is turned away
DEFAULT_LIMIT = 500  # requests inside the process (running or waiting)
TYPICAL_SECONDS = 0.05  # the service time assumed for a kind before any has been measured
_SMOOTHING = 0.1  # weight of the newest service time in its kind's mean
_MARGIN_SMOOTHING = 0.02  # weight of the newest answered promise in the margin's mean and deviation
_MARGIN_FROM = 1.0  # seconds: estimates shorter than this say little about the margin
_MARGIN_CAP = 4.0
_MARGIN_FLOOR = 1.2  # the service means' own noise (measured in tests/test_chat_backlog.py)
_DEVIATIONS = 4.0
_KINDS = 32  # kinds told apart at most; the rest count as one
OTHER = "other"


def kind_of(text: str | None) -> str:
    """The kind of a chat request for its service time: the command word ("list", "status"),
    "other" for anything that is not a short word (a button, free text)."""
    word = (text or "").strip().split(maxsplit=1)[0].lower() if (text or "").strip() else ""
    return word if word.isalpha() and len(word) <= 16 else OTHER


@dataclass(frozen=True)
class Place:
    """Where an admitted request stands: how many are ahead and the expected wait for its answer."""

    ahead: int
    wait: float  # seconds the asker is told (the estimate times the margin)
    kind: str = OTHER
    estimate: float = 0.0  # seconds the service times alone give
    entered: float = 0.0  # the backlog's clock when it came in
    measured: bool = False  # whether the estimate came from measured service times only
    ticket: int = field(default=0, compare=False)

    @property
    def announced(self) -> bool:
        return self.wait >= NOTICE_AFTER

    @property
    def notice_seconds(self) -> int:
        """The wait told, in whole five seconds."""
        return max(5, int(math.ceil(self.wait / 5.0)) * 5)

    def notice(self) -> Reply:
        seconds = self.notice_seconds
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
    """Counts the requests inside one runtime by kind and measures how fast each kind is
    answered, and how well the waits it told came true."""

    def __init__(self, limit: int = DEFAULT_LIMIT, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._inside: OrderedDict[int, Place] = OrderedDict()  # by ticket, oldest first
        # How many of each kind are inside: an estimate sums over kinds, not over requests, so
        # taking a place costs the same with 5 or 500 inside (it runs on the event loop).
        self._kinds_inside: Counter[str] = Counter()
        self._tickets = itertools.count(1)
        self._service: dict[str, float] = {}  # seconds per request of a kind while busy
        self._last_answer: float | None = None
        self._ratio = 1.0  # weighted mean of (seconds taken / estimate)
        self._deviation = 0.0  # weighted mean absolute deviation of that ratio
        self.promised = 0  # announced waits answered so far (with a place to leave)
        self.kept = 0  # of those, answered within the seconds told

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Backlog:
        env = os.environ if environ is None else environ
        try:
            limit = int(env.get("ARBOT_CHAT_BACKLOG") or DEFAULT_LIMIT)
        except ValueError:
            limit = DEFAULT_LIMIT
        return cls(max(1, limit))

    def enter(self, kind: str = OTHER) -> Place | None:
        """A place for one more request of ``kind`` (:func:`kind_of`), or None when it must be
        turned away."""
        with self._lock:
            kind = kind if kind in self._service or len(self._service) < _KINDS else OTHER
            estimate = self._seconds(kind) + sum(n * self._seconds(k) for k, n in self._kinds_inside.items())
            if len(self._inside) >= self.limit or estimate > MAX_WAIT:
                return None
            now = self._clock()
            place = Place(
                ahead=len(self._inside),
                wait=estimate * self.margin,
                kind=kind,
                estimate=estimate,
                entered=now,
                measured=OTHER in self._service or all(k in self._service for k in (kind, *self._kinds_inside)),
                ticket=next(self._tickets),
            )
            if not self._inside:
                self._last_answer = None  # idle until now: the next gap is no measure of the pace
            self._inside[place.ticket] = place
            self._kinds_inside[kind] += 1
            return place

    def leave(self, place: Place | None = None) -> None:
        """One request answered (or given up on): ``place`` as :meth:`enter` gave it, or the
        oldest inside when not given."""
        with self._lock:
            now = self._clock()
            if place is not None and place.ticket in self._inside:
                del self._inside[place.ticket]
            elif self._inside:
                place = self._inside.popitem(last=False)[1]
            else:
                return
            self._kinds_inside[place.kind] -= 1
            if not self._kinds_inside[place.kind]:
                del self._kinds_inside[place.kind]
            if self._last_answer is not None:
                before = self._seconds(place.kind)
                self._service[place.kind] = before + _SMOOTHING * ((now - self._last_answer) - before)
            self._last_answer = now if self._inside else None
            self._learn(place, now - place.entered)

    def _learn(self, place: Place, took: float) -> None:
        """The margin from one answered request: how its time compares with its estimate."""
        if place.announced:
            self.promised += 1
            self.kept += took <= place.notice_seconds
        if place.estimate < _MARGIN_FROM or not place.measured:
            return  # a guess from TYPICAL_SECONDS says nothing about how good the measures are
        ratio = took / place.estimate
        self._deviation += _MARGIN_SMOOTHING * (abs(ratio - self._ratio) - self._deviation)
        self._ratio += _MARGIN_SMOOTHING * (ratio - self._ratio)

    def _seconds(self, kind: str) -> float:
        return self._service.get(kind, self._service.get(OTHER, TYPICAL_SECONDS))

    @property
    def margin(self) -> float:
        """What an estimate is multiplied by before it is told."""
        return min(_MARGIN_CAP, max(_MARGIN_FLOOR, self._ratio + _DEVIATIONS * self._deviation))

    @property
    def inside(self) -> int:
        return len(self._inside)
