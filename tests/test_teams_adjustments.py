"""The credit memo, write-off, finance task, clearance and retainer override buttons in Teams,
through botbuilder's TestAdapter and the real bot: Approve on a credit or write-off card in
#approvals, Done and Not doing (the reason form first) on the task card in #finance, Clear on a
clearance card in the collector's chat, and an Approve refused for a short retainer, then the
override typed in the release card's thread."""

from __future__ import annotations

from sqlalchemy import select

from commands.context import AppContext
from storage.models import (
    AdjustmentStatus,
    AdjustmentTask,
    ApprovalRequest,
    ApprovalStatus,
    AuditEvent,
    ClearanceRequest,
    ClearanceStatus,
    Hold,
    HoldStatus,
)
from tests.support.teams import (
    CHANNELS,
    DANA,
    MARIA,
    PRIYA,
    TeamsWorld,
    card_of,
    channel,
    in_conversation,
    personal,
    run,
    seeded_teams_world,
    title_of,
    tracked_message_id,
)

ALEX, JO = "alex.kim@example.com", "jo.park@example.com"


def rows(ctx: AppContext, model: type) -> list:
    with ctx.sessions() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def labels(card: dict) -> list[str]:
    return [a["title"] for a in card.get("actions", [])]


async def approved_task(world: TeamsWorld, text: str, approver: str) -> tuple[dict, str]:
    """Dana asks, ``approver`` presses Approve on the card in #approvals; the task card posted in
    #finance and its message id."""
    ctx = world.ctx
    card_post = in_conversation(await world.say(DANA, text), CHANNELS["approvals"])
    request_id = rows(ctx, ApprovalRequest)[-1].id
    card_id = tracked_message_id(ctx, f"approval:{request_id}")
    body, others = await world.click(
        approver, card_of(card_post), "Approve", message_id=card_id, where=channel("approvals", card_id)
    )
    assert body.value["body"][0]["text"].startswith("Approved:") and "actions" not in body.value
    [task_post] = [a for a in others if a.conversation.id == CHANNELS["finance"]]
    task_id = rows(ctx, AdjustmentTask)[-1].id
    return card_of(task_post), tracked_message_id(ctx, f"adjustment:{task_id}")


def test_a_credit_approved_and_booked_from_its_cards(ctx: AppContext) -> None:
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        await world.install_team()
        await world.say(DANA, "help")
        task, task_id = await approved_task(world, "credit acme dental INV-1 400 rate above the contract", MARIA)
        assert task["body"][0]["text"] == "Credit memo to book: Acme Dental Group (C100)"
        assert labels(task) == ["Done", "Not doing"]
        where = channel("finance", task_id)
        refused, _ = await world.click(DANA, task, "Done", message_id=task_id, where=where)
        assert "You can't close task" in str(refused.value)
        body, others = await world.click(PRIYA, task, "Done", message_id=task_id, where=where)
        assert body.value["body"][0]["text"] == "Credit memo booked: Acme Dental Group (C100)"
        assert "actions" not in body.value
        told = [(a.conversation.id, title_of(a), str(card_of(a))) for a in others]
        assert any(c == personal(DANA).id and "Done by Priya Shah" in body for c, _, body in told), told

    run(conversation)
    [task] = rows(ctx, AdjustmentTask)
    assert task.status is AdjustmentStatus.DONE


def test_a_write_off_approved_and_declined_with_a_reason(ctx: AppContext) -> None:
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        await world.install_team()
        task, task_id = await approved_task(world, "writeoff acme ortho 800 uncollectible, clinic closed", ALEX)
        assert task["body"][0]["text"] == "Write-off to book: Acme Ortho (C200)"
        where = channel("finance", task_id)
        body, [form] = await world.click(PRIYA, task, "Not doing", message_id=task_id, where=where)
        assert body.type == "application/vnd.microsoft.activity.message"  # no reason yet: the form
        assert [i["id"] for i in card_of(form)["body"] if i["type"].startswith("Input.")] == ["reason"]
        assert rows(ctx, AdjustmentTask)[0].status is AdjustmentStatus.OPEN
        body, _ = await world.click(
            PRIYA, task, "Not doing", message_id=task_id, where=where, typed="the customer paid it yesterday"
        )
        assert "actions" not in body.value and "the customer paid it yesterday" in str(body.value)

    run(conversation)
    [task] = rows(ctx, AdjustmentTask)
    assert (task.status, task.close_note) == (AdjustmentStatus.NOT_DOING, "the customer paid it yesterday")


def test_clear_from_the_collectors_chat(ctx: AppContext) -> None:
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        await world.say(DANA, "help")
        sent = await world.say(JO, "clear acme ortho for scheduling on 12/1")
        card_post = in_conversation(sent, personal(DANA).id)
        card_id = tracked_message_id(ctx, "clearance:1")
        body, others = await world.click(DANA, card_of(card_post), "Clear", message_id=card_id, where=personal(DANA))
        assert body.value["body"][0]["text"] == "Cleared: Acme Ortho for scheduling"
        assert any(a.conversation.id == personal(JO).id and title_of(a).startswith("Cleared:") for a in others)

    run(conversation)
    [clearance] = rows(ctx, ClearanceRequest)
    assert clearance.status is ClearanceStatus.CLEARED


def test_a_short_retainer_refuses_approve_and_an_override_in_the_thread_releases(ctx: AppContext) -> None:
    """Acme Dental is on hold in the seeded world and holds no retainer against $5,000 required."""
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        await world.install_team()
        await world.say(ALEX, "retainer acme dental 5000")
        card_post = in_conversation(
            await world.say(DANA, "release acme dental paid in full by wire"), CHANNELS["approvals"]
        )
        card_id = tracked_message_id(ctx, "approval:1")
        where = channel("approvals", card_id)
        body, _ = await world.click(MARIA, card_of(card_post), "Approve", message_id=card_id, where=where)
        assert "retainer is short by $5,000.00" in str(body.value) and "approve override" in str(body.value)
        assert rows(ctx, ApprovalRequest)[0].status is ApprovalStatus.PENDING
        await world.say(MARIA, "approve override the CFO agreed to ship first", where=where, mention=True)
        [update] = world.adapter.updated_activities[-1:]
        assert update.id == card_id
        assert "overridden by Maria Lopez (the CFO agreed to ship first)" in str(card_of(update))

    run(conversation)
    [request] = rows(ctx, ApprovalRequest)
    assert request.status is ApprovalStatus.APPROVED
    assert {h.status for h in rows(ctx, Hold)} == {HoldStatus.RELEASED}
    assert [e.actor for e in rows(ctx, AuditEvent) if e.action == "retainer.overridden"] == [MARIA]
