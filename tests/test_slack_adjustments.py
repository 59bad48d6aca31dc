"""The credit memo, write-off, finance task, clearance and retainer override buttons on Slack,
through signed requests against the fake Web API: an approver presses Approve on a credit or
write-off card, finance presses Done or Not doing (its reason through the form) on the task card
in #finance, a collector refuses a clearance through the form, and an approver overrides a short
retainer by replying in the release card's thread after the button was refused."""

from __future__ import annotations

import json

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
from tests.support.slack import SlackWorld, rows_of, text_of


def buttons(params: dict) -> list[str]:
    return [e["text"]["text"] for b in params["blocks"] if b["type"] == "actions" for e in b["elements"]]


def thread_of(world: SlackWorld, channel: str, card_ts: str) -> list[str]:
    return [text_of(c.params) for c in world.posts(channel) if c.params.get("thread_ts") == card_ts]


def approved_task_card(world: SlackWorld, asker: str, text: str, approver: str) -> tuple[str, dict]:
    """``asker`` asks by slash command, ``approver`` presses Approve; the task card in #finance."""
    world.command(asker, text)
    world.settle()
    card = world.last_post("CAPPROVALS")
    assert buttons(card.params) == ["Approve", "Reject"]
    world.click(approver, card, "Approve")
    world.settle()
    [request] = rows_of(world, ApprovalRequest)[-1:]
    assert request.status is ApprovalStatus.APPROVED
    decided = world.fake.made("chat.update")[-1]
    assert decided.params["ts"] == card.answer["ts"] and buttons(decided.params) == []
    return card.answer["ts"], world.last_post("CFINANCE")


def test_a_credit_approved_by_button_and_booked_with_done(world: SlackWorld) -> None:
    card_ts, task_card = approved_task_card(
        world, "U0DANA", "credit C100 INV-1 400 rate charged above the contract", "U0MARIA"
    )
    decided = world.fake.made("chat.update")[-1]
    assert "$400.00 is out of collection, awaiting the credit memo" in text_of(decided.params)
    # Finance is mentioned, so the task reaches their notifications.
    assert task_card.params["text"] == "<@U0PRIYA> <@U0TOM> Credit memo to book: Acme Dental Group (C100)"
    assert "Issue a credit memo of $400.00 for INV-1, Acme Dental Group" in text_of(task_card.params)
    assert buttons(task_card.params) == ["Done", "Not doing"]

    world.click("U0DANA", task_card, "Done")  # not finance: refused, nothing changes
    world.settle()
    assert rows_of(world, AdjustmentTask)[0].status is AdjustmentStatus.OPEN

    world.click("U0PRIYA", task_card, "Done")
    world.settle()
    [task] = rows_of(world, AdjustmentTask)
    assert task.status is AdjustmentStatus.DONE
    update = world.fake.made("chat.update")[-1]
    assert (update.params["channel"], update.params["ts"]) == ("CFINANCE", task_card.answer["ts"])
    assert update.params["text"].startswith("Credit memo booked: Acme Dental Group (C100)")
    assert buttons(update.params) == []
    told = world.last_post("D0DANA")
    assert "Done by Priya Shah" in text_of(told.params)


def test_a_write_off_approved_by_button_and_declined_through_the_reason_form(world: SlackWorld) -> None:
    _, task_card = approved_task_card(world, "U0DANA", "writeoff C300 700 uncollectible, company closed", "U0ALEX")
    assert task_card.params["text"].endswith("Write-off to book: Route 66 Dental (C300)")
    world.click("U0PRIYA", task_card, "Not doing")
    world.settle()
    form = world.fake.made("views.open")[-1]
    assert [b["block_id"] for b in form.params["view"]["blocks"] if b["type"] == "input"] == ["reason"]
    assert rows_of(world, AdjustmentTask)[0].status is AdjustmentStatus.OPEN
    world.submit("U0PRIYA", form, {"reason": "the customer paid it yesterday"})
    world.settle()
    [task] = rows_of(world, AdjustmentTask)
    assert (task.status, task.close_note) == (AdjustmentStatus.NOT_DOING, "the customer paid it yesterday")
    update = world.fake.made("chat.update")[-1]
    assert update.params["ts"] == task_card.answer["ts"] and buttons(update.params) == []
    assert "the customer paid it yesterday" in text_of(update.params)


def test_a_clearance_refused_through_the_reason_form(world: SlackWorld) -> None:
    world.command("U0JO", "clear C200 for scheduling on 12/1", channel="CCLIENTSERVICES")
    world.settle()
    card = world.last_post("D0DANA")
    world.click("U0DANA", card, "Refuse")
    world.settle()
    form = world.fake.made("views.open")[-1]
    assert [b["block_id"] for b in form.params["view"]["blocks"] if b["type"] == "input"] == ["reason"]
    world.submit("U0DANA", form, {"reason": "800 past due, call me first"})
    world.settle()
    [request] = rows_of(world, ClearanceRequest)
    assert (request.status, request.decision_reason) == (ClearanceStatus.REFUSED, "800 past due, call me first")
    update = world.fake.made("chat.update")[-1]
    assert update.params["ts"] == card.answer["ts"] and update.params["text"].startswith("Refused")
    assert "Refused by Dana Reyes" in text_of(world.last_post("D0JO").params)


def test_a_short_retainer_refuses_the_approve_button_and_an_override_in_the_thread_releases(
    world: SlackWorld,
) -> None:
    world.command("U0ALEX", "retainer C100 5000")
    world.command("U0DANA", "hold C100 final invoice over 90 days")
    world.settle()
    world.click("U0MARIA", world.last_post("CAPPROVALS"), "Approve")
    world.settle()
    world.command("U0DANA", "release C100 paid in full by wire")
    world.settle()
    card = world.last_post("CAPPROVALS")
    # Slack shows "<reason>" escaped, as it must: mrkdwn would read <...> as a link.
    assert 'approving it takes "approve override &lt;reason&gt;"' in text_of(card.params)

    pressed = world.click("U0MARIA", card, "Approve")
    world.settle()
    said = json.dumps(world.answers(pressed)) + json.dumps([c.params for c in world.fake.made("chat.postEphemeral")])
    assert "retainer is short by $5,000.00" in said and "approve override" in said
    release = rows_of(world, ApprovalRequest)[-1]
    assert release.status is ApprovalStatus.PENDING

    status, _ = world.event(
        "event_message_thread",
        user="U0MARIA",
        text="approve override the CFO agreed to ship first",
        channel="CAPPROVALS",
        thread_ts=card.answer["ts"],
        ts="1763999400.000100",
    )
    assert status == 200
    world.settle()
    release = rows_of(world, ApprovalRequest)[-1]
    assert (release.status, release.decision_reason) == (
        ApprovalStatus.APPROVED,
        "override the CFO agreed to ship first",
    )
    assert [h.status for h in rows_of(world, Hold)] == [HoldStatus.RELEASED]
    decided = world.fake.made("chat.update")[-1]
    assert decided.params["ts"] == card.answer["ts"]
    assert "overridden by Maria Lopez (the CFO agreed to ship first)" in text_of(decided.params)
    overrides = [e for e in rows_of(world, AuditEvent) if e.action == "retainer.overridden"]
    assert [(e.actor, e.data["shortfall"]) for e in overrides] == [("maria.lopez@example.com", "5000.00")]
