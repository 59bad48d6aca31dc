"""What happens after Slack was acknowledged: the core runs on a worker thread, its posts go out
through the :class:`SlackMessenger`, and the person who asked gets their answer.

Listeners only acknowledge and hand over (:meth:`SlackRuntime.submit`); Slack wants an answer
within 3 seconds and retries events it did not get one for, while a command's transaction, the
ranking behind ``list`` and the Web API calls block. Handing over keeps the event loop free to
acknowledge the next request while this one is still writing.

What is the same on every platform (a redelivery dropped by its key, the one error path that
always answers, each reply delivered on its own) is :class:`bot.runtime.requests.ChatRuntime`'s;
this module only says how Slack answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.runtime.backlog import Place, kind_of, turned_away
from bot.runtime.requests import ChatRuntime
from bot.runtime.shared_answers import SharedAnswers, Ticket
from bot.slack.incoming import Request
from bot.slack.messenger import AnswerTo, SlackMessenger
from commands.context import AppContext
from commands.messages import ChatUser, Incoming, Reply, Tone
from commands.router import words_only_look

log = logging.getLogger(__name__)

PLATFORM = "slack"


class SlackRuntime:
    """The core behind the Slack listeners, and the background work they started."""

    def __init__(
        self,
        ctx: AppContext,
        messenger: SlackMessenger,
        *,
        on_home_action: Callable[[SlackRuntime, str], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.messenger = messenger
        self.chat = ChatRuntime(ctx, PLATFORM)
        self._on_home_action = on_home_action
        self._tasks: set[asyncio.Future[Any]] = set()
        # Busy notices and turn-aways go out past the queue the requests wait in.
        self._notices = ThreadPoolExecutor(max_workers=2, thread_name_prefix="arbot-slack-notices")
        # Look-only requests waiting in the backlog, by person and words: one run answers them all.
        self.shared: SharedAnswers[tuple[Request, Place]] = SharedAnswers()

    # -- handing over (event loop side) -------------------------------------------------------

    def submit(self, request: Request) -> None:
        """Handle ``request`` on a worker thread, after the listener has returned; a redelivery
        of one this process is handling or has answered is dropped here.

        Taken in on the event loop's next turn, not now: the listener returns at once, and the
        acknowledgement is written to Slack's socket in the same step, before the backlog is
        consulted, a busy notice is started or a worker thread is woken (a woken worker takes
        the interpreter lock, and the acknowledgement would wait for it to give it back)."""
        loop = asyncio.get_running_loop()
        taken = loop.create_future()  # :meth:`drain` waits for it like any other background work
        self._tasks.add(taken)
        taken.add_done_callback(self._done)
        loop.call_soon(self._take_in, request, taken)

    def _take_in(self, request: Request, taken: asyncio.Future[None]) -> None:
        try:
            self._admit(request)
        except Exception as exc:  # nobody is left to catch it: the listener has returned
            taken.set_exception(exc)
        else:
            taken.set_result(None)

    def _admit(self, request: Request) -> None:
        if not self.chat.first_sight(request.request_id):
            log.info("Slack request %s already handled; dropped", request.request_id)
            return
        place = self.chat.backlog.enter(kind_of(request.text))
        if place is None:
            log.warning(
                "Slack request %s turned away: %d requests inside", request.request_id, self.chat.backlog.inside
            )
            self.chat.turned_away(request.request_id)
            self.notify(request.to, turned_away())
            return
        if place.announced:
            self.notify(request.to, place.notice())
        key = _shared_key(request)
        ticket = self.shared.arrive(key, (request, place)) if key is not None else None
        self.in_thread(self._admitted, request, place, key, ticket)

    def notify(self, to: AnswerTo, reply: Reply) -> None:
        """Answer at once, on a thread of its own rather than behind the waiting requests."""
        loop = asyncio.get_running_loop()
        self.start(
            loop.run_in_executor(self._notices, self.chat.deliver, [reply], lambda r: self.messenger.answer(to, r))
        )

    def in_thread(self, fn: Callable[..., None], *args: Any) -> None:
        self.start(asyncio.to_thread(fn, *args))

    def start(self, work: Awaitable[Any]) -> None:
        """Run ``work`` in the background; kept referenced until done, errors logged."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background Slack work failed", exc_info=task.exception())

    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until all background work, including work it started, is finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- the work (worker thread side) --------------------------------------------------------

    def _admitted(
        self, request: Request, place: Place, key: tuple[str, ...] | None = None, ticket: Ticket[Any] | None = None
    ) -> None:
        started = self.shared.start(key, ticket) if key is not None and ticket is not None else None
        if key is not None and started is None:
            return  # answered by a run of the same words (its place was left then)
        try:
            replies = self.process(request, used=1 if place.announced else 0)
        finally:
            self.chat.backlog.leave(place)
        if started is not None and not any(reply.tone is Tone.ERROR for reply in replies):
            for other, other_place in self.shared.take(key, started):
                try:
                    self._answer(other, replies, used=1 if other_place.announced else 0)
                finally:
                    self.chat.backlog.leave(other_place)

    def process(self, request: Request, *, used: int = 0) -> list[Reply]:
        """Run the core for one request and answer; never raises (it is nobody's to catch).
        ``used``: messages the request's response_url already took (a busy notice). Returns
        the replies it answered with."""
        replies = self.chat.converse(lambda: self._incoming(request))
        self._answer(request, replies, used=used)
        if request.from_home and self._on_home_action is not None:
            try:
                self._on_home_action(self, request.user_id)
            except Exception:
                log.exception("could not redraw the Home tab of %s", request.user_id)
        return replies

    def _answer(self, request: Request, replies: list[Reply], *, used: int) -> None:
        uses = [used]  # one request's response_url takes at most five messages
        self.chat.deliver(replies, lambda reply: self.messenger.answer(request.to, reply, uses=uses))
        self.chat.finished(request.request_id, replies)

    def _incoming(self, request: Request) -> Incoming:
        email = self.messenger.identity.email_of(request.user_id)
        return Incoming(
            user=ChatUser(PLATFORM, request.user_id, email),
            where=request.where,
            text=request.text,
            action=request.action,
            request_id=request.request_id,
        )

    def tell(self, to: AnswerTo, reply: Reply) -> None:
        """Answer someone without running the core (a button from an old message)."""
        self.in_thread(self.chat.deliver, [reply], lambda r: self.messenger.answer(to, r))


def _shared_key(request: Request) -> tuple[str, ...] | None:
    """Who asked what, where, for a typed look-only command (bot.runtime.shared_answers); None
    for anything else (a button, a form, the Home tab, a command that changes something)."""
    if request.action is not None or request.from_home or not words_only_look(request.text):
        return None
    words = " ".join((request.text or "").lower().split())
    return (request.user_id, request.where.channel, request.where.thread or "", words)
