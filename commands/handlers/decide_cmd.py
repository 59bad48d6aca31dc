"""Deciding approval requests: the Approve / Reject buttons on an approval card, and the same
typed as a reply in the card's thread (``approve [because ...]``, ``reject because <reason>``).

Button data only says which request was clicked; whether the person may decide it is checked
from their roles in the team file, in :func:`commands.workflows.approvals.decide`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.delivery import tracked_key
from commands.handlers.registry import ActionHandler, Actor, ButtonAction, Command, ParseEnv, Parser, Registry
from commands.messages import Reply
from commands.parsing.notes import read_note
from commands.refusal import Refusal
from commands.workflows.approval_card import APPROVE_ACTION, REJECT_ACTION
from commands.workflows.approvals import decide, request_id_of

# "approve because ...", "reject: ...", "reject - ..." all introduce the reason.
_REASON_LEAD = re.compile(r"^(?:because\b|[:\-\u2013\u2014])\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Decision:
    request_id: int
    approve: bool
    reason: str | None


def _parse(approve: bool) -> Parser[Decision]:
    def parse(args: str, env: ParseEnv) -> Decision | Refusal:
        word = "approve" if approve else "reject"
        request_id = request_id_of(tracked_key(env.session, env.incoming.where))
        if request_id is None:
            return Refusal(f"`{word}` works as a reply in the thread of an approval card "
                           f"(#{env.ctx.team.workflow.channels.approvals}); use the card's buttons or reply there")
        reason = _reason(args)
        return reason if isinstance(reason, Refusal) else Decision(request_id, approve, reason)
    return parse


def _reason(text: str) -> str | None | Refusal:
    return read_note(_REASON_LEAD.sub("", text.strip(), count=1))


def handle(request: Decision, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    return decide(session, ctx, request_id=request.request_id, actor=actor, approve=request.approve,
                  reason=request.reason)


def _button(approve: bool) -> ActionHandler:
    def press(value: dict[str, Any], actor: Actor, ctx: AppContext, *,
              session: Session) -> list[Reply] | Refusal:
        request_id = value.get("id")
        if isinstance(request_id, str) and request_id.isdigit():
            request_id = int(request_id)
        if not isinstance(request_id, int) or isinstance(request_id, bool):
            return Refusal("that button doesn't say which approval request it is for")
        # The Reject button "needs" a reason: a form hands it back as "reason" (or a generic "value").
        typed = value.get("reason") or value.get("value") or ""
        reason = _reason(str(typed))
        if isinstance(reason, Refusal):
            return reason
        return decide(session, ctx, request_id=request_id, actor=actor, approve=approve, reason=reason)
    return press


APPROVE = Command(
    name="approve", usage="approve [because <reason>]", parse=_parse(True), handle=handle,
    summary="In an approval card's thread: approve the request (for those the team file allows).",
    examples=("approve", "approve because the retainer is overdue"),
)
REJECT = Command(
    name="reject", usage="reject because <reason>", parse=_parse(False), handle=handle,
    summary="In an approval card's thread: reject the request, saying why.",
    examples=("reject because they paid yesterday",),
)


def register(registry: Registry) -> None:
    registry.add(APPROVE)
    registry.add(REJECT)
    registry.add_action(ButtonAction(APPROVE_ACTION, _button(True)))
    registry.add_action(ButtonAction(REJECT_ACTION, _button(False)))
