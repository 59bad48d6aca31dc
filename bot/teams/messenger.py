"""Sending to Teams: the :class:`Outbox` on the server's event loop (paced per thread, retried on
429/412/502/504) and :class:`TeamsMessenger`, the core's synchronous Messenger port.

The core delivers from a worker thread (its database work is synchronous), while the SDK's
connector lives on the event loop; the messenger hands each send to the loop and waits for its
message id. A proactive post continues a ConversationReference loaded from the database, so the
daily list and approval cards reach Teams after any restart.

A reply too long for one Teams message goes out as all its pages, in order, in one conversation
turn; the first page is the message tracked (updated, replied to in its thread). When a later
page fails, the pages that went out are handed back with the failure, and the outbox's retry
sends only the rest."""

from __future__ import annotations

import asyncio
import copy
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment, ConversationReference
from sqlalchemy.orm import Session, sessionmaker

from bot.teams import references
from bot.teams.cards import CARD_CONTENT_TYPE, Mention, render_pages, shown_inline, summary
from bot.teams.connectors import SharedCard
from bot.teams.file_offers import Offers
from bot.teams.pacing import ThreadThrottle, retry_after, status_of, with_retries
from commands.clock import Clock
from commands.messages import DeliveryFailed, PostedRef, Reply, Where

T = TypeVar("T")
_CARDS_KEPT = 2000
SEND_TIMEOUT_SECONDS = 300.0  # a post may wait its turn behind a busy thread; never forever


class Unreachable(Exception):
    """The bot has no way into that conversation yet; the message says what would fix it."""


def reply_activities(reply: Reply, mentions: Sequence[Mention] = (), offers: Offers | None = None) -> list[Activity]:
    """One reply as messages carrying its Adaptive Cards: one, or the pages of a long reply,
    each under Teams' size limit; ``mentions`` are on the first. With ``offers`` (a personal
    chat) each file the card cannot show follows as a download to accept."""
    cards = [
        card_activity(reply, card) for card in render_pages(reply, mentions=mentions, downloads=offers is not None)
    ]
    if offers is None:
        return cards
    return cards + [
        Activity(type=ActivityTypes.message, summary=f"Download: {file.name}", attachments=[offers.offer(file)])
        for file in reply.files
        if not shown_inline(file)
    ]


def card_activity(reply: Reply, card: dict[str, Any]) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        summary=summary(reply),
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
    )


def card_of(activity: Activity) -> dict[str, Any] | None:
    attachments = activity.attachments or []
    return attachments[0].content if attachments and attachments[0].content_type == CARD_CONTENT_TYPE else None


def _copied(activity: Activity) -> Activity:
    """A copy for the SDK to address (it sets ids and the conversation on what it sends), its
    cards shared (:class:`bot.teams.connectors.SharedCard`): nothing changes a card on its way
    out, and copying one, here and again in the SDK, cost more than sending it."""
    cards = {id(a.content): SharedCard(a.content) for a in activity.attachments or [] if type(a.content) is dict}
    return copy.deepcopy(activity, cards)


class Outbox:
    """Every message the bot sends goes through here, on the event loop."""

    def __init__(
        self,
        adapter: BotAdapter,
        *,
        bot_app_id: str,
        throttle: ThreadThrottle | None = None,
        retry: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]] | None = None,
    ) -> None:
        self.adapter, self.bot_app_id = adapter, bot_app_id
        self.throttle = throttle or ThreadThrottle()
        self._retry = retry or with_retries
        self._cards: OrderedDict[str, dict[str, Any]] = OrderedDict()

    async def send(self, turn_context: TurnContext, activity: Activity) -> str:
        """Send into the turn's conversation (its thread, in a channel); returns the message id."""
        await self.throttle.wait_turn(turn_context.activity.conversation.id)
        response = await self._retry(lambda: turn_context.send_activity(_copied(activity)))
        message_id = getattr(response, "id", None) or ""
        self._keep_card(message_id, activity)
        return message_id

    async def update(self, turn_context: TurnContext, activity: Activity) -> None:
        await self.throttle.wait_turn(turn_context.activity.conversation.id)
        await self._retry(lambda: turn_context.update_activity(copy.deepcopy(activity)))
        self._keep_card(activity.id or "", activity)

    async def send_all(
        self, turn_context: TurnContext, activities: Sequence[Activity], sent: dict[int, str] | None = None
    ) -> str:
        """Send the pages of one reply in order; returns the first page's message id. ``sent``
        (page number -> message id) skips the pages it names and gains each page as it goes,
        so after a failure it says which pages went out."""
        sent = {} if sent is None else sent
        for n, activity in enumerate(activities):
            if n not in sent:
                sent[n] = await self.send(turn_context, activity)
        return sent[0]

    async def post_to(
        self, reference: ConversationReference, activities: Sequence[Activity], sent: dict[int, str] | None = None
    ) -> str:
        """A proactive message (every page of it, but those ``sent`` names): continue the stored
        conversation and send into it. Returns the first page's id."""
        sent = {} if sent is None else sent

        async def send(turn_context: TurnContext) -> None:
            await self.send_all(turn_context, activities, sent)

        await self._continue(reference, send)
        return sent[0]

    async def update_in(self, reference: ConversationReference, activity: Activity) -> None:
        async def update(turn_context: TurnContext) -> None:
            await self.update(turn_context, activity)

        await self._continue(reference, update)

    async def _continue(self, reference: ConversationReference, work: Callable[[TurnContext], Awaitable[None]]) -> None:
        """Run ``work`` in the stored conversation and raise what it raised: the adapter's turn
        error handler would otherwise swallow it, and a refused post would look sent."""
        failed: list[BaseException] = []

        async def guarded(turn_context: TurnContext) -> None:
            try:
                await work(turn_context)
            except Exception as exc:
                failed.append(exc)

        await self.adapter.continue_conversation(reference, guarded, self.bot_app_id)
        if failed:
            raise failed[0]

    def card(self, message_id: str) -> dict[str, Any] | None:
        """The card as last drawn in that message by this process (for a refresh)."""
        return self._cards.get(message_id)

    def keep(self, message_id: str, card: dict[str, Any]) -> None:
        if not message_id:
            return
        self._cards[message_id] = card
        self._cards.move_to_end(message_id)
        while len(self._cards) > _CARDS_KEPT:
            self._cards.popitem(last=False)

    def _keep_card(self, message_id: str, activity: Activity) -> None:
        card = card_of(activity)
        if card is not None and "refresh" in card:
            self.keep(message_id, card)


class TeamsMessenger:
    """The Messenger port for Teams. Call it from worker threads (the core's delivery, the
    scheduler), never from the event loop it sends on."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        channel_ids: dict[str, str] | None = None,
        people: Callable[[str], Mention] | None = None,
    ) -> None:
        self._outbox, self._sessions, self._clock = outbox, sessions, clock
        self._channel_ids = dict(channel_ids or {})
        self._people = people or (lambda email: Mention(name=email))
        self._loop: asyncio.AbstractEventLoop | None = None
        self.offers = Offers(sessions, clock)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The server's event loop, where every send runs."""
        self._loop = loop

    resumes_parts = True  # the dispatcher passes ``parts_sent``

    def post(self, where: Where, reply: Reply, *, parts_sent: Mapping[int, PostedRef] | None = None) -> PostedRef:
        """Post every page of ``reply`` but those ``parts_sent`` names (an earlier attempt
        delivered them before a later page failed); a failure names the pages that went out."""
        sent = {n: ref.message_id for n, ref in (parts_sent or {}).items()}
        try:
            with _as_delivery_failure():
                reference = self._reference(where.channel, thread=where.thread)
                personal = reference.conversation.conversation_type == "personal"
                message_id = self._run(self._outbox.post_to(reference, self.activities(reply, personal=personal), sent))
        except DeliveryFailed as failure:
            failure.parts = {n: PostedRef(where=where, message_id=id_) for n, id_ in sent.items()}
            raise
        return PostedRef(where=where, message_id=message_id)

    def update(self, ref: PostedRef, reply: Reply) -> None:
        """Redraw a tracked card with the first page of ``reply`` (cards are short), as a
        refresh draws it: an edit notifies nobody, so mentions are not drawn again."""
        with _as_delivery_failure():
            reference = self._reference(ref.where.channel, thread=ref.where.thread)
            activity = card_activity(reply, render_pages(reply)[0])
            activity.id = ref.message_id
            self._run(self._outbox.update_in(reference, activity))

    def direct(self, email: str, reply: Reply, *, parts_sent: Mapping[int, PostedRef] | None = None) -> PostedRef:
        where = Where(channel=references.dm_key(email))
        return self.post(where, reply, parts_sent=parts_sent)

    def activities(self, reply: Reply, *, personal: bool = False) -> list[Activity]:
        """The messages for ``reply``, with the people it mentions looked up, and in a
        ``personal`` chat its files offered (from a worker thread: both use the database)."""
        return reply_activities(
            reply, [self._people(email) for email in reply.mentions], self.offers if personal else None
        )

    def _reference(self, key: str, *, thread: str | None) -> ConversationReference:
        stored = references.load(self._sessions, key) or self._from_channel_id(key)
        if stored is None:
            raise Unreachable(_unreachable_hint(key))
        reference = ConversationReference().deserialize(stored)
        if thread:
            reference.conversation.id = (
                references.base_conversation(reference.conversation.id) + references.THREAD_MARK + thread
            )
        reference.activity_id = None
        return reference

    def _from_channel_id(self, key: str) -> dict[str, Any] | None:
        """A channel named in the team file by its Teams id (``[teams.channels]``, or the id
        itself in ``[channels]``), reached through the service URL and tenant the bot already
        knows from any stored conversation."""
        channel_id = self._channel_ids.get(key) or (key if looks_like_channel_id(key) else None)
        template = references.latest(self._sessions) if channel_id else None
        if template is None:
            return None
        stored = copy.deepcopy(template)
        tenant = stored.get("conversation", {}).get("tenantId")
        stored["conversation"] = {
            "id": channel_id,
            "isGroup": True,
            "conversationType": "channel",
            **({"tenantId": tenant} if tenant else {}),
        }
        stored.pop("user", None)
        references.save(self._sessions, self._clock, key, stored)
        return stored

    def _run(self, coro: Awaitable[T]) -> T:
        loop = self._loop
        if loop is None or loop.is_closed():
            coro.close()  # type: ignore[attr-defined]
            raise RuntimeError("TeamsMessenger is not bound to a running event loop")
        if _on_loop(loop):
            coro.close()  # type: ignore[attr-defined]
            raise RuntimeError("TeamsMessenger must be called from a worker thread, not its event loop")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=SEND_TIMEOUT_SECONDS)


PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 413})


@contextmanager
def _as_delivery_failure() -> Iterator[None]:
    """Teams failures in the outbox's terms: no stored conversation, a refused or oversized
    message need a person; throttling, server errors and timeouts pass."""
    try:
        yield
    except Unreachable as exc:
        raise DeliveryFailed(str(exc), permanent=True) from exc
    except (RuntimeError, DeliveryFailed):
        raise
    except Exception as exc:
        status = status_of(exc)
        reason = f"Teams answered {status}" if status else f"Teams did not answer: {type(exc).__name__}"
        raise DeliveryFailed(reason, permanent=status in PERMANENT_STATUSES, retry_after=retry_after(exc)) from exc


def looks_like_channel_id(key: str) -> bool:
    """Teams channel and chat conversation ids look like ``19:...@thread.tacv2``."""
    return key.startswith("19:") and "@thread" in key


def _unreachable_hint(key: str) -> str:
    if key.startswith("dm:"):
        return (
            f"{key[3:]} has not opened a chat with the bot in Teams yet; "
            "they need to install the app or send it a message once"
        )
    return (
        f"the bot does not know the Teams channel #{key} yet; add the app to that channel's team "
        f"(a channel named {key}), or map it under [teams.channels] in the team file"
    )


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
