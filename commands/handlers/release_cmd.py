"""``release <customer> [reason]``: ask to lift a hold. A payment finance confirms releases a
hold by itself when the team's policy says so; every other release needs an approver."""

from __future__ import annotations

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.context import AppContext
from commands.handlers.hold_cmd import CustomerAndText, read_customer_and_text
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.holds import active_holds
from commands.messages import Reply
from commands.parsing.customers import describe
from commands.refusal import Refusal
from commands.workflows.approvals import open_request, pending_request
from storage.models import ApprovalKind

USAGE = "release <customer> [reason]"


def parse(args: str, env: ParseEnv) -> CustomerAndText | Refusal:
    return read_customer_and_text(env, args)


def handle(request: CustomerAndText, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    customer, understood = request.customer, f"customer {describe(request.customer)}"
    if not active_holds(session, customer.id):
        return Refusal(f"{describe(customer)} has no active hold to release", understood)
    waiting = pending_request(session, customer_id=customer.id, kind=ApprovalKind.RELEASE)
    if waiting is not None:
        return Refusal(
            f"a release of the hold on {describe(customer)} is already waiting for approval (request #{waiting.id})",
            understood,
        )
    return open_request(
        session, ctx, actor=actor, kind=ApprovalKind.RELEASE, customer=customer, reason=request.text or ""
    )


COMMAND = Command(
    name="release",
    usage=USAGE,
    parse=parse,
    handle=handle,
    summary="Ask to lift an account's hold; an approver decides in the approvals channel.",
    examples=("release acme dental paid in full by wire", "release C100"),
    try_it="release <customer> paid in full by wire",
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
