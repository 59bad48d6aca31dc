"""Deciding approval requests: the Approve / Reject buttons on an approval card, and the same
typed as a reply in the card's thread the way approvers write it ("Approved.", "ok approved
thanks", "rejected - they paid yesterday", "pls reject: duplicate"); see
:mod:`commands.parsing.decisions` for what is taken, what is doubtful and what is talk.

A doubtful line is answered with what was understood and how to say it, and decides nothing;
talk gets no reply. Button data and typed words only say which request is meant; whether the
person may decide it is checked from their roles in the team file, in
:func:`commands.workflows.approvals.decide`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.context import AppContext
from commands.delivery import tracked_key
from commands.handlers.registry import ActionHandler, ButtonAction, Command, ParseEnv, Parser, Registry
from commands.messages import Reply
from commands.parsing import decisions
from commands.parsing.decisions import APPROVAL_VERDICTS, Doubtful, Verdict
from commands.parsing.notes import read_note
from commands.parsing.text import quote
from commands.refusal import PointsAtNothing, Refusal
from commands.workflows.approval_card import APPROVE_ACTION, REJECT_ACTION
from commands.workflows.approvals import decide, request_id_of, track_key
from commands.workflows.retainer_gate import TYPED_OVERRIDE
from storage.models import ApprovalRequest

# "approve because ...", "reject: ...", "reject - ..." all introduce the reason (button forms).
_REASON_LEAD = re.compile(r"^(?:because\b|[:\-\u2013\u2014])\s*", re.IGNORECASE)
HOW_TO = "reply here with `approve` (or `approve because <note>`) or `reject because <reason>`"


@dataclass(frozen=True)
class Decision:
    request_id: int
    approve: bool
    reason: str | None


@dataclass(frozen=True)
class ThreadLine:
    """A line typed in an approval card's thread: a decision, or None when it is talk."""

    decision: Decision | None


def _parse(approve: bool) -> Parser[ThreadLine]:
    def parse(args: str, env: ParseEnv) -> ThreadLine | Refusal:
        word = "approve" if approve else "reject"
        request_id = request_id_of(tracked_key(env.session, env.incoming.where))
        if request_id is None:
            return Refusal(
                f"`{word}` works as a reply in the thread of an approval card "
                f"(#{env.ctx.team.workflow.channels.approvals}); use the card's buttons or reply there"
            )
        return read_typed(env.incoming.text or "", request_id)

    return parse


def read_typed(text: str, request_id: int) -> ThreadLine | Refusal:
    """The whole line, read as approvers write it: taken, answered with how to say it, or talk.
    ``approve override <reason>`` approves past a short retainer (commands.workflows.retainer_gate)."""
    override = TYPED_OVERRIDE.match(text)
    if override is not None:
        note = read_note(text[override.end() :])
        return note if isinstance(note, Refusal) else ThreadLine(Decision(request_id, True, note))
    reading = decisions.read(text)
    if reading is None:
        return ThreadLine(None)
    if isinstance(reading, Doubtful):
        return _not_decided(text, reading.verdict, reading.why)
    if reading.verdict not in APPROVAL_VERDICTS:
        return _not_decided(text, reading.verdict, "this card asks for approve or reject")
    reason = read_note(reading.note or "")
    if isinstance(reason, Refusal):
        return reason
    return ThreadLine(Decision(request_id, reading.verdict is Verdict.APPROVE, reason))


def _not_decided(text: str, verdict: Verdict | None, why: str) -> Refusal:
    """Nothing decided, said with what was read and the words that would decide it."""
    return Refusal(
        f"Not decided: {why}. To decide, {HOW_TO}", understood=f"{quote(text)} as {decisions.describe(verdict)}"
    )


def _reason(text: str) -> str | None | Refusal:
    return read_note(_REASON_LEAD.sub("", text.strip(), count=1))


def handle(request: ThreadLine, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    """Decide a typed decision. The decision's note in the card's thread (mentioning the
    requester) is what the typist sees; the workflow's answer to the asker says the same, so in
    a thread it is left out rather than posted twice."""
    decision = request.decision
    if decision is None:
        return []
    replies = decide(
        session, ctx, request_id=decision.request_id, actor=actor, approve=decision.approve, reason=decision.reason
    )
    return replies if isinstance(replies, Refusal) else without_echo(replies, track_key(decision.request_id))


def without_echo(replies: list[Reply], card: str) -> list[Reply]:
    """``replies`` less the asker's answers that repeat a headline already going into ``card``'s
    thread, where the asker typed."""
    in_thread = {r.title for r in replies if r.thread_of == card}
    return [r for r in replies if not (r.for_asker and not r.private and r.title in in_thread)]


def _button(approve: bool) -> ActionHandler:
    def press(value: dict[str, Any], actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
        request_id = value.get("id")
        if isinstance(request_id, str) and request_id.isdigit():
            request_id = int(request_id)
        if not isinstance(request_id, int) or isinstance(request_id, bool):
            return PointsAtNothing("that button doesn't say which approval request it is for")
        if session.get(ApprovalRequest, request_id) is None:
            return PointsAtNothing(f"that button points at approval request #{request_id}, which does not exist")
        # The Reject button "needs" a reason: a form hands it back as "reason" (or a generic "value").
        typed = value.get("reason") or value.get("value") or ""
        reason = _reason(str(typed))
        if isinstance(reason, Refusal):
            return reason
        return decide(session, ctx, request_id=request_id, actor=actor, approve=approve, reason=reason)

    return press


APPROVE = Command(
    name="approve",
    usage="approve [because <reason>]  ·  approve override <reason>",
    parse=_parse(True),
    handle=handle,
    summary="In an approval card's thread: approve the request (for those the team file allows).",
    examples=(
        "approve",
        "Approved, thanks",
        "approve because the retainer is overdue",
        "approve override the CFO agreed to start before the retainer is paid",
    ),
)
REJECT = Command(
    name="reject",
    usage="reject because <reason>",
    parse=_parse(False),
    handle=handle,
    summary="In an approval card's thread: reject the request, saying why.",
    examples=("reject because they paid yesterday", "rejected - duplicate request"),
)


def register(registry: Registry) -> None:
    registry.add(APPROVE)
    registry.add(REJECT)
    registry.add_action(ButtonAction(APPROVE_ACTION, _button(True)))
    registry.add_action(ButtonAction(REJECT_ACTION, _button(False)))
