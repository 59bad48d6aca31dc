"""Payment claims as the flow tests make them: a collector asks finance to confirm."""

from __future__ import annotations

from sqlalchemy import select

from commands.messages import Tone
from storage.models import (
    Payment,
    PaymentConfirmation,
)
from tests.support.harness import Conversation, Sent
from tests.support.world import DANA


def ask(chat: Conversation, text: str = "paid c100 1200 today wire FED 8841", who: str = DANA) -> Sent:
    [ack] = chat.say(who, text)
    assert ack.tone is Tone.SUCCESS, ack
    return chat.last_post("finance")


def confirmation(chat: Conversation) -> PaymentConfirmation:
    with chat.ctx.sessions() as session:
        return session.scalars(select(PaymentConfirmation).order_by(PaymentConfirmation.id.desc()).limit(1)).one()


def payments(chat: Conversation) -> list[Payment]:
    with chat.ctx.sessions() as session:
        return list(session.scalars(select(Payment).order_by(Payment.id)))
