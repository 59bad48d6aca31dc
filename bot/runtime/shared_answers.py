"""One run of a look-only command answers everyone who asked the same thing while it waited.

Under load the requests wait in a queue, and a collector who asks for their list, logs a call
and asks again has several ``list`` requests waiting at once; ranking and drawing the list for
each in turn is most of what a busy server spends its time on. A look-only command
(``Command.reads_only``: it changes nothing) asked in the same words by the same person gives
the same answer from the same ledger, so when one such request runs, the others like it that
came in *before it started* take its answer instead of running again.

Why that is safe: the answer was worked out from the ledger as it was after each of them came
in (the run started later), which is an answer the person could have had had their own request
run at that moment. A request that came in after the run started waits for its own run: a call
logged meanwhile must show.

Taken answers are delivered at once by the thread that ran the command (a request need not wait
for its place in the queue to get an answer that is ready); its place in the queue then finds
nothing left to do."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Ticket(Generic[T]):
    """One waiting request: when it came in, and whether a run has answered it (or it ran)."""

    arrived: int
    item: T
    taken: bool = field(default=False)


class SharedAnswers(Generic[T]):
    """Requests waiting by key (person and words); thread-safe. ``T`` is whatever the runtime
    needs to answer one of them (the request and its place in the backlog)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._arrivals = itertools.count(1)
        self._last = 0  # the newest arrival number handed out
        self._waiting: dict[Hashable, list[Ticket[T]]] = {}

    def arrive(self, key: Hashable, item: T) -> Ticket[T]:
        """A request with ``key`` joins the queue; keep the ticket for :meth:`start`."""
        with self._lock:
            self._last = next(self._arrivals)
            waiting = Ticket(self._last, item)
            self._waiting.setdefault(key, []).append(waiting)
            return waiting

    def start(self, key: Hashable, ticket: Ticket[T]) -> int | None:
        """The request's turn: None when another run already answered it (nothing to do),
        else the arrival number up to which waiting requests with ``key`` may take its answer."""
        with self._lock:
            if ticket.taken:
                return None
            ticket.taken = True
            self._drop(key, ticket)
            return self._last

    def take(self, key: Hashable, started: int) -> list[T]:
        """The requests with ``key`` that came in before the run that started at ``started``
        (they take its answer; their own turn will find nothing to do)."""
        with self._lock:
            waiting = self._waiting.get(key, [])
            mine = [w for w in waiting if w.arrived <= started and not w.taken]
            for w in mine:
                w.taken = True
            rest = [w for w in waiting if not w.taken]
            if rest:
                self._waiting[key] = rest
            else:
                self._waiting.pop(key, None)
            return [w.item for w in mine]

    def _drop(self, key: Hashable, ticket: Ticket[T]) -> None:
        waiting = self._waiting.get(key)
        if waiting is None:
            return
        waiting[:] = [w for w in waiting if w is not ticket]
        if not waiting:
            del self._waiting[key]

    @property
    def waiting(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._waiting.values())
