"""Credit memos and write-offs as approval threads, as conversations: a collector asks, the
approvals channel gets a card with the account's record, someone the team file allows (by role
and amount, never the requester) approves; the amount leaves the call list at once and finance
gets a task (Done / Not doing) that is reminded, and that closes by itself when an import shows
the credit. An upheld dispute opens the credit request in one step. Refusals write nothing.

The seeded world (tests.support.world): Acme Dental (C100) has INV-1 $1,000 (53 days past
due), INV-2, INV-3, CM-1, INV-4 and dispute #1 ($100.10, no invoice); Acme Ortho (C200) has A-1 $800."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from commands.account_card import status_reply
from commands.accounts import account_summary
from commands.clock import FixedClock
from commands.context import AppContext
from commands.importing import import_aging_file
from commands.messages import Reply, Tone
from commands.outbox import enqueue
from commands.workflows.approval_timers import run_timers
from commands.workflows.current_card import current_card
from storage.models import (
    AdjustmentStatus,
    AdjustmentTask,
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    Customer,
)
from tests.support.approvals import ALEX, CHRIS, DANA, MARIA, PRIYA, SAM, ask, audit, decide, request_of
from tests.support.disputes import acme_export, acme_on_the_list
from tests.support.harness import Conversation, Sent
from tests.support.world import field, refused, row_counts, seed_world

TOM = "tom.becker@example.com"  # finance lead
CREDIT_400 = "credit acme dental INV-1 400 rate charged above the contract"


def task(ctx: AppContext, task_id: int | None = None) -> AdjustmentTask:
    with ctx.sessions() as session:
        query = select(AdjustmentTask).order_by(AdjustmentTask.id.desc())
        return session.get_one(AdjustmentTask, task_id) if task_id else session.scalars(query).first()


def approved(chat: Conversation, ctx: AppContext, text: str, approver: str, *, asker: str = DANA) -> Sent:
    """``asker`` asks, ``approver`` approves; the finance task card posted."""
    card = ask(chat, asker, text)
    reply = decide(chat, approver, card, "button")
    assert reply.tone is Tone.SUCCESS and "out of collection" in reply.text, reply
    return chat.last_post("finance")


def tick(ctx: AppContext, chat: Conversation) -> list[Reply]:
    with ctx.sessions.begin() as session:
        replies = run_timers(session, ctx)
        enqueue(session, ctx, replies)
    chat.deliver()
    return replies


# --- asking ------------------------------------------------------------------------------------


def test_a_credit_card_carries_the_request_and_the_accounts_record(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    card = ask(chat, DANA, CREDIT_400)
    reply = card.reply
    assert reply.title == "Approval needed: credit memo for Acme Dental Group"
    assert field(reply, "Asked") == (
        "Credit $400.00 on INV-1 of Acme Dental Group (C100): rate charged above the contract"
    )
    assert field(reply, "Who may approve") == "a manager (up to $1,000.00), or a controller or VP finance"
    assert field(reply, "Contacts, last 12 months") == "1 call (0 reached), 0 emails; never reached"
    assert field(reply, "Disputes, last 12 months") == "1: 1 open"
    assert field(reply, "Promises, last 12 months") == "none"
    assert field(reply, "Oldest open item") == "INV-3, 114 days past due"
    assert field(reply, "90+ days") == "$2,000.00"  # the account card's aging is on it too
    request = request_of(ctx, card)
    assert (request.kind, request.amount, request.details["invoice"]) == (
        ApprovalKind.CREDIT,
        Decimal("400.00"),
        "INV-1",
    )
    assert audit(ctx, "approval.requested")[0].data["kind"] == "credit"


@pytest.mark.parametrize(
    "text, says",
    [
        ("credit nobody inc INV-1 400 wrong rate", "no customer"),
        ("credit acme dental INV-99 400 wrong rate", "'INV-99' is not an invoice of theirs"),
        ("credit acme dental INV-1 0 wrong rate", "zero"),
        ("credit acme dental INV-1 -40 wrong rate", "amounts must be positive"),
        ("credit acme dental INV-1 1000.01 wrong rate", "more than the $1,000.00 that can still be credited on INV-1"),
        ("credit acme dental INV-1 400", "say why the customer should be credited"),
        ("writeoff acme ortho 800.01 customer closed", "more than the $800.00 that can be written off"),
        ("writeoff acme ortho 0 customer closed", "zero"),
        ("writeoff acme ortho 120", "say why it cannot be collected"),
        ("writeoff nobody inc 120 closed", "no customer"),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(ctx: AppContext, text: str, says: str) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    chat = Conversation(ctx)
    reply = refused(chat.say(DANA, text))
    assert says in reply.title, reply
    assert row_counts(ctx) == before and chat.messenger.sent == []


def test_credits_already_asked_for_count_against_the_invoice(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    ask(chat, DANA, "credit acme dental INV-1 700 wrong rate")
    reply = refused(chat.say(SAM, "credit acme dental INV-1 400 wrong rate again"))
    assert "more than the $300.00 that can still be credited on INV-1" in reply.title
    assert "$700.00 already asked for or approved as credit" in reply.title


def test_finance_may_not_ask_for_a_credit_and_the_attempt_is_on_the_record(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    reply = refused(chat.say(PRIYA, CREDIT_400))
    assert reply.title == "You can't ask for a credit memo for Acme Dental Group"
    assert "Nothing was saved" in reply.text
    with ctx.sessions() as session:
        assert session.scalars(select(ApprovalRequest)).all() == []
    assert audit(ctx, "approval.request_refused")[0].data["kind"] == "credit"


# --- deciding ----------------------------------------------------------------------------------


def test_a_manager_approves_up_to_1000_and_the_controller_above(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    card = ask(chat, DANA, "credit acme dental INV-3 1500 final invoice billed at the old rate")
    reply = refused(chat.click(MARIA, card, "Approve"))
    assert reply.title == "$1,500.00 is over your approval limit for a credit"
    assert "a controller or VP finance (Chris Wong, Alex Kim)" in reply.text
    assert request_of(ctx, card).status is ApprovalStatus.PENDING
    assert decide(chat, CHRIS, card, "button").tone is Tone.SUCCESS
    assert request_of(ctx, card).status is ApprovalStatus.APPROVED


def test_nobody_approves_their_own_credit(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    card = ask(chat, MARIA, "credit acme ortho A-1 300 late delivery")
    reply = refused(chat.click(MARIA, card, "Approve"))
    assert reply.title == "You asked for this credit memo for Acme Ortho yourself"
    assert [e.data["why"] for e in audit(ctx, "approval.refused")] == ["self_approval"]
    assert request_of(ctx, card).status is ApprovalStatus.PENDING


def test_a_write_off_is_for_the_controller_or_vp_finance_only(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    chat = Conversation(ctx)
    card = ask(chat, DANA, "writeoff acme ortho 120 customer closed its doors")
    assert field(card.reply, "Who may approve") == "a controller or VP finance"
    reply = refused(chat.click(MARIA, card, "Approve"))
    assert reply.title == "You can't decide a write-off for Acme Ortho"
    assert decide(chat, ALEX, card, "button").tone is Tone.SUCCESS
    finance = chat.last_post("finance").reply
    assert finance.title == "Write-off to book: Acme Ortho (C200)"
    assert field(finance, "Do") == "Write off $120.00 on Acme Ortho"
    with ctx.sessions() as session:
        summary = account_summary(session, session.get_one(Customer, ids["C200"]), as_of=ctx.today())
    rows = [r.title for r in status_reply(summary, ctx, collector=None).rows]
    assert "$120.00 write-off approved, awaiting the ERP" in rows


# --- approved: out of collection, finance's task ------------------------------------------------


def test_an_approved_credit_leaves_the_list_at_once_and_finance_gets_a_task(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    before, _ = acme_on_the_list(ctx, ids)
    chat = Conversation(ctx)
    finance = approved(chat, ctx, CREDIT_400, MARIA)
    assert finance.reply.title == "Credit memo to book: Acme Dental Group (C100)"
    assert field(finance.reply, "Do") == "Issue a credit memo of $400.00 for INV-1, Acme Dental Group"
    assert [b.label for b in finance.reply.buttons] == ["Done", "Not doing"]
    assert set(finance.reply.mentions) == {PRIYA, TOM}
    collectible, reasons = acme_on_the_list(ctx, ids)
    assert collectible == before - 40000
    assert "$400 credit approved, awaiting the credit memo" in reasons
    opened = task(ctx)
    assert (opened.status, opened.amount, opened.open_at_approval) == (
        AdjustmentStatus.OPEN,
        Decimal("400.00"),
        Decimal("1000.00"),
    )
    [event] = audit(ctx, "adjustment.opened")
    assert (event.actor, event.data["invoice"], event.data["amount"]) == (MARIA, "INV-1", "400.00")


def test_done_keeps_the_amount_aside_and_not_doing_brings_it_back(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    before, _ = acme_on_the_list(ctx, ids)
    chat = Conversation(ctx)
    first = approved(chat, ctx, CREDIT_400, MARIA)
    [ack] = chat.click(PRIYA, first, "Done")
    assert ack.title == f"Task #{task(ctx).id}: done"
    [update] = chat.messenger.updates(first.ref)
    assert update.reply.buttons == () and update.reply.title == "Credit memo booked: Acme Dental Group (C100)"
    assert any(s.reply.text.startswith("Done by Priya Shah") for s in chat.messenger.directs(DANA))
    assert acme_on_the_list(ctx, ids)[0] == before - 40000  # until an import shows it

    second = approved(chat, ctx, "writeoff acme dental 100 small balance not worth chasing", CHRIS)
    assert acme_on_the_list(ctx, ids)[0] == before - 50000
    assert "reason" in refused(chat.click(PRIYA, second, "Not doing")).title
    [ack] = chat.click(PRIYA, second, "Not doing", reason="customer paid it yesterday")
    assert task(ctx).status is AdjustmentStatus.NOT_DOING
    assert acme_on_the_list(ctx, ids)[0] == before - 40000
    [again] = chat.click(TOM, second, "Done")
    assert again.title == f"Task #{task(ctx).id} is already closed" and "Not doing, said Priya Shah" in again.text
    assert [e.data["note"] for e in audit(ctx, "adjustment.not_doing")] == ["customer paid it yesterday"]


def test_only_finance_closes_a_task(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    card = approved(chat, ctx, CREDIT_400, MARIA)
    reply = refused(chat.click(DANA, card, "Done"))
    assert reply.title.startswith("You can't close task") and "Priya Shah or Tom Becker" in reply.text
    assert task(ctx).status is AdjustmentStatus.OPEN and len(audit(ctx, "adjustment.refused")) == 1


def test_an_open_task_is_reminded_after_the_finance_hours_then_daily(ctx: AppContext, clock: FixedClock) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    card = approved(chat, ctx, CREDIT_400, MARIA)  # Monday 09:00
    clock.advance(hours=3, minutes=59)
    assert [r for r in tick(ctx, chat) if r.thread_of == f"adjustment:{task(ctx).id}"] == []
    clock.advance(minutes=1)
    [reminder] = [r for r in tick(ctx, chat) if r.thread_of == f"adjustment:{task(ctx).id}"]
    assert reminder.title == (
        f"Reminder: Issue a credit memo of $400.00 for INV-1, Acme Dental Group (task #{task(ctx).id})"
    )
    assert chat.messenger.sent[-1].ref.where == card.ref.thread() and set(reminder.mentions) == {PRIYA, TOM}
    clock.advance(hours=4)  # Monday 17:00: four more business hours, not a day
    assert [r for r in tick(ctx, chat) if r.thread_of] == []
    clock.advance(hours=20)  # Tuesday 13:00: a business day after the first reminder
    assert len([r for r in tick(ctx, chat) if r.thread_of]) == 1
    assert len(audit(ctx, "adjustment.reminded")) == 2
    chat.click(PRIYA, card, "Done")
    clock.advance(hours=24)
    assert [r for r in tick(ctx, chat) if r.thread_of] == []


# --- closing on import ----------------------------------------------------------------------------


def test_the_task_closes_when_an_import_shows_the_credit_memo(
    ctx: AppContext, clock: FixedClock, tmp_path: Path
) -> None:
    ids = seed_world(ctx)
    before, _ = acme_on_the_list(ctx, ids)
    chat = Conversation(ctx)
    card = approved(chat, ctx, CREDIT_400, MARIA)
    clock.advance(hours=8)
    import_aging_file(ctx, acme_export(tmp_path, "same.csv"), as_of=date(2026, 11, 23))
    chat.deliver()
    assert task(ctx).status is AdjustmentStatus.OPEN and chat.messenger.updates(card.ref) == []
    clock.advance(hours=24)
    memo = acme_export(tmp_path, "memo.csv", extra="C100,Acme Dental Group,CM-9,Credit Memo,2026-11-24,-400.00\n")
    import_aging_file(ctx, memo, as_of=date(2026, 11, 24))
    chat.deliver()
    assert task(ctx).status is AdjustmentStatus.SHOWN
    [update] = chat.messenger.updates(card.ref)
    assert update.reply.buttons == () and "an aging import shows it" in update.reply.text
    assert any("an aging import shows it" in s.reply.text for s in chat.messenger.directs(DANA))
    collectible, reasons = acme_on_the_list(ctx, ids)
    assert collectible == before - 40000  # once, through the ledger now
    assert not any("credit approved" in r for r in reasons)
    assert len(audit(ctx, "adjustment.shown")) == 1


def test_a_payment_on_the_credited_invoice_does_not_close_the_task(
    ctx: AppContext, clock: FixedClock, tmp_path: Path
) -> None:
    """INV-1 falls from $1,000 to $600: an aging export shows a payment so. The task stays open
    (finance has not booked the credit), and once finance says Done the fall is taken to be the
    credit, so the $400 stops being set aside and counts once."""
    ids = seed_world(ctx)
    before, _ = acme_on_the_list(ctx, ids)
    chat = Conversation(ctx)
    card = approved(chat, ctx, CREDIT_400, MARIA)
    clock.advance(hours=8)
    import_aging_file(ctx, acme_export(tmp_path, "less.csv", inv1="600.00"), as_of=date(2026, 11, 23))
    chat.deliver()
    assert task(ctx).status is AdjustmentStatus.OPEN and chat.messenger.updates(card.ref) == []
    assert audit(ctx, "adjustment.shown") == []
    # Paid $400 and a $400 credit to come: both off while finance has not booked it.
    assert acme_on_the_list(ctx, ids)[0] == before - 80000
    chat.click(PRIYA, card, "Done")
    assert task(ctx).status is AdjustmentStatus.DONE
    assert acme_on_the_list(ctx, ids)[0] == before - 40000


def test_a_confirmed_payment_does_not_close_the_task_even_after_done(
    ctx: AppContext, clock: FixedClock, tmp_path: Path
) -> None:
    """Dana's customer pays $400 on INV-1, finance confirms it and the ERP shows it: that fall
    is the payment, so the credit finance booked stays set aside until the ERP shows it too."""
    ids = seed_world(ctx)
    before, _ = acme_on_the_list(ctx, ids)
    chat = Conversation(ctx)
    card = approved(chat, ctx, CREDIT_400, MARIA)
    chat.say(DANA, "paid acme dental 400 today wire REF-4")
    chat.click(PRIYA, chat.last_post("finance"), "Confirm")
    chat.click(PRIYA, card, "Done")
    clock.advance(hours=24)
    import_aging_file(ctx, acme_export(tmp_path, "paid.csv", inv1="600.00"), as_of=date(2026, 11, 24))
    assert task(ctx).status is AdjustmentStatus.DONE
    assert acme_on_the_list(ctx, ids)[0] == before - 80000  # $400 paid, $400 credit still to come
    clock.advance(hours=24)
    import_aging_file(ctx, acme_export(tmp_path, "both.csv", inv1="200.00"), as_of=date(2026, 11, 25))
    assert acme_on_the_list(ctx, ids)[0] == before - 80000  # now through the ledger, once


def test_a_write_off_closes_when_an_import_shows_it_as_a_credit_not_a_payment(
    ctx: AppContext, clock: FixedClock, tmp_path: Path
) -> None:
    ids = seed_world(ctx)
    before, _ = acme_on_the_list(ctx, ids)
    chat = Conversation(ctx)
    card = approved(chat, ctx, "writeoff acme dental 100.10 INV-4 uncollectible", ALEX)
    assert acme_on_the_list(ctx, ids)[0] == before - 10010
    clock.advance(hours=8)
    # INV-4 ($100.10) leaves the export: paid or written off, an aging file cannot say which.
    path = acme_export(tmp_path, "off.csv")
    path.write_text("".join(line for line in path.read_text().splitlines(keepends=True) if "INV-4" not in line))
    import_aging_file(ctx, path, as_of=date(2026, 11, 23))
    assert task(ctx).status is AdjustmentStatus.OPEN
    clock.advance(hours=24)
    adjusted = acme_export(tmp_path, "adj.csv", extra="C100,Acme Dental Group,ADJ-7,Credit,2026-11-24,-100.10\n")
    import_aging_file(ctx, adjusted, as_of=date(2026, 11, 24))
    chat.deliver()
    assert task(ctx).status is AdjustmentStatus.SHOWN
    assert "an aging import shows it" in chat.messenger.updates(card.ref)[-1].reply.text


# --- from a dispute ---------------------------------------------------------------------------------


def test_an_upheld_dispute_asks_for_its_credit_in_one_step_and_counts_once(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    before, _ = acme_on_the_list(ctx, ids)
    chat = Conversation(ctx)
    [opened] = chat.say(DANA, "dispute acme dental INV-1 450 billed twice for the October cleaning")
    assert opened.tone is Tone.SUCCESS
    replies = chat.say(MARIA, "resolve 2 upheld --credit rate was wrong")
    assert [r.title for r in replies] == [
        "Dispute #2 resolved: upheld",
        "Approval requested: credit memo for Acme Dental Group (request #1)",
    ]
    card = chat.last_post("approvals")
    assert field(card.reply, "Asked") == (
        "Credit $450.00 on INV-1 of Acme Dental Group (C100): dispute #2 upheld: rate was wrong"
    )
    assert not any(s.reply.title.startswith("Credit due") for s in chat.messenger.posts("finance"))
    assert decide(chat, CHRIS, card, "button").tone is Tone.SUCCESS
    assert field(chat.last_post("finance").reply, "Do") == "Issue a credit memo of $450.00 for INV-1, Acme Dental Group"
    assert task(ctx).dispute_id == 2
    collectible, reasons = acme_on_the_list(ctx, ids)
    assert collectible == before - 45000  # the dispute keeps it aside; the credit does not take it twice


@pytest.mark.parametrize(
    "text, says",
    [
        ("resolve 2 rejected --credit customer found the note", "--credit goes with upheld"),
        ("resolve 1 upheld --credit", "dispute #1 names no invoice"),
    ],
)
def test_credit_from_a_dispute_that_cannot_have_one_is_refused(ctx: AppContext, text: str, says: str) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    chat.say(DANA, "dispute acme dental INV-1 450 billed twice")
    before = row_counts(ctx)
    reply = refused(chat.say(MARIA, text))
    assert says in reply.title, reply
    assert row_counts(ctx) == before


def test_help_names_the_new_commands(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    [reply] = chat.say(DANA, "help")
    usages = [r.title for r in reply.rows]
    assert "credit <customer> <invoice> <amount> <reason>" in usages
    assert "writeoff <customer> <amount> <reason>" in usages
    [about] = chat.say(DANA, "help resolve")
    assert "resolve 7 upheld --credit rate was wrong" in [r.title for r in about.rows]


def test_the_task_card_is_redrawn_from_the_database_as_it_stands(ctx: AppContext) -> None:
    """What a Teams refresh or a redraw after a restart shows: the posted card while open, the
    closed card (no buttons) once finance answered."""
    seed_world(ctx)
    chat = Conversation(ctx)
    card = approved(chat, ctx, CREDIT_400, MARIA)
    key = f"adjustment:{task(ctx).id}"
    with ctx.sessions() as session:
        assert current_card(session, ctx, key) == replace(card.reply, where=None, track=None, mentions=())
    chat.click(PRIYA, card, "Done")
    with ctx.sessions() as session:
        drawn = current_card(session, ctx, key)
        assert current_card(session, ctx, "adjustment:999999") is None
    assert drawn is not None and drawn.buttons == () and drawn.text.startswith("Done by Priya Shah")


def test_an_approved_write_off_of_what_is_past_due_lets_a_clearance_through(ctx: AppContext) -> None:
    """Acme Ortho owes $800, all past due. While nothing is approved a clearance goes to the
    collector; once the controller approves writing off $300 the card says $500; with all $800
    written off (not yet booked by finance) nothing is left past due and it clears at once."""
    seed_world(ctx)
    chat = Conversation(ctx)
    chat.say("jo.park@example.com", "clear acme ortho for scheduling on 12/1")
    [card] = [s for s in chat.messenger.directs(DANA) if s.reply.buttons]
    assert "Not cleared at once: $800.00 past due." in card.reply.text
    decide(chat, ALEX, ask(chat, DANA, "writeoff acme ortho 300 customer closed one clinic"), "button")
    [answer] = chat.say(CHRIS, "clear acme ortho for the product release on 12/1")
    cards = [s for s in chat.messenger.directs(DANA) if s.reply.buttons]
    assert "Not cleared at once: $500.00 past due." in cards[-1].reply.text, answer
    decide(chat, ALEX, ask(chat, DANA, "writeoff acme ortho 500 customer closed its doors"), "button")
    [answer] = chat.say(CHRIS, "clear acme ortho for billing on 12/1")
    assert answer.tone is Tone.SUCCESS and answer.title.startswith("Cleared: Acme Ortho (C200)"), answer
