"""The outbox's dispatcher inside ``arbot serve``: one background loop per process that delivers
through every mounted platform.

The loop runs a round on a worker thread (sessions and the platform clients block), then sleeps
until the next thing is due and no longer: the earliest retry (a 429's Retry-After, a backoff), a
lane's next turn at its pace, or a claim whose lease runs out (:meth:`Dispatcher.next_due`). It
wakes :data:`WAKE_EARLY` before that instant and its round claims what comes due within
:data:`GATHER` (``run_once(ahead=...)``): the claim is done while the entry is still waiting, each
lane sleeps until its own entry is due, and retries that come due together go out in one round.
A retry Slack asked for in one second is sent one second later, not at the next poll and not a
claim later. A kick (the
core queued something: :meth:`DeliveryService.kick`, wired to the context's ``on_enqueued``)
wakes it at once. It never sleeps longer than ``poll_seconds``: entries queued by another
process (``arbot scheduler``, another replica) send no kick here and are found by that poll.

Rounds never overlap in one process, and a round does not sleep out a lane's pace (the lane's
next entry is queued for its turn), so a long run into one channel delays no other lane.
:meth:`drain` (tests, shutdown) waits for the running round and then delivers what is due,
sleeping out the paces."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping

from aiohttp import web

from commands.context import AppContext
from commands.messages import Messenger
from commands.outbox import Dispatcher, RoundReport

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # the longest idle sleep: how soon work queued by another process is seen
WAKE_EARLY = 0.05  # wake this long before the next entry is due, to have claimed it by then
# A round claims what comes due within this; its lanes sleep until then, so a kick meanwhile waits
# at most this long for the next round.
GATHER = 0.1


class DeliveryService:
    def __init__(
        self, ctx: AppContext, senders: Mapping[str, Messenger], *, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self.dispatcher = Dispatcher(ctx, senders)
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._round: asyncio.Lock | None = None
        self._stopping = False

    def kick(self) -> None:
        """Something was queued: deliver now rather than at the next poll. Thread-safe."""
        if self._loop is not None and self._wake is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def round(self) -> RoundReport:
        assert self._round is not None
        async with self._round:
            return await asyncio.to_thread(self.dispatcher.run_once, ahead=GATHER)

    async def drain(self) -> RoundReport:
        """Wait for the running round, then deliver everything due now."""
        assert self._round is not None
        async with self._round:
            return await asyncio.to_thread(self.dispatcher.drain)

    async def run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            try:
                report = await self.round()
                if report.sent + report.failed + report.skipped:
                    continue  # a full batch may have left more due at once
                idle = await asyncio.to_thread(self.idle_seconds)
            except Exception:  # the database away for a moment: the next poll tries again
                log.exception("outbox round failed")
                idle = self.poll_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), idle)
            self._wake.clear()

    def idle_seconds(self) -> float:
        """How long the loop may sleep: until just before the next entry comes due (the round
        that claims it sleeps out the rest), at most the poll."""
        due = self.dispatcher.next_due()
        if due is None:
            return self.poll_seconds
        until = (due - self.ctx.clock.now()).total_seconds() - WAKE_EARLY
        return min(self.poll_seconds, max(0.0, until))

    async def cleanup_context(self, _app: web.Application) -> AsyncIterator[None]:
        """Start with the server, stop with it after the endpoints' own work was drained."""
        self._loop, self._wake, self._round = asyncio.get_running_loop(), asyncio.Event(), asyncio.Lock()
        self._stopping = False
        task = asyncio.create_task(self.run())
        yield
        await self._stop(task)
        await self.drain()

    async def _stop(self, task: asyncio.Task[None]) -> None:
        """End the loop: told by a flag and woken, and cancelled too (a round in progress ends at
        once). The flag is what makes it certain: on Python 3.11 ``asyncio.wait_for`` swallows a
        cancellation that arrives just as the wait it guards ends (a kick landing as the server
        shuts down), and a loop that only listened for cancellation went on polling for ever,
        holding the server's shutdown with it."""
        assert self._wake is not None
        self._stopping = True
        self._wake.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
