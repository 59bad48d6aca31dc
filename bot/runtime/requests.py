"""One chat request from acknowledgement to answer, the same on every platform.

- **Once per key.** A platform redelivers what it thinks was lost (Slack retries an event up to
  three times, Teams an activity). A redelivery this process is answering or has answered is
  dropped at once; any other reaches the core with its key, which stores the key with the
  request's effects (commands.idempotency): it then takes effect once, and is answered with the
  first answer when that one never reached the person.
- **One error path.** Everything after the ack (who the person is, the core, the card redrawn
  after a click) runs inside :meth:`ChatRuntime.converse`: whatever fails, the person hears a
  sentence with a reference (commands.failures), never silence and never a traceback.
- **Each reply on its own.** A reply that cannot be shown does not stop the next; when any was
  lost the person is told, truly, that the request was saved but part of the answer is missing.
- **A bounded wait.** More requests than the process answers soon are announced with when the
  answer should come, and past a bound turned away at once (bot.runtime.backlog)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from bot.runtime.backlog import Backlog
from commands import messages
from commands.context import AppContext
from commands.failures import failure_reply, new_ref, unsure
from commands.messages import Incoming, Reply, Tone
from commands.router import handle

log = logging.getLogger(__name__)

_ANSWERED_KEPT = 10_000  # keys remembered as answered by this process (platforms retry for minutes)


class ChatRuntime:
    """The platform-neutral half of an adapter: one per platform per process."""

    def __init__(self, ctx: AppContext, platform: str, *, backlog: Backlog | None = None) -> None:
        self.ctx = ctx
        self.platform = platform
        self.backlog = backlog or Backlog.from_env()
        self._lock = threading.Lock()
        self._in_flight: set[str] = set()
        self._answered: OrderedDict[str, None] = OrderedDict()

    # -- once per key ----------------------------------------------------------------------------

    def first_sight(self, key: str | None) -> bool:
        """True when ``key`` is neither being answered nor answered by this process (and marks it
        in flight); False for a redelivery to drop. A request without a key always goes on."""
        if key is None:
            return True
        with self._lock:
            if key in self._in_flight or key in self._answered:
                return False
            self._in_flight.add(key)
            return True

    def turned_away(self, key: str | None) -> None:
        """The request was turned away unseen (too busy): a redelivery may come in later."""
        if key is not None:
            with self._lock:
                self._in_flight.discard(key)

    def finished(self, key: str | None, answer: list[Reply]) -> None:
        """The request is done. Its key is remembered as answered unless the answer left the
        person unsure whether it was saved: a redelivery then gets the stored answer."""
        if key is None:
            return
        with self._lock:
            self._in_flight.discard(key)
            if not any(unsure(reply) for reply in answer):
                self._answered[key] = None
                while len(self._answered) > _ANSWERED_KEPT:
                    self._answered.popitem(last=False)

    # -- one error path --------------------------------------------------------------------------

    def converse(self, incoming_of: Callable[[], Incoming]) -> list[Reply]:
        """Find out who asked (``incoming_of`` may ask the platform or the database), run the core
        and return the asker's replies; a failure anywhere becomes one sentence with a reference."""
        try:
            return handle(self.ctx, incoming_of())
        except Exception as exc:  # the core never raises; identity look-ups and the adapter may
            return [failure_reply(exc, doing=f"{self.platform} request")]

    def failed(self, exc: BaseException, doing: str) -> Reply:
        """The answer for a failure in the adapter's own part of the work."""
        return failure_reply(exc, doing=f"{self.platform} {doing}")

    # -- each reply on its own -------------------------------------------------------------------

    def deliver(self, replies: list[Reply], send: Callable[[Reply], None]) -> int:
        """Send each reply; returns how many could not be. The person is told about the loss."""
        lost = []
        for reply in replies:
            try:
                send(reply)
            except Exception:
                lost.append(self._logged_loss(reply))
        if lost:
            self._tell_loss(replies, lost, send)
        return len(lost)

    async def deliver_async(self, replies: list[Reply], send: Callable[[Reply], Awaitable[None]]) -> int:
        """:meth:`deliver` for adapters that send on the event loop."""
        lost = []
        for reply in replies:
            try:
                await send(reply)
            except Exception:
                lost.append(self._logged_loss(reply))
        if lost:
            note = loss_note(replies, lost)
            try:
                await send(note)
            except Exception:
                log.error("could not tell the asker about lost replies (%s)", ", ".join(lost))
        return len(lost)

    def _logged_loss(self, reply: Reply) -> str:
        ref = new_ref()
        log.exception("%s: could not show the asker %r (ref %s)", self.platform, reply.title[:80], ref)
        return ref

    def _tell_loss(self, replies: list[Reply], lost: list[str], send: Callable[[Reply], None]) -> None:
        try:
            send(loss_note(replies, lost))
        except Exception:
            log.error("could not tell the asker about lost replies (%s)", ", ".join(lost))


def loss_note(replies: list[Reply], refs: list[str]) -> Reply:
    """ "Saved, but ..." when the request had effects (its answer is not only refusals), else
    that the answer, which changed nothing, could not be shown."""
    ref = ", ".join(refs)
    if all(reply.tone is Tone.ERROR for reply in replies):
        return messages.error(f"I could not show you my answer; nothing was saved (ref {ref})")
    return messages.error(
        f"Saved, but I could not show you all of my answer (ref {ref}); `status` shows where things stand"
    )
