"""What waits for one person, for a home screen (the Slack Home tab): the promises they took that
are still open, and the requests they may decide. The adapter only draws it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.messages import Button, ButtonStyle, Field, Reply, Row
from commands.parsing.customers import describe
from commands.parsing.dates import format_day
from commands.team import Member
from commands.wording import money
from commands.workflows.approval_card import APPROVE_ACTION, REJECT_ACTION, asked, subject
from storage.models import ApprovalRequest, ApprovalStatus, Customer, Promise, PromiseStatus, TeamMember

PROMISES_SHOWN = 20
APPROVALS_SHOWN = 10


def waiting_on(ctx: AppContext, member: Member) -> list[Reply]:
    """The sections for ``member``: their open promises, and (for those who may decide any kind
    of request) what waits for their approval."""
    with ctx.sessions() as session:
        member_id = session.scalar(select(TeamMember.id).where(TeamMember.email == member.email))
        sections = [_promises(session, member_id), _approvals(session, ctx, member, member_id)]
    return [s for s in sections if s is not None]


def _promises(session: Session, member_id: int | None) -> Reply:
    rows = session.execute(
        select(Promise, Customer)
        .join(Customer, Customer.id == Promise.customer_id)
        .where(Promise.member_id == member_id, Promise.status == PromiseStatus.OPEN)
        .order_by(Promise.promised_date, Promise.id)
        .limit(PROMISES_SHOWN + 1)
    ).all()
    if not rows:
        return Reply(title="Your open promises", text="None open.")
    lines = tuple(
        Row(title=f"{describe(c)}: {money(c, p.amount)} by {format_day(p.promised_date)}", detail=p.note or "")
        for p, c in rows[:PROMISES_SHOWN]
    )
    more = "Showing the earliest due." if len(rows) > PROMISES_SHOWN else ""
    return Reply(title="Your open promises", text=more, rows=lines)


def _approvals(session: Session, ctx: AppContext, member: Member, member_id: int | None) -> Reply | None:
    """Requests this person may decide (nobody decides their own); None when they may decide
    no kind at all, so a collector's tab does not show an empty section."""
    kinds = {rule.kind for rule in ctx.team.workflow.rules if rule.roles & member.roles}
    if not kinds:
        return None
    pending = session.execute(
        select(ApprovalRequest, Customer)
        .join(Customer, Customer.id == ApprovalRequest.customer_id)
        .where(ApprovalRequest.status == ApprovalStatus.PENDING, ApprovalRequest.requested_by_id != member_id)
        .order_by(ApprovalRequest.created_at, ApprovalRequest.id)
    ).all()
    mine = [(r, c) for r, c in pending if ctx.team.workflow.may_approve(member.roles, r.kind.value, r.amount)][
        :APPROVALS_SHOWN
    ]
    if not mine:
        return Reply(title="Waiting for your approval", text="Nothing is waiting for you.")
    rows = tuple(
        Row(
            title=f"#{r.id} {subject(r.kind, c)}",
            detail=asked(r, c),
            fields=(() if r.amount is None else (Field("Amount", money(c, r.amount)),)),
            buttons=(
                Button("Approve", APPROVE_ACTION, {"id": r.id}, ButtonStyle.PRIMARY),
                Button("Reject", REJECT_ACTION, {"id": r.id, "needs": "reason"}, ButtonStyle.DANGER),
            ),
        )
        for r, c in mine
    )
    return Reply(title="Waiting for your approval", rows=rows)
