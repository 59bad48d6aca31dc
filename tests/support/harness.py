"""Conversations as tests: people type and click, the bot answers through a recording
Messenger. The same path the Slack, Teams and terminal adapters take: router.handle (which
queues posts for others in the outbox), then a dispatcher round that delivers them.

    chat = Conversation(ctx)
    chat.say("dana.reyes@example.com", "paid acme 1200 today wire REF-1")
    card = chat.last_post("finance")
    chat.click("priya.shah@example.com", card, "Confirm")
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from commands.context import AppContext
from commands.messages import Action, ChatUser, Incoming, Messenger, PostedRef, Reply, Where
from commands.outbox import Dispatcher, enqueue
from scheduler.jobs import Job, JobResult


@dataclass
class Sent:
    kind: str  # "post" | "direct" | "update"
    ref: PostedRef
    reply: Reply


@dataclass
class RecordingMessenger:
    """A Messenger that keeps everything it was asked to send, with message ids m1, m2, ..."""

    sent: list[Sent] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def post(self, where: Where, reply: Reply) -> PostedRef:
        ref = PostedRef(where=where, message_id=f"m{next(self._ids)}")
        self.sent.append(Sent("post", ref, reply))
        return ref

    def update(self, ref: PostedRef, reply: Reply) -> None:
        self.sent.append(Sent("update", ref, reply))

    def direct(self, email: str, reply: Reply) -> PostedRef:
        ref = PostedRef(where=Where(channel=f"dm:{email}"), message_id=f"m{next(self._ids)}")
        self.sent.append(Sent("direct", ref, reply))
        return ref

    def posts(self, channel: str) -> list[Sent]:
        return [s for s in self.sent if s.kind == "post" and s.ref.where.channel == channel]

    def directs(self, email: str) -> list[Sent]:
        return [s for s in self.sent if s.kind == "direct" and s.ref.where.channel == f"dm:{email}"]

    def updates(self, ref: PostedRef) -> list[Sent]:
        return [s for s in self.sent if s.kind == "update" and s.ref.message_id == ref.message_id]


def dispatcher(ctx: AppContext, messenger: Messenger) -> Dispatcher:
    """A dispatcher for every platform a test context talks on, one entry at a time (so the
    recorded order is the queue's order) and without pacing."""
    return Dispatcher(ctx, {platform: messenger for platform in ctx.platforms}, workers=1, pacing={})


def run_job(ctx: AppContext, job: Job, messenger: Messenger) -> JobResult:
    """One run of a scheduled job as the scheduler does it (its changes and messages commit
    together), then its messages delivered."""
    with ctx.sessions.begin() as session:
        result = job.run(ctx, session)
        enqueue(session, ctx, result.replies)
    dispatcher(ctx, messenger).drain()
    return result


class Conversation:
    def __init__(self, ctx: AppContext, messenger: RecordingMessenger | None = None) -> None:
        self.ctx = ctx
        self.messenger = messenger or RecordingMessenger()

    def _send(self, incoming: Incoming) -> list[Reply]:
        from commands.router import handle

        replies = handle(self.ctx, incoming)
        self.deliver()
        return replies

    def deliver(self) -> None:
        """Everything queued so far, through the recording messenger (in queue order)."""
        dispatcher(self.ctx, self.messenger).drain()

    def say(self, email: str, text: str, *, where: Where | None = None) -> list[Reply]:
        """``email`` types ``text`` (in a DM unless ``where`` says a channel or thread)."""
        user = ChatUser(platform="test", user_id=email, email=email)
        return self._send(Incoming(user=user, where=where or Where(f"dm:{email}"), text=text))

    def reply_in_thread(self, email: str, card: Sent | PostedRef, text: str) -> list[Reply]:
        ref = card.ref if isinstance(card, Sent) else card
        return self.say(email, text, where=ref.thread())

    def click(self, email: str, card: Sent, label: str, **form: object) -> list[Reply]:
        """``email`` presses the button labelled ``label`` on a posted card (extra form values
        such as a partial amount are merged into the button's data, as a modal would)."""
        buttons = list(card.reply.buttons) + [b for row in card.reply.rows for b in row.buttons]
        button = next(b for b in buttons if b.label == label)
        user = ChatUser(platform="test", user_id=email, email=email)
        action = Action(name=button.action, value={**button.value, **form})
        return self._send(Incoming(user=user, where=card.ref.thread(), action=action))

    def last_post(self, channel: str) -> Sent:
        return self.messenger.posts(channel)[-1]
