"""Asking for approvals in chat as the flow tests do, and the people who ask and decide."""

from __future__ import annotations

from sqlalchemy import select

from commands.context import AppContext
from commands.messages import Reply, Tone
from storage.models import (
    ApprovalRequest,
    AuditEvent,
)
from tests.support.harness import Conversation, Sent

DANA, SAM, PRIYA = "dana.reyes@example.com", "sam.okafor@example.com", "priya.shah@example.com"


MARIA, CHRIS, ALEX = "maria.lopez@example.com", "chris.wong@example.com", "alex.kim@example.com"


def ask(chat: Conversation, email: str, text: str) -> Sent:
    """``email`` asks for approval; returns the card posted in the approvals channel."""
    [ack] = chat.say(email, text)
    assert ack.tone is Tone.SUCCESS and ack.title.startswith("Approval requested"), ack
    assert "Posted in #approvals" in ack.text
    return chat.last_post("approvals")


def request_of(ctx: AppContext, card: Sent) -> ApprovalRequest:
    with ctx.sessions() as session:
        return session.get(ApprovalRequest, card.reply.buttons[0].value["id"])


def audit(ctx: AppContext, action: str) -> list[AuditEvent]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def thread_posts(chat: Conversation, card: Sent) -> list[Reply]:
    return [s.reply for s in chat.messenger.posts("approvals") if s.ref.where.thread == card.ref.message_id]


def decide(chat: Conversation, email: str, card: Sent, how: str, *, approve: bool = True, reason: str = "") -> Reply:
    """One decision by button or by a reply in the card's thread; the decider's one answer. A
    decision typed in the thread is confirmed there by its note to the requester, not twice."""
    if how == "button":
        replies = chat.click(email, card, "Approve" if approve else "Reject", **({"reason": reason} if reason else {}))
    else:
        text = ("approve" if approve else "reject") + (f" because {reason}" if reason else "")
        before = len(thread_posts(chat, card))
        replies = chat.reply_in_thread(email, card, text)
        if not replies:
            [note] = thread_posts(chat, card)[before:]
            return note
    assert len(replies) == 1, replies
    return replies[0]
