"""The mail sender's loop inside ``arbot serve`` (and the scheduler process): customer email
queued by a command or a job is sent a moment after its transaction committed.

A round runs on a worker thread (smtplib and the sessions block); between rounds the loop
sleeps :data:`POLL_SECONDS`, so an email queued by another process is found just as soon.
What a round settles tells people in chat through the outbox, so the chat dispatcher is
kicked after it (``ctx.on_enqueued``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from commands.context import AppContext
from commands.mail.config import MailSettings
from commands.mail.sender import MailReport, MailSender

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0


class MailService:
    def __init__(self, ctx: AppContext, settings: MailSettings, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.sender = MailSender(ctx, settings)
        self.poll_seconds = poll_seconds

    async def round(self) -> MailReport:
        return await asyncio.to_thread(self.sender.run_once)

    async def run(self) -> None:
        while True:
            try:
                await self.round()
            except Exception:  # the database or the mail server away for a moment: next round
                log.exception("mail round failed")
            await asyncio.sleep(self.poll_seconds)

    async def cleanup_context(self, _app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(self.run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
