"""Slack payloads as the core's input: Slack's markup turned back into what was typed, which
messages reach the core at all, where a button press is answered, and what each form's
submission asks of the core (the core form's action with the values as entered)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

from bot.slack.incoming import action_origin, from_command, from_mention, from_message, plain_text
from bot.slack.messenger import AnswerTo
from bot.slack.modals import Origin, Submission, form_for, read_submission, wants_form
from bot.slack.render import ButtonData, escape
from commands.messages import Action, Where
from commands.router import wanted_in_thread
from tests.support.slack import BOT_USER, fixture, view_state


def message(**event: object) -> dict:
    return {**fixture("event_message_thread")["event"], **event}


def test_slack_markup_becomes_the_typed_words() -> None:
    typed = "<@U0ARBOT> status Smith &amp; Sons &lt;UK&gt; for <@U0DANA|dana> in <#C0FIN|finance> <https://x.io|site>"
    assert plain_text(typed, bot_user_id=BOT_USER) == "status Smith & Sons <UK> for @dana in #finance site"
    assert plain_text("<!here> <mailto:a@b.co|a@b.co> <https://x.io>") == "@here a@b.co https://x.io"
    # A name copied from one of the bot's messages is looked up as the customer is called.
    assert plain_text(escape("status 100% Smiles_Co *star*")) == "status 100% Smiles_Co *star*"


def test_slash_commands_and_their_shortcuts() -> None:
    body = {**fixture("slash_command"), "command": "/promise", "text": "acme &amp; co 1,200 fri"}
    request = from_command(body)
    assert request.text == "promise acme & co 1,200 fri"
    assert request.to == AnswerTo("U0DANA", "C0COLLECT", response_url=body["response_url"])
    assert from_command({**body, "command": "/ar", "text": "status C100"}).text == "status C100"
    assert from_command({**body, "command": "/logcall", "text": "C100 voicemail"}).text == "log C100 voicemail"


def test_which_messages_reach_the_core() -> None:
    def reaches(**event: object) -> bool:
        return (
            from_message(message(**event), event_id="Ev1", bot_user_id=BOT_USER, wanted_in_thread=wanted_in_thread)
            is not None
        )

    assert reaches(text="approve")
    assert reaches(text="reject because they paid")
    assert reaches(text="Approved: customer paid"), "a decision in plain words"
    assert reaches(text="Not received yet")
    assert not reaches(text="thanks, on it"), "talk in the thread is left alone"
    assert not reaches(text="approve", parent_user_id="U0DANA"), "a thread under someone else's message"
    assert not reaches(text="approve", thread_ts=None), "a top-level channel message"
    assert not reaches(text="approve", thread_ts="1763910300.000300"), "the thread's parent itself"
    assert not reaches(text=f"<@{BOT_USER}> approve"), "the app_mention event carries that one"
    assert not reaches(text="approve", subtype="message_changed")
    assert not reaches(text="approve", bot_id="B0OTHER")
    assert not reaches(text="approve", user=BOT_USER)
    im = fixture("event_message_im")["event"]
    request = from_message(
        {**im, "text": "/ar status C100"}, event_id="Ev2", bot_user_id=BOT_USER, wanted_in_thread=wanted_in_thread
    )
    assert request is not None and request.text == "status C100" and request.where == Where("D0DANA")
    assert request.request_id == "Ev2"


def test_a_mention_is_answered_in_its_thread() -> None:
    event = fixture("event_app_mention")["event"]
    request = from_mention(event, event_id="Ev3", bot_user_id=BOT_USER)
    assert request.text == "status C100"
    assert request.to == AnswerTo("U0DANA", "C0COLLECT", event["ts"])
    assert request.where == Where("C0COLLECT")


def test_where_a_button_press_is_answered() -> None:
    body = fixture("block_actions")
    where, to, home = action_origin(body)
    assert (where, to, home) == (Where("D0DANA", "1763910000.000100"), AnswerTo("U0DANA", "D0DANA"), False)
    in_channel = {**body, "container": {**body["container"], "channel_id": "C0FIN"}}
    assert action_origin(in_channel)[1] == AnswerTo("U0DANA", "C0FIN", "1763910000.000100")
    ephemeral = {**body, "container": {**body["container"], "is_ephemeral": True}}
    assert action_origin(ephemeral)[1] == AnswerTo("U0DANA", "D0DANA", response_url=body["response_url"])
    home_tab = {**body, "container": {"type": "view", "view_id": "V1"}}
    assert action_origin(home_tab) == (Where("U0DANA"), AnswerTo("U0DANA"), True)


def origin(action: str, value: dict) -> Origin:
    return Origin(
        ButtonData(action, value, "Acme Dental Group (C100)"), Where("D0DANA", "1.2"), AnswerTo("U0DANA", "D0DANA")
    )


def submitted(origin: Origin, values: dict) -> Submission | dict:
    view = form_for(origin, pressed="Pressed", today=date(2026, 11, 23)).to_dict()
    return read_submission({**view, "state": {"values": view_state(view["blocks"], values)}}, today=date(2026, 11, 23))


def test_which_buttons_open_a_form() -> None:
    assert wants_form(ButtonData("log_call", {"customer": "C100"}, ""))
    assert wants_form(ButtonData("confirmation.partial", {"id": 1, "needs": "amount"}, ""))
    assert wants_form(ButtonData("approval.reject", {"id": 1, "needs": "reason"}, ""))
    assert not wants_form(ButtonData("approval.approve", {"id": 1}, ""))
    assert not wants_form(ButtonData("promise", {}, "")), "no customer: the core explains"


def test_form_submissions_are_the_core_forms_actions_with_the_values_as_entered() -> None:
    log = submitted(origin("log_call", {"customer": "C100"}), {"outcome": "no-answer", "note": "with Bob: thanks"})
    assert isinstance(log, Submission)
    assert log.action == Action(
        "form.log_call", {"customer": "C100", "outcome": "no-answer", "contact": "", "note": "with Bob: thanks"}
    )
    promise = submitted(origin("promise", {"customer": "ACME 01"}), {"amount": "$1,200", "date": date(2026, 11, 27)})
    assert isinstance(promise, Submission)
    assert promise.action == Action(
        "form.promise", {"customer": "ACME 01", "amount": "$1,200", "date": "2026-11-27", "note": ""}
    )
    paid = submitted(
        origin("paid", {"customer": "C100"}),
        {"amount": "700", "date": date(2026, 11, 20), "method": "check", "reference": "10233", "urgent": ["urgent"]},
    )
    assert isinstance(paid, Submission) and paid.action.name == "form.paid"
    assert paid.action.value == {
        "customer": "C100",
        "amount": "700",
        "date": "2026-11-20",
        "method": "check",
        "reference": "10233",
        "urgent": "true",
    }
    assert paid.origin.to == AnswerTo("U0DANA", "D0DANA")


def test_a_needs_form_presses_the_button_again_with_the_value() -> None:
    partial = submitted(origin("confirmation.partial", {"id": 4, "needs": "amount"}), {"amount": "250.50"})
    assert isinstance(partial, Submission)
    assert partial.action == Action("confirmation.partial", {"id": 4, "needs": "amount", "amount": "250.50"})
    reject = submitted(origin("approval.reject", {"id": 9, "needs": "reason"}), {"reason": "they paid"})
    assert isinstance(reject, Submission)
    assert reject.action == Action("approval.reject", {"id": 9, "needs": "reason", "reason": "they paid"})


def test_a_bad_amount_is_shown_in_the_form() -> None:
    errors = submitted(origin("promise", {"customer": "C100"}), {"amount": "twelve", "date": date(2026, 11, 27)})
    assert isinstance(errors, dict) and list(errors) == ["amount"] and "twelve" in errors["amount"]
    assert isinstance(submitted(origin("confirmation.partial", {"id": 4, "needs": "amount"}), {"amount": "-5"}), dict)
    past = submitted(origin("promise", {"customer": "C100"}), {"amount": "100", "date": date(2026, 11, 20)})
    assert isinstance(past, dict) and list(past) == ["date"] and "can't be in the past" in past["date"]


def test_a_form_remembers_what_opened_it_within_slacks_limits() -> None:
    big = origin("log_call", {"customer": "C" * 60})
    view = form_for(big, pressed="Log call", today=date(2026, 11, 23)).to_dict()  # validated by slack_sdk
    assert Origin.from_json(view["private_metadata"]) == dataclasses.replace(big, pressed="Log call")
    assert len(view["private_metadata"]) <= 3000 and len(view["title"]["text"]) <= 24
    assert json.loads(view["private_metadata"])["a"] == "log_call"
