"""The core's forms on Slack, through the real endpoint (signed button presses and view
submissions against the fake Web API): each of Log call, Promise and Paid records what the
typed command records, a bad amount or a past date is shown under its field and writes nothing,
and what is typed in a field arrives as typed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from storage.models import Activity, PaymentConfirmation, Promise
from tests.support.slack import FRIDAY, SlackWorld, rows_of
from tests.support.slack_forms import fill, morning_list, open_form

TODAY = date(2026, 11, 23)


def typed(world: SlackWorld, text: str) -> None:
    world.command("U0DANA", text)
    world.settle()


def test_log_call_form_records_what_the_typed_command_records(world: SlackWorld) -> None:
    listed = morning_list(world)
    form = open_form(world, listed, "Log call", "C100")
    assert [b["block_id"] for b in form.params["view"]["blocks"] if b["type"] == "input"] == [
        "outcome",
        "contact",
        "note",
    ]
    fill(world, form, {"outcome": "reached", "contact": "Jane Doe", "note": "pays Friday"})
    typed(world, 'log C200 reached with "Jane Doe" pays Friday')
    by_form, by_text = rows_of(world, Activity)
    assert (by_form.kind, by_form.outcome, by_form.contact_name, by_form.note) == (
        by_text.kind,
        by_text.outcome,
        by_text.contact_name,
        by_text.note,
    )


def test_a_note_that_looks_like_a_command_stays_a_note(world: SlackWorld) -> None:
    form = open_form(world, morning_list(world), "Log call", "C100")
    fill(world, form, {"outcome": "no-answer", "note": "with Bob: thanks"})
    [call] = rows_of(world, Activity)
    assert (call.contact_name, call.note) == (None, "with Bob: thanks")


def test_promise_form_records_what_the_typed_command_records(world: SlackWorld) -> None:
    form = open_form(world, morning_list(world), "Promise", "C100")
    fill(world, form, {"amount": "$600", "date": FRIDAY, "note": "check in the mail"})
    typed(world, "promise C200 $600 fri check in the mail")
    by_form, by_text = rows_of(world, Promise)
    assert (
        (by_form.amount, by_form.promised_date, by_form.note)
        == (by_text.amount, by_text.promised_date, by_text.note)
        == (Decimal("600.00"), FRIDAY, "check in the mail")
    )


def test_a_bad_amount_or_a_past_date_is_shown_under_its_field_and_writes_nothing(world: SlackWorld) -> None:
    form = open_form(world, morning_list(world), "Promise", "C100")
    answer = fill(world, form, {"amount": "12OO", "date": FRIDAY})
    assert answer["response_action"] == "errors" and list(answer["errors"]) == ["amount"]
    answer = fill(world, form, {"amount": "1200", "date": date(2026, 11, 20)})
    assert answer["response_action"] == "errors" and "can't be in the past" in answer["errors"]["date"]
    assert rows_of(world, Promise) == []
    paid = open_form(world, morning_list(world), "Paid", "C300")
    answer = fill(world, paid, {"amount": "-5", "date": TODAY})
    assert list(answer["errors"]) == ["amount"]
    assert rows_of(world, PaymentConfirmation) == []


def test_paid_form_asks_finance_as_the_typed_command_does(world: SlackWorld) -> None:
    listed = morning_list(world)
    form = open_form(world, listed, "Paid", "C300")
    date_input = next(b for b in form.params["view"]["blocks"] if b.get("block_id") == "date")
    assert date_input["element"]["initial_date"] == TODAY.isoformat(), "Date paid starts on today"
    fill(
        world,
        form,
        {
            "amount": "350",
            "date": date(2026, 11, 20),
            "method": "check",
            "reference": "10233 from Bob",
            "urgent": ["urgent"],
        },
    )
    typed(world, "paid C200 350 2026-11-20 check 10233 from Bob --urgent")
    by_form, by_text = rows_of(world, PaymentConfirmation)
    assert (
        (by_form.amount, by_form.paid_on, by_form.method, by_form.reference, by_form.urgent)
        == (by_text.amount, by_text.paid_on, by_text.method, by_text.reference, by_text.urgent)
        == (Decimal("350.00"), date(2026, 11, 20), "check", "10233 from Bob", True)
    )
