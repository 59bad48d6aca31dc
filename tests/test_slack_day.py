"""A collector's whole day on Slack, sent exactly as Slack sends it (signed slash commands, button
presses, form submissions and events, through the real aiohttp endpoint) against a fake Slack
Web API that records what the bot asked of it.

The morning list arrives as a direct message; Dana logs a call and records a promise through
the forms its buttons open; she reports a payment, finance confirms it on the card and she is
told in its thread; she asks for a hold, a manager types "approve" in the card's thread, and
the hold is announced."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from commands.outbox import enqueue
from scheduler.jobs import daily_lists
from storage.models import (
    Activity,
    ApprovalRequest,
    ApprovalStatus,
    ConfirmationStatus,
    Hold,
    HoldStatus,
    Outcome,
    Payment,
    PaymentConfirmation,
    Promise,
    PromiseStatus,
)
from tests.support.slack import FRIDAY, NASTY_NAME, SlackWorld, rows_of, text_of


def buttons(params: dict) -> list[tuple[str, dict]]:
    return [
        (e["text"]["text"], json.loads(e["value"]))
        for b in params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def test_a_day_on_slack(world: SlackWorld) -> None:
    # 08:00: the scheduler's daily list reaches Dana privately, every line with its buttons.
    with world.ctx.sessions.begin() as session:
        enqueue(session, world.ctx, daily_lists(world.ctx, session).replies)
    world.settle()
    assert [c.params["email"] for c in world.fake.made("users.lookupByEmail")] == ["dana.reyes@example.com"]
    [morning] = world.posts("D0DANA")
    shown = text_of(morning.params)
    assert "Acme Dental Group (C100)" in shown and "Route 66 Dental (C300)" in shown
    assert [label for label, _ in buttons(morning.params)] == ["Log call", "Promise", "Paid"] * 4
    assert "<!channel>" not in shown and "&lt;!channel&gt; ∗Bold∗ ˍCoˍ &lt;@U0ALEX&gt;" in shown
    assert world.posts("CCOLLECTIONS"), "the channel summary is posted too"

    # A call logged from the list: the button opens the form, the form logs the call.
    world.click("U0DANA", morning, "Log call", customer="C100")
    world.settle()
    [form] = world.fake.made("views.open")
    assert form.params["view"]["callback_id"] == "arbot.form.log_call"
    assert "Acme Dental Group (C100)" in json.dumps(form.params["view"]["blocks"])
    status, _ = world.submit(
        "U0DANA", form, {"outcome": "reached", "contact": "Jane Doe", "note": "with the CFO: pays Friday"}
    )
    assert status == 200
    world.settle()
    [call] = rows_of(world, Activity)
    assert (call.outcome, call.contact_name, call.note) == (Outcome.REACHED, "Jane Doe", "with the CFO: pays Friday")
    logged = world.posts("D0DANA")[-1]
    assert "Logged call for Acme Dental Group (C100)" in text_of(logged.params)

    # A promise from its form; a mistyped amount is shown in the form, which stays open.
    world.click("U0DANA", morning, "Promise", customer="C200")
    world.settle()
    form = world.fake.made("views.open")[-1]
    status, answer = world.submit("U0DANA", form, {"amount": "3OO", "date": FRIDAY})
    assert status == 200 and answer["response_action"] == "errors" and "amount" in answer["errors"]
    world.settle()
    assert rows_of(world, Promise) == []
    world.submit("U0DANA", form, {"amount": "300", "date": FRIDAY, "note": "check in the mail"})
    world.settle()
    [promise] = rows_of(world, Promise)
    assert (promise.amount, promise.promised_date, promise.note) == (Decimal("300.00"), FRIDAY, "check in the mail")
    assert "Promise recorded for Acme Ortho (C200)" in text_of(world.posts("D0DANA")[-1].params)

    # Paid: the form asks finance, finance confirms on the card, Dana is told in its thread.
    world.click("U0DANA", morning, "Paid", customer="C300")
    world.settle()
    form = world.fake.made("views.open")[-1]
    world.submit(
        "U0DANA",
        form,
        {
            "amount": "700",
            "date": date(2026, 11, 23),
            "method": "wire",
            "reference": "FED-REF 8841",
            "urgent": ["urgent"],
        },
    )
    world.settle()
    [claim] = rows_of(world, PaymentConfirmation)
    assert (claim.amount, claim.method, claim.reference, claim.urgent) == (
        Decimal("700.00"),
        "wire",
        "FED-REF 8841",
        True,
    )
    card = world.last_post("CFINANCE")
    assert card.params["channel"] == "finance", "the team file names the channel; Slack answers with its id"
    assert [label for label, _ in buttons(card.params)] == ["Confirm", "Not received", "Partial"]
    world.click("U0PRIYA", card, "Confirm")
    world.settle()
    [update] = world.fake.made("chat.update")
    assert (update.params["channel"], update.params["ts"]) == ("CFINANCE", card.answer["ts"])
    assert "Payment confirmed" in update.params["text"] and buttons(update.params) == []
    told = world.last_post("CFINANCE")
    assert told.params["thread_ts"] == card.answer["ts"]
    assert "Dana Reyes: Priya Shah confirmed $700.00 from Route 66 Dental (C300)" in text_of(told.params)
    assert rows_of(world, PaymentConfirmation)[0].status is ConfirmationStatus.CONFIRMED
    assert [p.amount for p in rows_of(world, Payment)] == [Decimal("700.00")]

    # A hold: asked by slash command, approved by a reply in the card's thread, announced.
    asked = world.command("U0DANA", "hold C100 final invoice over 90 days")
    world.settle()
    [ack] = world.answers(asked)
    assert ack["text"].startswith("Approval requested: hold on Acme Dental Group")
    approval = world.last_post("CAPPROVALS")
    status, _ = world.event(
        "event_message_thread",
        user="U0MARIA",
        text="approve",
        channel="CAPPROVALS",
        thread_ts=approval.answer["ts"],
        ts="1763999000.000100",
    )
    assert status == 200
    world.settle()
    [request] = rows_of(world, ApprovalRequest)
    assert request.status is ApprovalStatus.APPROVED
    [hold] = rows_of(world, Hold)
    assert hold.status is HoldStatus.ACTIVE
    decided = world.fake.made("chat.update")[-1]
    assert decided.params["ts"] == approval.answer["ts"] and decided.params["text"].startswith("Approved")
    assert buttons(decided.params) == []
    for channel in ("CCLIENTSERVICES", "CSALES"):
        assert "Hold placed on Acme Dental Group (C100)" in text_of(world.last_post(channel).params)
    in_thread = [c for c in world.posts("CAPPROVALS") if c.params.get("thread_ts") == approval.answer["ts"]]
    assert any("Approved by Maria Lopez" in text_of(c.params) for c in in_thread)


def test_the_promise_that_was_recorded_is_on_the_home_tab(world: SlackWorld) -> None:
    world.command("U0DANA", "promise C200 300 fri", command="/ar")
    world.settle()
    status, _ = world.event("event_app_home_opened", user="U0DANA")
    assert status == 200
    world.settle()
    [published] = world.fake.made("views.publish")
    assert published.params["user_id"] == "U0DANA"
    home = text_of({"blocks": published.params["view"]["blocks"]})
    assert "Your call list for" in home and "Your open promises" in home
    assert "Acme Ortho (C200): $300.00 by Fri 27 Nov 2026" in home
    assert [p.status for p in rows_of(world, Promise)] == [PromiseStatus.OPEN]
    assert NASTY_NAME not in home


def test_finance_answers_partial_through_the_form(world: SlackWorld) -> None:
    world.command("U0DANA", "paid C300 700 today wire", command="/ar")
    world.settle()
    card = world.last_post("CFINANCE")
    world.click("U0PRIYA", card, "Partial")
    world.settle()
    [form] = world.fake.made("views.open")
    assert form.params["view"]["callback_id"] == "arbot.form.confirmation.partial"
    assert form.params["view"]["title"]["text"] == "Partial"
    world.submit("U0PRIYA", form, {"amount": "300"})
    world.settle()
    [claim] = rows_of(world, PaymentConfirmation)
    assert (claim.status, claim.confirmed_amount) == (ConfirmationStatus.PARTIAL, Decimal("300.00"))
    [update] = world.fake.made("chat.update")
    assert update.params["ts"] == card.answer["ts"] and "Payment partly confirmed" in update.params["text"]
    told = world.last_post("CFINANCE")
    assert told.params["thread_ts"] == card.answer["ts"]
    assert "Priya Shah confirmed $300.00 of the $700.00" in text_of(told.params)


def test_an_approver_rejects_with_a_reason_through_the_form(world: SlackWorld) -> None:
    world.command("U0DANA", "hold C100 final invoice over 90 days")
    world.settle()
    card = world.last_post("CAPPROVALS")
    world.click("U0MARIA", card, "Reject")
    world.settle()
    form = world.fake.made("views.open")[-1]
    assert [b["block_id"] for b in form.params["view"]["blocks"] if b["type"] == "input"] == ["reason"]
    world.submit("U0MARIA", form, {"reason": "they paid on Friday"})
    world.settle()
    [request] = rows_of(world, ApprovalRequest)
    assert (request.status, request.decision_reason) == (ApprovalStatus.REJECTED, "they paid on Friday")
    assert rows_of(world, Hold) == []
    decided = world.fake.made("chat.update")[-1]
    assert decided.params["ts"] == card.answer["ts"] and decided.params["text"].startswith("Rejected")
    assert "they paid on Friday" in text_of(decided.params)


def test_a_mention_in_a_channel_is_answered_only_to_the_asker_in_its_thread(world: SlackWorld) -> None:
    """A balance asked for in a channel is not for the whole channel to read."""
    status, _ = world.event("event_app_mention", text="<@U0ARBOT> status C200", ts="1763910200.000200")
    assert status == 200
    world.settle()
    assert world.posts("C0COLLECT") == []
    [answer] = world.fake.made("chat.postEphemeral")
    assert (answer.params["channel"], answer.params["thread_ts"]) == ("C0COLLECT", "1763910200.000200")
    assert answer.params["user"] == "U0DANA"
    assert "Acme Ortho (C200)" in text_of(answer.params)


def test_talk_in_a_card_thread_gets_no_answer(world: SlackWorld) -> None:
    world.command("U0DANA", "hold C100 final invoice over 90 days")
    world.settle()
    card = world.last_post("CAPPROVALS")
    before = len(world.fake.made())
    world.event(
        "event_message_thread",
        user="U0MARIA",
        text="can we wait until Friday?",
        channel="CAPPROVALS",
        thread_ts=card.answer["ts"],
        ts="1763999100.000100",
    )
    world.settle()
    assert world.fake.made()[before:] == []
    assert rows_of(world, ApprovalRequest)[0].status is ApprovalStatus.PENDING


def test_a_decision_in_plain_words_in_the_card_thread_decides_it(world: SlackWorld) -> None:
    """ "Approved: customer paid" does not start with a command word; it is still a decision, and
    talk around it in the same thread stays quiet."""
    world.command("U0DANA", "hold C100 final invoice over 90 days")
    world.settle()
    card = world.last_post("CAPPROVALS")
    before = len(world.fake.made())
    world.event(
        "event_message_thread",
        user="U0MARIA",
        text="thanks Dana, looking at it now",
        channel="CAPPROVALS",
        thread_ts=card.answer["ts"],
        ts="1763999200.000100",
    )
    world.settle()
    assert world.fake.made()[before:] == []
    status, _ = world.event(
        "event_message_thread",
        user="U0MARIA",
        text="Approved: customer paid late again",
        channel="CAPPROVALS",
        thread_ts=card.answer["ts"],
        ts="1763999300.000100",
    )
    assert status == 200
    world.settle()
    [request] = rows_of(world, ApprovalRequest)
    assert request.status is ApprovalStatus.APPROVED
    assert [h.status for h in rows_of(world, Hold)] == [HoldStatus.ACTIVE]
    decided = world.fake.made("chat.update")[-1]
    assert decided.params["ts"] == card.answer["ts"] and decided.params["text"].startswith("Approved")


def test_not_received_in_plain_words_in_the_finance_thread(world: SlackWorld) -> None:
    """A doubtful line gets a private answer saying how to put it and changes nothing; the plain
    decision then takes effect."""
    world.command("U0DANA", "paid C300 700 today wire", command="/ar")
    world.settle()
    card = world.last_post("CFINANCE")
    world.event(
        "event_message_thread",
        user="U0PRIYA",
        text="Not received yet :(",
        channel="CFINANCE",
        thread_ts=card.answer["ts"],
        ts="1763999400.000100",
    )
    world.settle()
    [doubt] = [c for c in world.fake.made("chat.postEphemeral") if c.params["user"] == "U0PRIYA"]
    assert doubt.params["thread_ts"] == card.answer["ts"] and "not received" in text_of(doubt.params).lower()
    assert rows_of(world, PaymentConfirmation)[0].status is ConfirmationStatus.PENDING
    world.event(
        "event_message_thread",
        user="U0PRIYA",
        text="Not received :(",
        channel="CFINANCE",
        thread_ts=card.answer["ts"],
        ts="1763999500.000100",
    )
    world.settle()
    [claim] = rows_of(world, PaymentConfirmation)
    assert claim.status is ConfirmationStatus.NOT_RECEIVED
    assert rows_of(world, Payment) == []
