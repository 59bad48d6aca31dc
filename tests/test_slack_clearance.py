"""A clearance request on Slack, through signed requests against the fake Web API: client services
asks by slash command, the collector gets the card in a direct message and presses Clear, the
card is redrawn in place and the asker hears it in their own direct messages; a scheduling hold
approved in a thread is announced in #scheduling only."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import ClearanceRequest, ClearanceStatus, Hold
from tests.support.slack import SlackWorld, text_of


def buttons(params: dict) -> list[tuple[str, dict]]:
    return [
        (e["text"]["text"], json.loads(e["value"]))
        for b in params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def rows_of(world: SlackWorld, model: type) -> list:
    with world.ctx.sessions() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def test_client_services_asks_and_the_collector_clears_from_a_direct_message(world: SlackWorld) -> None:
    asked = world.command("U0JO", "clear C200 for scheduling on 12/1", channel="CCLIENTSERVICES")
    world.settle()
    [ack] = world.answers(asked)
    assert ack["text"].startswith("Asked Dana Reyes: Acme Ortho (C200) for scheduling on Tue 1 Dec 2026")
    assert "$800.00" not in text_of(ack)
    card = world.last_post("D0DANA")  # Dana's direct messages with the bot
    assert card.params["text"].startswith("Clearance asked: Acme Ortho for scheduling")
    assert "Not cleared at once: $800.00 past due." in text_of(card.params)
    assert [label for label, _ in buttons(card.params)] == ["Clear", "Refuse"]
    assert world.posts("CCLIENTSERVICES") == [], "the account's state is not posted where client services works"

    world.click("U0DANA", card, "Clear")
    world.settle()
    [update] = world.fake.made("chat.update")
    assert (update.params["channel"], update.params["ts"]) == ("D0DANA", card.answer["ts"])
    assert update.params["text"].startswith("Cleared: Acme Ortho for scheduling") and buttons(update.params) == []
    told = world.last_post("D0JO")
    assert told.params["text"].startswith("Cleared: Acme Ortho (C200) for scheduling on Tue 1 Dec 2026")
    assert "For Jo Park: Cleared by Dana Reyes" in text_of(told.params)
    [request] = rows_of(world, ClearanceRequest)
    assert request.status is ClearanceStatus.CLEARED


def test_a_refusal_typed_in_the_cards_thread(world: SlackWorld) -> None:
    world.command("U0JO", "clear C300 for the product release --urgent", channel="CCLIENTSERVICES")
    world.settle()
    card = world.last_post("D0DANA")
    status, _ = world.event(
        "event_message_im",
        user="U0DANA",
        text="refused because 80 days past due, call me",
        channel="D0DANA",
        thread_ts=card.answer["ts"],
        ts="1763999000.000300",
    )
    assert status == 200
    world.settle()
    [request] = rows_of(world, ClearanceRequest)
    assert (request.status, request.decision_reason, request.urgent) == (
        ClearanceStatus.REFUSED,
        "80 days past due, call me",
        True,
    )
    assert "Refused by Dana Reyes" in text_of(world.last_post("D0JO").params)


def test_a_scheduling_hold_is_announced_in_scheduling(world: SlackWorld) -> None:
    world.command("U0DANA", "hold C100 scheduling final invoice over 90 days")
    world.settle()
    approval = world.last_post("CAPPROVALS")
    world.click("U0MARIA", approval, "Approve")
    world.settle()
    [hold] = rows_of(world, Hold)
    assert hold.kind == "scheduling"
    assert "Scheduling hold placed on Acme Dental Group (C100)" in text_of(world.last_post("CSCHEDULING").params)
    assert world.posts("CCLIENTSERVICES") == [] and world.posts("CSALES") == []
