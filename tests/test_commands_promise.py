"""Collector types ``promise ...``: one open promise and one audit event, or one refusal that
says what was understood, and no writes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from commands.context import AppContext
from commands.messages import Tone
from storage.models import AuditEvent, Promise, PromiseStatus
from tests.support.harness import Conversation
from tests.support.world import DANA, field, refused, row_counts, say, seed_world


def _new_promise(ctx: AppContext) -> Promise:
    with ctx.sessions() as session:
        return session.scalars(select(Promise).order_by(Promise.id.desc())).first()


@pytest.mark.parametrize(
    ("text", "erp_id", "amount", "day", "note"),
    [
        ("promise acme dental 1200 fri", "C100", "1200.00", date(2026, 11, 27), None),
        ("promise acme dental 1,200 fri wire on the way", "C100", "1200.00", date(2026, 11, 27), "wire on the way"),
        ("promise C100 $1.2k 12/1", "C100", "1200.00", date(2026, 12, 1), None),
        ("promise c100 2k next fri", "C100", "2000.00", date(2026, 12, 4), None),
        ("promise c100 USD 300 in 5 days", "C100", "300.00", date(2026, 11, 28), None),
        ("promise c100 300 usd dec 1 check mailed", "C100", "300.00", date(2026, 12, 1), "check mailed"),
        ("promise c100 1200.50 2026-12-01", "C100", "1200.50", date(2026, 12, 1), None),
        ("promise c100 99.99 today", "C100", "99.99", date(2026, 11, 23), None),
        ("promise c100 99.99 by tomorrow", "C100", "99.99", date(2026, 11, 24), None),
        ("promise c100 500 eom", "C100", "500.00", date(2026, 11, 30), None),
        ('promise "Summit Ortho, P.C." 1,500 in 2 weeks', "C300", "1500.00", date(2026, 12, 7), None),
        ("promise route 66 700 fri", "C400", "700.00", date(2026, 11, 27), None),  # "66" is part of the name
        ("promise route 66 dental 66 fri", "C400", "66.00", date(2026, 11, 27), None),
        ("promise zenith EUR 900 1 dec", "C600", "900.00", date(2026, 12, 1), None),
        ("ptp acme ortho 800 fri", "C200", "800.00", date(2026, 11, 27), None),
    ],
)
def test_promise_records_an_open_promise_and_an_audit_event(
    ctx: AppContext, text: str, erp_id: str, amount: str, day: date, note: str | None
) -> None:
    ids = seed_world(ctx)
    before = row_counts(ctx)
    [reply] = say(ctx, text)
    assert reply.tone is Tone.SUCCESS, reply
    after = row_counts(ctx)
    replaced = 1 if erp_id == "C300" else 0  # Summit's open promise gives way to the new one
    assert (after["promises"], after["audit_events"]) == (before["promises"] + 1, before["audit_events"] + 1 + replaced)
    promise = _new_promise(ctx)
    assert (promise.customer_id, promise.amount, promise.promised_date, promise.note) == (
        ids[erp_id],
        Decimal(amount),
        day,
        note,
    )
    assert promise.status is PromiseStatus.OPEN and promise.paid_amount == Decimal("0.00")
    assert promise.created_at == datetime(2026, 11, 23, 15, tzinfo=UTC)
    with ctx.sessions() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.entity_id, event.customer_id, event.actor) == (
        "promise.created",
        promise.id,
        ids[erp_id],
        DANA,
    )
    assert event.data["amount"] == str(Decimal(amount)) and event.data["promised_date"] == day.isoformat()


def test_the_reply_says_amount_date_and_balance(ctx: AppContext) -> None:
    seed_world(ctx)
    [reply] = say(ctx, "promise acme dental 1,200 fri wire *today* <!channel>")
    assert reply.title == "Promise recorded for Acme Dental Group (C100)"
    assert (field(reply, "Amount"), field(reply, "By"), field(reply, "Balance")) == (
        "$1,200.00",
        "Fri 27 Nov 2026",
        "$3,350.10",
    )
    assert field(reply, "Note") == "wire *today* <!channel>"
    assert _new_promise(ctx).note == "wire *today* <!channel>"


@pytest.mark.parametrize(
    ("text", "says", "understood"),
    [
        ("promise xyz 100 fri", "no customer matches 'xyz'", ""),
        ("promise acme 100 fri", "'acme' matches several customers: Acme Dental Group (C100), Acme Ortho (C200)", ""),
        (
            "promise acme dental -500 fri",
            "amounts must be positive; I read '-500' as -$500.00",
            "customer 'acme dental'",
        ),
        ("promise acme dental 0 fri", "amounts must be more than zero", "customer 'acme dental'"),
        ("promise acme dental 1.200,50 fri", "I can't tell how to read '1.200,50'", "customer 'acme dental'"),
        ("promise acme dental 1.005 fri", "has three decimals", "customer 'acme dental'"),
        (
            "promise acme dental 500 1/2/3",
            "I can't tell which day '1/2/3' is",
            "customer 'acme dental', amount $500.00",
        ),
        (
            "promise acme dental 500 13/1",
            "'13/1' has no month 13; for Wed 13 Jan 2027 write 1/13",
            "customer 'acme dental', amount $500.00",
        ),
        ("promise acme dental 500", "I need a date after the amount", "customer 'acme dental', amount $500.00"),
        ("promise acme dental", "I need a customer, then an amount, then a date", "customer 'acme dental'"),
        ("promise", "I need a customer, then an amount, then a date", ""),
        (
            "promise acme dental 500 11/2/2026",
            "promise dates can't be in the past; I read '11/2/2026' as Mon 2 Nov 2026",
            "customer Acme Dental Group (C100), amount $500.00, date Mon 2 Nov 2026",
        ),
        (
            "promise acme dental 500 11/2",
            "promises can be at most 90 days ahead (until Sun 21 Feb 2027); I read '11/2' as Tue 2 Nov 2027",
            "customer Acme Dental Group (C100)",
        ),
        ("promise zenith USD 100 fri", "Zenith Labs (C600) is billed in EUR, not USD", "customer Zenith Labs (C600)"),
        (
            "promise acme dental 500 fri " + "n" * 40_000,
            "notes can be at most 2,000 characters and yours has 40,000",
            "customer Acme Dental Group (C100), amount $500.00, date Fri 27 Nov 2026",
        ),
    ],
)
def test_unreadable_promises_are_refused_with_what_was_understood(
    ctx: AppContext, text: str, says: str, understood: str
) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    reply = refused(say(ctx, text))
    assert says in reply.title
    assert f"I understood: {understood}" in reply.text if understood else "I understood" not in reply.text
    assert "Usage: promise <customer> <amount> <date> [note]" in reply.text
    assert row_counts(ctx) == before


def test_a_promise_above_the_open_balance_is_refused_with_the_balance(ctx: AppContext) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    reply = refused(say(ctx, "promise acme dental 3,350.11 fri"))
    assert reply.title == ("$3,350.11 is more than the open balance of Acme Dental Group (C100), which is $3,350.10")
    assert row_counts(ctx) == before
    assert say(ctx, "promise acme dental 3,350.10 fri")[0].tone is Tone.SUCCESS


def test_a_customer_with_nothing_open_cannot_promise(ctx: AppContext) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    reply = refused(say(ctx, "promise paid up 10 fri"))
    assert "open balance of Paid Up LLC (C700), which is $0.00" in reply.title
    assert row_counts(ctx) == before


def test_a_new_promise_replaces_the_open_one_and_says_so(ctx: AppContext) -> None:
    seed_world(ctx)  # Summit already promised $300 for Tue 1 Dec
    [reply] = say(ctx, "promise summit 200 12/4")
    assert reply.tone is Tone.SUCCESS
    assert reply.text == "It replaces the open promise of $300.00 by Tue 1 Dec 2026."
    with ctx.sessions() as session:
        promises = session.scalars(select(Promise).order_by(Promise.id)).all()
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "promise.replaced")).all()
    assert [(p.amount, p.promised_date, p.status) for p in promises] == [
        (Decimal("300.00"), date(2026, 12, 1), PromiseStatus.CANCELLED),
        (Decimal("200.00"), date(2026, 12, 4), PromiseStatus.OPEN),
    ]
    assert (event.entity_id, event.actor) == (promises[0].id, DANA)
    # the same date with another amount replaces it too
    [again] = say(ctx, "promise summit 250 12/4")
    assert again.text == "It replaces the open promise of $200.00 by Fri 4 Dec 2026."


def test_the_same_promise_twice_is_refused_and_writes_nothing(ctx: AppContext) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    reply = refused(say(ctx, "promise summit 300 12/1"))
    assert reply.title == "Summit Ortho, P.C. (C300) already has this promise: $300.00 by Tue 1 Dec 2026"
    assert row_counts(ctx) == before


def test_promise_cancel_ends_the_open_promise(ctx: AppContext) -> None:
    seed_world(ctx)
    [reply] = say(ctx, "promise cancel summit ortho customer says the check was lost")
    assert (reply.tone, reply.title) == (Tone.SUCCESS, "Promise cancelled for Summit Ortho, P.C. (C300)")
    with ctx.sessions() as session:
        assert session.scalars(select(Promise)).one().status is PromiseStatus.CANCELLED
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "promise.cancelled")).all()
    assert event.data["reason"] == "customer says the check was lost"
    before = row_counts(ctx)
    assert refused(say(ctx, "promise cancel summit")).title == "Summit Ortho, P.C. (C300) has no open promise to cancel"
    assert refused(say(ctx, "promise cancel")).title.startswith("which customer's promise?")
    assert row_counts(ctx) == before


def test_a_promise_on_disputed_money_or_someone_elses_account_is_taken_with_a_warning(ctx: AppContext) -> None:
    seed_world(ctx)  # Acme Dental (Dana's) has $100.10 in dispute
    chat = Conversation(ctx)
    [reply] = chat.say("sam.okafor@example.com", "promise acme dental 500 fri")
    assert reply.tone is Tone.SUCCESS
    assert reply.text.splitlines() == [
        "Note: $100.10 of this account is in dispute; the customer may hold that back until it is resolved.",
        "Note: this is Dana Reyes's account; they are told.",
    ]
    [told] = chat.messenger.directs(DANA)
    assert told.reply.text == "Sam Okafor recorded a promise of $500.00 by Fri 27 Nov 2026."
    [own] = say(ctx, "promise acme ortho 100 fri")  # Dana's own, undisputed account: no notes
    assert own.text == ""


def test_a_kept_promise_on_the_same_date_does_not_block_a_new_one(ctx: AppContext) -> None:
    seed_world(ctx)
    with ctx.sessions.begin() as session:
        session.scalars(select(Promise)).one().status = PromiseStatus.KEPT
    assert say(ctx, "promise summit 200 12/1")[0].tone is Tone.SUCCESS
