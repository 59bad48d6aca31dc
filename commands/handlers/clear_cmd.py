"""``clear <customer> for <what> [on <date>] [--urgent]``: client services asks whether an account
may go ahead (a product release, a booking). Answered at once when the account is clear; else the
account's collector decides on a card (:mod:`commands.workflows.clearance`).

In the thread of a clearance card the same word decides it: ``clear``, ``cleared because they
paid this morning``, ``approved``, ``refuse because 90 days late`` (read like other cards' threads
by :mod:`commands.parsing.decisions`), and the card's Clear / Refuse buttons do the same."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.context import AppContext
from commands.delivery import tracked_key
from commands.handlers.hold_cmd import read_customer_and_text
from commands.handlers.paid_cmd import URGENT_FLAGS
from commands.handlers.registry import ActionHandler, ButtonAction, Command, ParseEnv, Registry
from commands.messages import Reply
from commands.parsing import decisions
from commands.parsing.customers import describe, resolve_first
from commands.parsing.dates import format_day, read_date
from commands.parsing.decisions import Doubtful, Verdict
from commands.parsing.notes import read_note
from commands.parsing.text import Token, phrase, quote, tokenize
from commands.refusal import PointsAtNothing, Refusal
from commands.workflows.clearance import ClearanceAsk, decide, request_clearance
from commands.workflows.clearance_card import CLEAR_ACTION, REFUSE_ACTION, clearance_id_of
from commands.workflows.retainer_gate import TYPED_OVERRIDE
from storage.models import ClearanceRequest

USAGE = "clear <customer> for <what> [on <date>] [--urgent]"
HOW_TO = "reply here with `clear` (or `clear because <note>`) or `refuse because <reason>`"
MAX_WHAT_LENGTH = 200
# The first "clear" is read as "approve" by the decisions reader (hedges, questions and reasons
# included) unless another decision word comes before it: then it is part of a reason, kept as typed.
_CLEAR_WORD = re.compile(r"\bclear(?:ed|ing)?\b", re.IGNORECASE)
_OTHER_DECISION = re.compile(
    r"\b(?:approv\w*|reject\w*|refus\w*|declin\w*|den(?:y|ied|ying)|confirm\w*"
    r"|received|because)\b",
    re.IGNORECASE,
)
_DATE_LEADS = frozenset({"on", "by"})


@dataclass(frozen=True)
class Decision:
    clearance_id: int
    clear: bool
    reason: str | None


@dataclass(frozen=True)
class ThreadLine:
    """A line typed in a clearance card's thread: a decision, or None when it is talk."""

    decision: Decision | None


def parse(args: str, env: ParseEnv) -> ClearanceAsk | ThreadLine | Refusal:
    """In a clearance card's thread a line is a decision, unless it reads as a new request (a
    customer, then ``for``); anywhere else it is a request."""
    clearance_id = clearance_id_of(tracked_key(env.session, env.incoming.where))
    if clearance_id is None:
        return read_ask(args, env)
    if "for" in [t.lower for t in tokenize(args) if not t.quoted][1:]:
        ask = read_ask(args, env)
        if isinstance(ask, ClearanceAsk):
            return ask
    return read_thread_line(env.incoming.text or "", clearance_id)


def read_thread_line(text: str, clearance_id: int) -> ThreadLine | Refusal:
    """A decision as people type it under the card, a refusal saying how to decide, or talk.
    ``clear override <reason>`` clears past a short retainer (commands.workflows.retainer_gate)."""
    override = TYPED_OVERRIDE.match(text)
    if override is not None:
        note = read_note(text[override.end() :])
        return note if isinstance(note, Refusal) else ThreadLine(Decision(clearance_id, True, note))
    word, other = _CLEAR_WORD.search(text), _OTHER_DECISION.search(text)
    if word is not None and (other is None or word.start() < other.start()):
        text = f"{text[: word.start()]}approve{text[word.end() :]}"
    reading = decisions.read(text)
    if reading is None:
        return ThreadLine(None)
    if isinstance(reading, Doubtful):
        return _not_decided(text, reading.verdict, reading.why)
    if reading.verdict not in (Verdict.APPROVE, Verdict.REJECT, Verdict.CONFIRM) or reading.amount:
        return _not_decided(text, reading.verdict, "this card asks to clear or refuse")
    note = read_note(reading.note or "")
    if isinstance(note, Refusal):
        return note
    return ThreadLine(Decision(clearance_id, reading.verdict is not Verdict.REJECT, note))


def _not_decided(text: str, verdict: Verdict | None, why: str) -> Refusal:
    return Refusal(
        f"Not decided: {why}. To decide, {HOW_TO}", understood=f"{quote(text)} as {decisions.describe(verdict)}"
    )


def read_ask(args: str, env: ParseEnv) -> ClearanceAsk | Refusal:
    """The customer before ``for``, what it is for, and the day after ``on`` (or ``by``)."""
    tokens = [t for t in tokenize(args) if t.quoted or t.lower not in URGENT_FLAGS]
    urgent = len(tokens) < len(tokenize(args))
    fors = [i for i, t in enumerate(tokens) if i > 0 and not t.quoted and t.lower == "for"]
    if not fors:
        read = read_customer_and_text(env, " ".join(args[t.start : t.end] for t in tokens))
        if isinstance(read, Refusal):
            return read
        return Refusal(
            "say what to clear it for, after `for`: clear <customer> for scheduling on 12/1",
            f"customer {describe(read.customer)}",
        )
    picked = resolve_first(env.session, [(phrase(tokens[:i]), i) for i in reversed(fors)])
    if isinstance(picked, Refusal):
        return picked
    customer, at = picked
    understood = f"customer {describe(customer)}"
    rest = tokens[at + 1 :]
    day = _needed_on(args, rest, env.today())
    if isinstance(day, Refusal):
        return day.with_understood(understood)
    needed_on, size = day
    what = read_note(args[rest[0].start : rest[size - 1].end] if size else "") if rest else None
    if isinstance(what, Refusal) or not what:
        return Refusal("say what to clear it for, after `for`: scheduling, the product release, ...", understood)
    if len(what) > MAX_WHAT_LENGTH:
        return Refusal(f"say what it is for in at most {MAX_WHAT_LENGTH} characters", understood)
    return ClearanceAsk(customer, what, needed_on, urgent)


def _needed_on(args: str, rest: list[Token], today: date) -> tuple[date | None, int] | Refusal:
    """The day after the last ``on``/``by`` that reads as a date, and how many words come before
    it; a refusal for a date that cannot be taken (two ways to read it, or already past)."""
    for j in range(len(rest) - 1, 0, -1):
        if rest[j].quoted or rest[j].lower not in _DATE_LEADS:
            continue
        text = args[rest[j + 1].start : rest[-1].end] if j + 1 < len(rest) else ""
        day = read_date(text, today) if text else None
        if isinstance(day, Refusal):
            return day
        if day is None:
            continue
        if day < today:
            return Refusal(f"{format_day(day)} has passed; say the day it is needed")
        return day, j
    return None, len(rest)


def handle(
    request: ClearanceAsk | ThreadLine, actor: Actor, ctx: AppContext, *, session: Session
) -> list[Reply] | Refusal:
    if isinstance(request, ClearanceAsk):
        return request_clearance(session, ctx, ask=request, actor=actor)
    decision = request.decision
    if decision is None:
        return []
    return decide(
        session, ctx, clearance_id=decision.clearance_id, actor=actor, clear=decision.clear, reason=decision.reason
    )


def _button(clear: bool) -> ActionHandler:
    def press(value: dict[str, Any], actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
        raw = value.get("id")
        clearance_id = int(raw) if isinstance(raw, str) and raw.isdigit() else raw
        if not isinstance(clearance_id, int) or isinstance(clearance_id, bool):
            return PointsAtNothing("that button doesn't say which clearance request it is for")
        if session.get(ClearanceRequest, clearance_id) is None:
            return PointsAtNothing(f"that button points at clearance request #{clearance_id}, which does not exist")
        reason = read_note(str(value.get("reason") or value.get("value") or ""))
        if isinstance(reason, Refusal):
            return reason
        return decide(session, ctx, clearance_id=clearance_id, actor=actor, clear=clear, reason=reason)

    return press


COMMAND: Command[ClearanceAsk | ThreadLine] = Command(
    name="clear",
    usage=USAGE,
    parse=parse,
    handle=handle,
    summary=(
        "Client services: may this account go ahead? Answered at once when nothing is past due, "
        "else its collector clears or refuses it (in a clearance card's thread: clear / refuse because ...)."
    ),
    examples=(
        "clear acme ortho for scheduling on 12/1",
        "clear C200 for the product release by today --urgent",
        "clear because they paid this morning",
        "refuse because 95 days past due",
    ),
    try_it="clear <customer> for scheduling",
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
    registry.add_action(ButtonAction(CLEAR_ACTION, _button(True)))
    registry.add_action(ButtonAction(REFUSE_ACTION, _button(False)))
