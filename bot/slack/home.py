"""The App Home tab: the person's call list for today (with the same buttons as the morning
message), the promises they recorded that are still open, and the approval requests waiting
for someone with their roles. Published with ``views.publish`` when they open the tab, and again
after they press a button on it, so it never shows a decided request as waiting."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject
from slack_sdk.models.views import View
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.slack.render import blocks_for, escape
from commands.context import AppContext
from commands.handlers.common import money
from commands.messages import Button, ButtonStyle, ChatUser, Field, Incoming, Reply, Row, Tone, Where
from commands.parsing.customers import describe
from commands.parsing.dates import format_day
from commands.router import handle
from commands.team import Member
from commands.workflows.approval_card import APPROVE_ACTION, REJECT_ACTION, asked, subject
from storage.models import ApprovalRequest, ApprovalStatus, Customer, Promise, PromiseStatus, TeamMember

if TYPE_CHECKING:
    from bot.slack.runtime import SlackRuntime

MAX_BLOCKS = 100     # a Home tab view
LIST_ROWS = 15       # the rest of the list is `/ar list` away
PROMISES_SHOWN = 20
APPROVALS_SHOWN = 10


def register(app: AsyncApp, runtime: SlackRuntime) -> None:
    async def on_home_opened(ack: AsyncAck, event: dict[str, Any]) -> None:
        await ack()
        if event.get("tab") == "home":
            runtime.in_thread(publish_home, runtime, str(event["user"]))

    app.event("app_home_opened")(on_home_opened)


def publish_home(runtime: SlackRuntime, user_id: str) -> None:
    email = runtime.messenger.identity.email_of(user_id)
    view = home_view(runtime.ctx, ChatUser("slack", user_id, email))
    runtime.messenger.client.views_publish(user_id=user_id, view=view)


def home_view(ctx: AppContext, user: ChatUser) -> View:
    member = ctx.team.member(user.email) if user.email else None
    if member is None:
        reply = Reply(title="Not on the team yet", tone=Tone.WARNING,
                      text=f"I can't find you in the {ctx.team.name} team file; ask an admin to add your "
                           "Slack email address, then open this tab again.")
        return View(type="home", blocks=blocks_for(reply))
    sections = [_list(ctx, user, member)] if member.has("collector") else []
    with ctx.sessions() as session:
        member_id = session.scalar(select(TeamMember.id).where(TeamMember.email == member.email))
        sections += [_promises(session, member_id), _approvals(session, ctx, member, member_id)]
    return View(type="home", blocks=_fit([s for s in sections if s is not None]))


def _list(ctx: AppContext, user: ChatUser, member: Member) -> Reply:
    """The same list `/ar list` shows, through the core, cut to the first lines."""
    [reply] = handle(ctx, Incoming(user=user, where=Where(user.user_id), text="list"))[:1]
    if len(reply.rows) <= LIST_ROWS:
        return reply
    more = len(reply.rows) - LIST_ROWS
    return replace(reply, rows=reply.rows[:LIST_ROWS],
                   text=f"{more} more account{'s' if more != 1 else ''}: type /ar list to see them all.")


def _promises(session: Session, member_id: int | None) -> Reply:
    rows = session.execute(
        select(Promise, Customer).join(Customer, Customer.id == Promise.customer_id)
        .where(Promise.member_id == member_id, Promise.status == PromiseStatus.OPEN)
        .order_by(Promise.promised_date, Promise.id).limit(PROMISES_SHOWN + 1)
    ).all()
    if not rows:
        return Reply(title="Your open promises", text="None open.")
    lines = tuple(Row(title=f"{describe(c)}: {money(c, p.amount)} by {format_day(p.promised_date)}",
                      detail=p.note or "") for p, c in rows[:PROMISES_SHOWN])
    more = "Showing the earliest due." if len(rows) > PROMISES_SHOWN else ""
    return Reply(title="Your open promises", text=more, rows=lines)


def _approvals(session: Session, ctx: AppContext, member: Member, member_id: int | None) -> Reply | None:
    """Requests this person may decide (nobody decides their own); None when they may decide
    no kind at all, so a collector's tab does not show an empty section."""
    kinds = {rule.kind for rule in ctx.team.workflow.rules if rule.roles & member.roles}
    if not kinds:
        return None
    pending = session.execute(
        select(ApprovalRequest, Customer).join(Customer, Customer.id == ApprovalRequest.customer_id)
        .where(ApprovalRequest.status == ApprovalStatus.PENDING, ApprovalRequest.requested_by_id != member_id)
        .order_by(ApprovalRequest.created_at, ApprovalRequest.id)
    ).all()
    mine = [(r, c) for r, c in pending
            if ctx.team.workflow.may_approve(member.roles, r.kind.value, r.amount)][:APPROVALS_SHOWN]
    if not mine:
        return Reply(title="Waiting for your approval", text="Nothing is waiting for you.")
    rows = tuple(Row(title=f"#{r.id} {subject(r.kind, c)}", detail=asked(r, c),
                     fields=(() if r.amount is None else (Field("Amount", money(c, r.amount)),)),
                     buttons=(Button("Approve", APPROVE_ACTION, {"id": r.id}, ButtonStyle.PRIMARY),
                              Button("Reject", REJECT_ACTION, {"id": r.id, "needs": "reason"},
                                     ButtonStyle.DANGER)))
                 for r, c in mine)
    return Reply(title="Waiting for your approval", rows=rows)


def _fit(sections: list[Reply]) -> list[dict[str, Any]]:
    """The sections' blocks, stopping before Slack's 100-block limit with a note saying so."""
    ids: Iterator[int] = itertools.count(1)
    blocks: list[dict[str, Any]] = []
    for reply in sections:
        more = blocks_for(reply, ids=ids)
        if len(blocks) + len(more) > MAX_BLOCKS - 1:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(
                text=escape(f"More than fits here: {reply.title.lower()} and below are cut.")
            )]).to_dict())
            break
        blocks += more
    return blocks
