"""The core's forms on Teams, through botbuilder's TestAdapter: Log call, Promise and Paid on a
call-list card answer with an Adaptive Card form drawn from the same core form as Slack's modal;
its Action.Execute submit records what the typed command records, and a bad amount or a past
date comes back as the form with the message under its field, writing nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from botbuilder.schema import Activity, ActivityTypes, ChannelAccount
from sqlalchemy import select

from bot.teams.cards import DATA_KEY
from commands.context import AppContext
from storage.models import Activity as CallActivity
from storage.models import PaymentConfirmation, Promise
from tests.support.teams import DANA, TeamsWorld, card_of, personal, run, seeded_teams_world, teams_user_id

FRIDAY = date(2026, 11, 27)


def rows_of(ctx: AppContext, model: type) -> list[Any]:
    with ctx.sessions() as session:
        return list(session.scalars(select(model).order_by(model.id)))


async def open_form(world: TeamsWorld, label: str, customer: str) -> dict[str, Any]:
    """Dana asks for her list, presses ``label`` on ``customer``'s line; returns the form card."""
    [listed] = await world.say(DANA, "list")
    rows = [block for block in card_of(listed)["body"] if block.get("type") == "Container"]
    row = next(
        r
        for r in rows
        if any(a["data"][DATA_KEY]["value"].get("customer") == customer for a in r["items"][-1].get("actions", []))
    )
    body, [form] = await world.click(DANA, {"body": [row]}, label, message_id="41", where=personal(DANA))
    assert "fill in the form" in body.value
    return card_of(form)


async def submit(world: TeamsWorld, form: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """Dana fills in the form card and presses its submit; returns the card Teams shows in its place."""
    [action] = form["actions"]
    sent = await world.send(
        Activity(
            type=ActivityTypes.invoke,
            name="adaptiveCard/action",
            reply_to_id="77",
            from_property=ChannelAccount(id=teams_user_id(DANA)),
            conversation=personal(DANA),
            value={
                "action": {"type": "Action.Execute", "verb": action["verb"], "data": {**action["data"], **values}},
                "trigger": "manual",
            },
        )
    )
    [response] = [a for a in sent if a.type == ActivityTypes.invoke_response]
    assert response.value.body.type == "application/vnd.microsoft.card.adaptive"
    return response.value.body.value


def inputs(card: dict[str, Any]) -> dict[str, str]:
    return {i["id"]: i["type"] for i in card["body"] if i["type"].startswith("Input.")}


def texts(card: dict[str, Any]) -> str:
    return "\n".join(i.get("text", "") for i in card["body"] if i["type"] == "TextBlock").replace("\\", "")


def test_log_call_form_records_what_the_typed_command_records(ctx: AppContext) -> None:
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        form = await open_form(world, "Log call", "C200")
        later = await open_form(world, "Log call", "C400")  # a logged account leaves the list
        assert inputs(form) == {"outcome": "Input.ChoiceSet", "contact": "Input.Text", "note": "Input.Text"}
        done = await submit(world, form, {"outcome": "reached", "contact": "Jane Doe", "note": "pays Friday"})
        assert "Logged call for Acme Ortho (C200)" in texts(done)
        await world.say(DANA, 'log C400 reached with "Jane Doe" pays Friday')
        await submit(world, later, {"outcome": "no-answer", "note": "with Bob: thanks"})

    run(conversation)
    *_, by_form, by_text, note_only = rows_of(ctx, CallActivity)
    assert (by_form.kind, by_form.outcome, by_form.contact_name, by_form.note) == (
        by_text.kind,
        by_text.outcome,
        by_text.contact_name,
        by_text.note,
    )
    assert (note_only.contact_name, note_only.note) == (None, "with Bob: thanks")


def test_promise_form_records_what_the_typed_command_records_and_refuses_under_the_field(ctx: AppContext) -> None:
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        form = await open_form(world, "Promise", "C200")
        assert inputs(form) == {"amount": "Input.Text", "date": "Input.Date", "note": "Input.Text"}
        again = await submit(world, form, {"amount": "3OO", "date": FRIDAY.isoformat()})
        amount_at = [i.get("id") for i in again["body"]].index("amount")
        assert "couldn't read" in again["body"][amount_at + 1]["text"], "the message is right under the field"
        assert again["body"][amount_at]["value"] == "3OO", "what was typed is kept"
        again = await submit(world, form, {"amount": "300", "date": "2026-11-20"})
        assert "can't be in the past" in texts(again)
        assert rows_of(ctx, Promise)[1:] == []
        done = await submit(world, form, {"amount": "300", "date": FRIDAY.isoformat(), "note": "check in the mail"})
        assert "Promise recorded for Acme Ortho (C200)" in texts(done)
        await world.say(DANA, "promise C400 300 fri check in the mail")

    run(conversation)
    _, by_form, by_text = rows_of(ctx, Promise)  # the first is the seeded one
    assert (
        (by_form.amount, by_form.promised_date, by_form.note)
        == (by_text.amount, by_text.promised_date, by_text.note)
        == (Decimal("300.00"), FRIDAY, "check in the mail")
    )


def test_paid_form_asks_finance_as_the_typed_command_does(ctx: AppContext) -> None:
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        form = await open_form(world, "Paid", "C200")
        assert inputs(form)["urgent"] == "Input.Toggle"
        assert next(i for i in form["body"] if i.get("id") == "date")["value"] == "2026-11-23", "today"
        again = await submit(world, form, {"amount": "twelve", "date": "2026-11-20"})
        assert "couldn't read" in texts(again)
        assert rows_of(ctx, PaymentConfirmation) == []
        await submit(
            world,
            form,
            {"amount": "350", "date": "2026-11-20", "method": "check", "reference": "10233 from Bob", "urgent": "true"},
        )
        await world.say(DANA, "paid C400 350 2026-11-20 check 10233 from Bob --urgent")

    run(conversation)
    by_form, by_text = rows_of(ctx, PaymentConfirmation)
    assert (
        (by_form.amount, by_form.paid_on, by_form.method, by_form.reference, by_form.urgent)
        == (by_text.amount, by_text.paid_on, by_text.method, by_text.reference, by_text.urgent)
        == (Decimal("350.00"), date(2026, 11, 20), "check", "10233 from Bob", True)
    )
