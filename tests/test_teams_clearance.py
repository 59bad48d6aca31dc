"""Clear and Refuse on a clearance card in Teams, through botbuilder's TestAdapter: the card
reaches the collector's personal chat, a Refuse click without a reason opens the reason form, a
click with it refuses the request, redraws the card for the clicker and tells the asker in theirs."""

from __future__ import annotations

from sqlalchemy import select

from commands.context import AppContext
from storage.models import ClearanceRequest, ClearanceStatus
from tests.support.teams import DANA, card_of, personal, run, seeded_teams_world, title_of, tracked_message_id

JO = "jo.park@example.com"


def clearances(ctx: AppContext) -> list[ClearanceRequest]:
    with ctx.sessions() as session:
        return list(session.scalars(select(ClearanceRequest).order_by(ClearanceRequest.id)))


def test_refuse_with_a_reason_and_clear_from_the_collectors_chat(ctx: AppContext) -> None:
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        await world.say(DANA, "help")  # Dana's chat with the bot exists, so it can message her
        sent = await world.say(JO, "clear acme ortho for scheduling on 12/1")
        [ack] = [a for a in sent if a.conversation.id == personal(JO).id]
        assert title_of(ack) == "Asked Dana Reyes: Acme Ortho (C200) for scheduling on Tue 1 Dec 2026"
        [card_post] = [a for a in sent if a.conversation.id == personal(DANA).id]
        assert title_of(card_post) == "Clearance asked: Acme Ortho for scheduling"
        card_id = tracked_message_id(ctx, "clearance:1")

        body, [form] = await world.click(DANA, card_of(card_post), "Refuse", message_id=card_id, where=personal(DANA))
        assert body.type == "application/vnd.microsoft.activity.message"  # no reason yet: the form
        assert [i["id"] for i in card_of(form)["body"] if i["type"].startswith("Input.")] == ["reason"]
        assert clearances(ctx)[0].status is ClearanceStatus.PENDING

        body, others = await world.click(
            DANA,
            card_of(card_post),
            "Refuse",
            message_id=card_id,
            where=personal(DANA),
            typed="95 days past due, call me first",
        )
        assert body.value["body"][0]["text"] == "Refused: Acme Ortho for scheduling"
        assert "actions" not in body.value
        told = {(a.conversation.id, title_of(a)) for a in others}
        assert (personal(JO).id, "Refused: Acme Ortho (C200) for scheduling on Tue 1 Dec 2026 (request #1)") in told

        again, _ = await world.click(DANA, card_of(card_post), "Clear", message_id=card_id, where=personal(DANA))
        assert "no longer waiting" in str(again.value)

        sent = await world.say(JO, "clear route 66 for the product release")
        [second] = [a for a in sent if a.conversation.id == personal(DANA).id]
        second_id = tracked_message_id(ctx, "clearance:2")
        body, _ = await world.click(DANA, card_of(second), "Clear", message_id=second_id, where=personal(DANA))
        assert body.value["body"][0]["text"] == "Cleared: Route 66 Dental for the product release"

    run(conversation)
    first, second = clearances(ctx)
    assert (first.status, first.decision_reason) == (ClearanceStatus.REFUSED, "95 days past due, call me first")
    assert second.status is ClearanceStatus.CLEARED
