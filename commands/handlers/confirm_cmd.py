"""Finance's answers to a payment confirmation: the card's buttons (Confirm, Not received,
Partial) and the same answers typed in the card's thread (``confirm``, ``not received`` or
``notreceived``, ``partial <amount>``).

A thread is where finance and the collector also talk, so a line there is an answer only when
it is exactly one of those forms; "confirm with the bank first?" is conversation and gets no
reply. Outside a tracked thread the same words are refused with where to type them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.delivery import tracked_key
from commands.handlers.registry import Actor, ActionHandler, ButtonAction, Command, ParseEnv, Parser, Registry
from commands.messages import Reply
from commands.parsing.amounts import read_amount
from commands.parsing.text import clean_text
from commands.refusal import Refusal
from commands.workflows.payment_card import CONFIRM, NOT_RECEIVED, PARTIAL, confirmation_id_of
from commands.workflows.payments import Decision, decide
from storage.models import ConfirmationStatus

_WHERE = "in the thread of a payment card in the finance channel (or press the card's button)"


@dataclass(frozen=True)
class ThreadAnswer:
    """A line typed in a thread: finance's answer, or None when it is conversation."""

    decision: Decision | None


def _button(outcome: ConfirmationStatus) -> ActionHandler:
    def press(value: dict[str, Any], actor: Actor, ctx: AppContext, *,
              session: Session) -> list[Reply] | Refusal:
        confirmation_id = _id_from_button(value)
        if isinstance(confirmation_id, Refusal):
            return confirmation_id
        partial = value.get("amount") if outcome is ConfirmationStatus.PARTIAL else None
        decision = Decision(confirmation_id, outcome, None if partial is None else str(partial))
        return decide(session, ctx, decision=decision, actor=actor)
    return press


def _id_from_button(value: dict[str, Any]) -> int | Refusal:
    """The request a button points at. Only a pointer: who may answer is checked from the
    person who pressed it, never from the button."""
    raw = value.get("id")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    return Refusal("that button doesn't say which payment confirmation it is for")


def _typed(exact: Callable[[str, str], bool], outcome: ConfirmationStatus,
           usage: str) -> Parser[ThreadAnswer]:
    """A parser for one typed answer: ``exact(word, args)`` says whether the line is that answer."""
    def parse(args: str, env: ParseEnv) -> ThreadAnswer | Refusal:
        text = clean_text(args).strip()
        key = tracked_key(env.session, env.incoming.where)
        word = clean_text(env.incoming.text or "").split(maxsplit=1)[0].lower()
        if not exact(word, text):
            if key is not None:
                return ThreadAnswer(None)
            return Refusal(f"type `{usage}` {_WHERE}")
        confirmation_id = confirmation_id_of(key)
        if confirmation_id is None:
            return Refusal(f"this is not a payment confirmation's thread; type `{usage}` {_WHERE}")
        partial = text if outcome is ConfirmationStatus.PARTIAL else None
        return ThreadAnswer(Decision(confirmation_id, outcome, partial))
    return parse


def _answer(request: ThreadAnswer, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    if request.decision is None:
        return []
    return decide(session, ctx, decision=request.decision, actor=actor)


def _is_confirm(word: str, args: str) -> bool:
    return args == ""


def _is_not_received(word: str, args: str) -> bool:
    rest = args.lower().rstrip(".!")
    return rest == "received" if word == "not" else rest == ""


def _is_partial(word: str, args: str) -> bool:
    """``partial 500`` (or ``partial`` alone, which is then asked for its amount)."""
    first = args.split(maxsplit=1)[0] if args else ""
    return not args or read_amount(args) is not None or read_amount(first) is not None


COMMANDS = (
    Command(name="confirm", usage="confirm", parse=_typed(_is_confirm, ConfirmationStatus.CONFIRMED, "confirm"),
            handle=_answer, summary="Finance: the claimed payment arrived (type it in the payment card's thread).",
            examples=("confirm",)),
    Command(name="notreceived", usage="not received", aliases=("not",),
            parse=_typed(_is_not_received, ConfirmationStatus.NOT_RECEIVED, "not received"), handle=_answer,
            summary="Finance: the claimed payment has not arrived (in the payment card's thread).",
            examples=("not received", "notreceived")),
    Command(name="partial", usage="partial <amount>",
            parse=_typed(_is_partial, ConfirmationStatus.PARTIAL, "partial <amount>"), handle=_answer,
            summary="Finance: only part of the claimed payment arrived (in the payment card's thread).",
            examples=("partial 500", "partial $1,250.50")),
)


def register(registry: Registry) -> None:
    for command in COMMANDS:
        registry.add(command)
    registry.add_action(ButtonAction(CONFIRM, _button(ConfirmationStatus.CONFIRMED)))
    registry.add_action(ButtonAction(NOT_RECEIVED, _button(ConfirmationStatus.NOT_RECEIVED)))
    registry.add_action(ButtonAction(PARTIAL, _button(ConfirmationStatus.PARTIAL)))
