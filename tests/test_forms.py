"""The forms as the core defines them (commands.forms): which buttons open which form, the
checks that need no ledger, and a submitted form's action going through the router like any
button, refused (and nothing written) when a value is wrong, with the customer's currency
checked as for typed commands. A client without forms (the terminal) still gets the command to
type."""

from __future__ import annotations

from datetime import date

from commands import forms
from commands.context import AppContext
from commands.messages import Action
from tests.support.world import press, refused, row_counts, seed_world

TODAY = date(2026, 11, 23)


def test_list_buttons_open_their_forms_and_needs_buttons_a_one_field_form() -> None:
    assert forms.form_for_button("log_call", {"customer": "C100"}) is forms.LOG_CALL
    assert forms.form_for_button("paid", {"customer": "C100"}) is forms.PAID
    assert forms.form_for_button("promise", {}) is None, "no customer: the core explains"
    reject = forms.form_for_button("approval.reject", {"id": 1, "needs": "reason"}, pressed="Reject")
    assert reject is not None and reject.title == "Reject" and [f.name for f in reject.fields] == ["reason"]
    assert forms.form_for_button("approval.approve", {"id": 1}) is None
    assert forms.PAID.initial(TODAY) == {"date": "2026-11-23"}


def test_checks_that_need_no_ledger_name_their_field() -> None:
    assert forms.check(forms.PROMISE, {"amount": "1,200", "date": "2026-11-27"}, TODAY) == {}
    errors = forms.check(forms.PROMISE, {"amount": "12OO", "date": "2026-11-20"}, TODAY)
    assert list(errors) == ["amount", "date"] and "can't be in the past" in errors["date"]
    assert "at most 90 days" in forms.check(forms.PROMISE, {"amount": "1", "date": "2027-06-01"}, TODAY)["date"]
    assert "future" in forms.check(forms.PAID, {"amount": "5", "date": "2026-11-24"}, TODAY)["date"]
    assert list(forms.check(forms.LOG_CALL, {"outcome": "shouted"}, TODAY)) == ["outcome"]
    assert list(forms.check(forms.LOG_CALL, {}, TODAY)) == ["outcome"]


def test_a_submission_is_the_forms_action_or_the_button_again() -> None:
    sent = forms.submission(
        forms.PROMISE,
        Action("promise", {"customer": "C1"}),
        {"amount": "5", "date": "2026-11-27", "note": "with Bob: thanks"},
    )
    assert sent == Action(
        "form.promise", {"customer": "C1", "amount": "5", "date": "2026-11-27", "note": "with Bob: thanks"}
    )
    reason = forms.form_for_button("approval.reject", {"id": 9, "needs": "reason"})
    assert reason is not None
    assert forms.submission(
        reason, Action("approval.reject", {"id": 9, "needs": "reason"}), {"reason": "paid"}
    ) == Action("approval.reject", {"id": 9, "needs": "reason", "reason": "paid"})


def test_a_wrong_form_value_reaching_the_core_is_refused_and_writes_nothing(ctx: AppContext) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    said = refused(press(ctx, "form.promise", {"customer": "C200", "amount": "300", "date": "2026-11-01"}))
    assert "can't be in the past" in said.title
    said = refused(press(ctx, "form.paid", {"customer": "C600", "amount": "USD 90", "date": "2026-11-23"}))
    assert "billed in EUR" in said.title, "the customer's currency, checked in the core"
    assert row_counts(ctx) == before
    said = refused(press(ctx, "form.log_call", {"customer": "GONE", "outcome": "reached"}))
    assert "no longer on the ledger" in said.title
    # A form naming a customer that is not there is stale or forged: only its audit event is written.
    assert row_counts(ctx) == {**before, "audit_events": before["audit_events"] + 1}


def test_the_paid_button_without_a_form_says_what_to_type(ctx: AppContext) -> None:
    seed_world(ctx)
    [reply] = press(ctx, "paid", {"customer": "C200"})
    assert reply.private and "Type: paid C200 <amount> [date]" in reply.text


def test_each_account_button_without_a_form_says_how_to_type_it_for_that_customer(ctx: AppContext) -> None:
    seed_world(ctx)
    [log] = press(ctx, "log_call", {"customer": "C200"})
    [promise] = press(ctx, "promise", {"customer": "C200"})
    [paid] = press(ctx, "paid", {"customer": "C200"})
    assert (log.title, promise.title, paid.title) == (
        "Log a contact with Acme Ortho (C200)",
        "Record a promise from Acme Ortho (C200)",
        "Tell finance Acme Ortho (C200) paid",
    )
    assert log.text.splitlines()[0] == "Type: log C200 <outcome> [with <person reached>] [note]"
    assert log.text.splitlines()[-1] == 'Example: log C200 reached with "Jane Doe" will pay Friday'
    assert "Open balance" not in log.text, "a call is logged without an amount"
    assert promise.text.splitlines() == [
        "Type: promise C200 <amount> <date> [note]",
        "Open balance: $800.00",
        "Example: promise C200 1,200 fri check in the mail",
    ]
    assert paid.text.splitlines() == [
        "Type: paid C200 <amount> [date] [method] [reference] [--urgent]",
        "Open balance: $800.00",
        "Example: paid C200 1,200 yesterday wire FED-REF 8841",
    ]
    assert all(reply.private for reply in (log, promise, paid))
