"""The outbox's dispatcher inside ``arbot serve``: one background loop per process that delivers
through every mounted platform.

The loop runs a round on a worker thread (sessions and the platform clients block), then waits
for a kick (the core queued something: :meth:`DeliveryService.kick`, wired to the context's
``on_enqueued``) or for :data:`POLL_SECONDS`, whichever comes first; a retry that comes due or
an entry another replica left behind is picked up by the poll. Rounds never overlap in one
process: :meth:`drain` (tests, shutdown) waits for the running one and then delivers what is
due."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping

from aiohttp import web

from commands.context import AppContext
from commands.messages import Messenger
from commands.outbox import Dispatcher, RoundReport

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0


class DeliveryService:
    def __init__(self, ctx: AppContext, senders: Mapping[str, Messenger], *,
                 poll_seconds: float = POLL_SECONDS) -> None:
        self.dispatcher = Dispatcher(ctx, senders)
        self.poll_seconds = poll_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._round: asyncio.Lock | None = None

    def kick(self) -> None:
        """Something was queued: deliver now rather than at the next poll. Thread-safe."""
        if self._loop is not None and self._wake is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def round(self) -> RoundReport:
        assert self._round is not None
        async with self._round:
            return await asyncio.to_thread(self.dispatcher.run_once)

    async def drain(self) -> RoundReport:
        """Wait for the running round, then deliver everything due now."""
        assert self._round is not None
        async with self._round:
            return await asyncio.to_thread(self.dispatcher.drain)

    async def run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                report = await self.round()
            except Exception:  # the database away for a moment: the next poll tries again
                log.exception("outbox round failed")
                report = RoundReport()
            if report.sent + report.failed + report.skipped == 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                except asyncio.TimeoutError:
                    pass
                self._wake.clear()

    async def cleanup_context(self, _app: web.Application) -> AsyncIterator[None]:
        """Start with the server, stop with it after the endpoints' own work was drained."""
        self._loop, self._wake, self._round = asyncio.get_running_loop(), asyncio.Event(), asyncio.Lock()
        task = asyncio.create_task(self.run())
        yield
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await self.drain()
