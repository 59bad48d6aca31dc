"""Approval threads, as conversations: a collector asks for a hold, a release, a fee waiver or a
payment plan; the approvals channel gets one card with the whole account; an approver decides by
button or by a reply in the card's thread; the card, the requester, the ledger and the hold
channels all show the decision. Refusals, double clicks, stale cards, two approvers at once and
the reminder/expiry timers (on an injected clock) are here too."""

from __future__ import annotations

import io
import itertools
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select

from bot.terminal import TerminalMessenger, converse, terminal_user
from commands.calendar import BusinessCalendar
from commands.context import AppContext
from commands.holds import active_holds, place_hold, release_hold
from commands.messages import Action, ChatUser, Incoming, Reply, Tone
from commands.outbox import enqueue
from commands.router import handle
from commands.workflows.approval_timers import run_timers
from commands.workflows.plans import schedule, split_total
from storage.db import make_engine, make_session_factory
from storage.models import (
    ApprovalRequest,
    ApprovalStatus,
    Customer,
    FeeWaiver,
    Hold,
    HoldStatus,
    PaymentPlan,
    TeamMember,
)
from tests.support.approvals import ALEX, CHRIS, DANA, MARIA, PRIYA, SAM, ask, audit, decide, request_of, thread_posts
from tests.support.harness import Conversation
from tests.support.world import field, refused, row_counts, seed_world

CHICAGO = ZoneInfo("America/Chicago")
HOLD_APPROVERS = "a manager, controller or VP finance"


def chicago(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHICAGO).astimezone(UTC)


def member_id(ctx: AppContext, email: str) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(TeamMember.id).where(TeamMember.email == email))


# --- each kind end to end ---------------------------------------------------------------------


def _hold_placed(ctx: AppContext, chat: Conversation, ids: dict[str, int]) -> None:
    with ctx.sessions() as session:
        [hold] = active_holds(session, ids["C200"])
    assert (hold.reason, hold.placed_by_id) == ("final invoice 120 days past due", member_id(ctx, MARIA))
    for channel in ("client-services", "sales"):
        [post] = chat.messenger.posts(channel)
        assert post.reply.text == (
            "Product release hold placed on Acme Ortho (C200): final invoice 120 days past due. "
            "Approved by Maria Lopez."
        )
    assert [e.entity_id for e in audit(ctx, "hold.placed")] == [hold.id]


def _hold_released(ctx: AppContext, chat: Conversation, ids: dict[str, int]) -> None:
    with ctx.sessions() as session:
        hold = session.scalar(select(Hold).where(Hold.customer_id == ids["C100"]))
    assert (hold.status, hold.release_reason, hold.released_by_id) == (
        HoldStatus.RELEASED,
        "paid in full by wire",
        member_id(ctx, MARIA),
    )
    for channel in ("client-services", "sales"):
        [post] = chat.messenger.posts(channel)
        assert post.reply.text == (
            "Product release hold released on Acme Dental Group (C100): paid in full by wire. Released by Maria Lopez."
        )
    assert len(audit(ctx, "hold.released")) == 1


def _fee_waived(ctx: AppContext, chat: Conversation, ids: dict[str, int]) -> None:
    with ctx.sessions() as session:
        [waiver] = session.scalars(select(FeeWaiver)).all()
    assert (waiver.customer_id, waiver.fee, waiver.amount, waiver.approved_by_id) == (
        ids["C100"],
        "card surcharge",
        Decimal("35.00"),
        member_id(ctx, MARIA),
    )
    assert chat.messenger.posts("sales") == []
    assert audit(ctx, "fee_waiver.created")[0].data["amount"] == "35.00"


def _plan_created(ctx: AppContext, chat: Conversation, ids: dict[str, int]) -> None:
    with ctx.sessions() as session:
        [plan] = session.scalars(select(PaymentPlan)).all()
        instalments = [(i.due_date, i.amount, i.status) for i in plan.instalments]
    assert (plan.customer_id, plan.total, plan.cadence, plan.approved_by_id) == (
        ids["C300"],
        Decimal("1200.00"),
        "monthly",
        member_id(ctx, CHRIS),
    )
    # 1 Jan 2027 is New Year's Day: that instalment rolls to Monday 4 Jan.
    assert instalments == [
        (date(2026, 12, 1), Decimal("300.00"), "due"),
        (date(2027, 1, 4), Decimal("300.00"), "due"),
        (date(2027, 2, 1), Decimal("300.00"), "due"),
        (date(2027, 3, 1), Decimal("300.00"), "due"),
    ]
    assert len(audit(ctx, "plan.created")) == 1


KINDS = {
    "hold": (
        "hold acme ortho final invoice 120 days past due",
        MARIA,
        "Approval needed: hold on Acme Ortho",
        "Put Acme Ortho (C200) on hold: final invoice 120 days past due",
        _hold_placed,
    ),
    "release": (
        "release acme dental paid in full by wire",
        MARIA,
        "Approval needed: hold release for Acme Dental Group",
        "Release the hold on Acme Dental Group (C100): paid in full by wire",
        _hold_released,
    ),
    "waiver": (
        'waive acme dental 35 "card surcharge" paid by card at our request',
        MARIA,
        "Approval needed: fee waiver for Acme Dental Group",
        "Waive card surcharge of $35.00 for Acme Dental Group (C100): paid by card at our request",
        _fee_waived,
    ),
    "plan": (
        "plan summit ortho 1,200 4 monthly 12/1 lost a big contract",
        CHRIS,
        "Approval needed: payment plan for Summit Ortho, P.C.",
        "Let Summit Ortho, P.C. (C300) pay $1,200.00 in 4 monthly instalments from Tue 1 Dec 2026: lost a big contract",
        _plan_created,
    ),
}


@pytest.mark.parametrize("how", ["button", "thread"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_request_card_approval_and_effect(ctx: AppContext, kind: str, how: str) -> None:
    ids = seed_world(ctx)
    text, approver, title, asked, check_effect = KINDS[kind]
    chat = Conversation(ctx)
    card = ask(chat, DANA, text)
    request = request_of(ctx, card)
    assert card.reply.title == title and card.ref.where.channel == "approvals"
    assert field(card.reply, "Asked") == asked
    assert field(card.reply, "Requested by") == "Dana Reyes, Mon 23 Nov 2026 9:00 AM CST"
    assert field(card.reply, "Request") == f"#{request.id}"
    assert field(card.reply, "Collector") == "Dana Reyes"
    assert [(b.label, b.value) for b in card.reply.buttons] == [
        ("Approve", {"id": request.id}),
        ("Reject", {"id": request.id, "needs": "reason"}),
    ]
    if kind in ("release", "waiver"):  # Acme Dental: balance, aging, the hold, the dispute, the last call
        assert (field(card.reply, "Balance"), field(card.reply, "90+ days")) == ("$3,350.10", "$2,000.00")
        titles = [r.title for r in card.reply.rows]
        assert titles[0].startswith("Hold since") and titles[1].startswith("Dispute: $100.10")
        assert titles[2] == "Fri 20 Nov 2026 9:30 AM CST call, no-answer"
    if kind == "plan":
        assert card.reply.rows[1].title == "Instalment 2 of 4: $300.00 due Mon 4 Jan 2027"
        assert card.reply.rows[4].title == "Promise: $300.00 by Tue 1 Dec 2026"
        assert field(card.reply, "Who may approve") == "a controller or VP finance"

    answer = decide(chat, approver, card, how)
    assert answer.tone is Tone.SUCCESS and answer.title.startswith("Approved:"), answer
    check_effect(ctx, chat, ids)
    decided = request_of(ctx, card)
    assert (decided.status, decided.decided_by_id) == (ApprovalStatus.APPROVED, member_id(ctx, approver))
    name = ctx.team.member(approver).name
    [update] = chat.messenger.updates(card.ref)
    assert update.reply.title == title.replace("Approval needed", "Approved") and update.reply.buttons == ()
    assert update.reply.text.startswith(f"Approved by {name} at Mon 23 Nov 2026 9:00 AM CST")
    [in_thread] = thread_posts(chat, card)
    [direct] = chat.messenger.directs(DANA)
    for told in (in_thread, direct.reply):
        assert told.text.startswith(f"For Dana Reyes: Approved by {name} at Mon 23 Nov 2026 9:00 AM CST")
    assert [e.entity_id for e in audit(ctx, "approval.requested")] == [request.id]
    [event] = audit(ctx, "approval.approved")
    assert (event.entity_id, event.actor, event.data["kind"]) == (request.id, approver, request.kind.value)


@pytest.mark.parametrize("how", ["button", "thread"])
def test_reject_says_why_and_changes_nothing_else(ctx: AppContext, how: str) -> None:
    ids = seed_world(ctx)
    chat = Conversation(ctx)
    card = ask(chat, DANA, "hold acme ortho retainer unpaid")
    answer = decide(chat, MARIA, card, how, approve=False, reason="they paid the retainer this morning")
    assert answer.title.startswith("Rejected: hold on Acme Ortho")
    [update] = chat.messenger.updates(card.ref)
    assert update.reply.text.startswith(
        "Rejected by Maria Lopez at Mon 23 Nov 2026 9:00 AM CST — they paid the retainer this morning"
    )
    [direct] = chat.messenger.directs(DANA)
    assert "they paid the retainer this morning" in direct.reply.text
    with ctx.sessions() as session:
        assert active_holds(session, ids["C200"]) == []
    assert request_of(ctx, card).decision_reason == "they paid the retainer this morning"
    assert chat.messenger.posts("client-services") == [] and len(audit(ctx, "approval.rejected")) == 1


@pytest.mark.parametrize("how", ["button", "thread"])
def test_reject_needs_a_reason(ctx: AppContext, how: str) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    card = ask(chat, DANA, "hold acme ortho retainer unpaid")
    before = row_counts(ctx)
    reply = refused([decide(chat, MARIA, card, how, approve=False)])
    assert "reject because <reason>" in reply.title
    assert row_counts(ctx) == before and request_of(ctx, card).status is ApprovalStatus.PENDING


# --- who may decide ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requester", "text", "decider", "why", "says", "names"),
    [
        (
            DANA,
            "hold acme ortho retainer unpaid",
            SAM,
            "wrong_role",
            f"That takes {HOLD_APPROVERS}",
            "Maria Lopez, Chris Wong, Alex Kim",
        ),
        (
            MARIA,
            "hold acme ortho retainer unpaid",
            MARIA,
            "self_approval",
            f"Someone else has to decide it: {HOLD_APPROVERS}",
            "Chris Wong, Alex Kim",
        ),
        (
            DANA,
            "waive acme dental 300 surcharge paid by card",
            MARIA,
            "over_limit",
            "needs a controller or VP finance",
            "Chris Wong, Alex Kim",
        ),
        (
            DANA,
            "plan summit ortho 1,200 4 monthly 12/1",
            MARIA,
            "wrong_role",
            "That takes a controller or VP finance",
            "Chris Wong, Alex Kim",
        ),
    ],
)
def test_refused_deciders_are_told_who_may_and_audited(
    ctx: AppContext, requester: str, text: str, decider: str, why: str, says: str, names: str
) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    card = ask(chat, requester, text)
    reply = refused(chat.click(decider, card, "Approve"))
    assert says in reply.text and f"({names})" in reply.text and "Nothing was changed" in reply.text
    [event] = audit(ctx, "approval.refused")
    assert (event.actor, event.data["why"], event.entity_id) == (decider, why, request_of(ctx, card).id)
    assert request_of(ctx, card).status is ApprovalStatus.PENDING and chat.messenger.updates(card.ref) == []
    assert audit(ctx, "approval.approved") == []


def test_a_waiver_over_the_manager_limit_goes_to_the_controller(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    card = ask(chat, DANA, "waive acme dental 300 surcharge paid by card")
    refused(chat.click(MARIA, card, "Approve"))
    assert decide(chat, CHRIS, card, "button").title.startswith("Approved:")
    with ctx.sessions() as session:
        approved_by = session.scalar(select(FeeWaiver.approved_by_id))
    assert approved_by == member_id(ctx, CHRIS)


def test_finance_may_ask_for_a_hold_but_not_for_a_waiver(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    ask(chat, PRIYA, "hold acme ortho retainer unpaid")
    reply = refused(chat.say(PRIYA, "waive acme dental 35 surcharge paid by card"))
    assert reply.title == "You can't ask for a fee waiver for Acme Dental Group"
    [event] = audit(ctx, "approval.request_refused")
    assert (event.actor, event.data["kind"]) == (PRIYA, "waiver")
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ApprovalRequest)) == 1


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "hold acme dental final invoice",
            "Acme Dental Group (C100) is already on hold since Fri 20 Nov 2026 10:00 AM CST",
        ),
        ("hold acme ortho", "say why the account should go on hold"),
        ("hold nobody inc overdue", "no customer matches 'nobody'"),
        ("release acme ortho", "Acme Ortho (C200) has no active hold to release"),
        ("waive acme dental 0 surcharge reason", "amounts must be more than zero"),
        ("waive acme dental -35 surcharge reason", "amounts must be positive"),
        ("waive acme dental 35", "which fee?"),
        ("waive acme dental 35 surcharge", "say why the fee should be waived"),
        ("plan summit ortho 1,600 4 monthly 12/1", "$1,600.00 is more than the open balance"),
        ("plan summit ortho 1,200 1 monthly 12/1", "a plan has 2 to 24 instalments, not 1"),
        ("plan summit ortho 1,200 25 weekly 12/1", "a plan has 2 to 24 instalments, not 25"),
        ("plan summit ortho 1,200 4 monthly 2026-11-20", "can't be due in the past (Fri 20 Nov 2026)"),
        ("plan summit ortho 1,200 4 daily 12/1", "how often? Say weekly, biweekly or monthly"),
        ("plan summit ortho 0.03 4 weekly 12/1", "$0.03 can't be split into 4 instalments"),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(ctx: AppContext, text: str, says: str) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    chat = Conversation(ctx)
    reply = refused(chat.say(DANA, text))
    assert says in reply.title, reply
    assert row_counts(ctx) == before and chat.messenger.sent == []


def test_a_second_request_of_the_same_kind_waits_for_the_first(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    card = ask(chat, DANA, "hold acme ortho retainer unpaid")
    reply = refused(chat.say(SAM, "hold acme ortho final invoice"))
    assert f"already waiting for approval (request #{request_of(ctx, card).id})" in reply.title


def test_approve_outside_an_approval_thread_is_refused(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    assert "works as a reply in the thread of an approval card" in refused(chat.say(MARIA, "approve")).title


# --- exactly once ------------------------------------------------------------------------------


def test_double_click_decides_once_and_says_who_decided(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    chat = Conversation(ctx)
    card = ask(chat, DANA, "hold acme ortho retainer unpaid")
    decide(chat, MARIA, card, "button")
    for email in (MARIA, CHRIS):
        [again] = chat.click(email, card, "Approve")
        assert again.private and again.title == f"Request #{request_of(ctx, card).id} is no longer waiting"
        assert again.text.startswith("Approved by Maria Lopez at Mon 23 Nov 2026 9:00 AM CST")
    with ctx.sessions() as session:
        assert len(active_holds(session, ids["C200"])) == 1
    assert len(audit(ctx, "approval.approved")) == 1 and len(chat.messenger.posts("sales")) == 1
    assert len(chat.messenger.updates(card.ref)) == 1


@pytest.mark.parametrize("approvers", [(MARIA, CHRIS), (CHRIS, CHRIS)], ids=["two-approvers", "double-click"])
def test_simultaneous_approvals_decide_once(ctx: AppContext, engine: Engine, approvers: tuple[str, str]) -> None:
    ids = seed_world(ctx)
    card = ask(Conversation(ctx), DANA, "hold acme ortho retainer unpaid")
    request_id = request_of(ctx, card).id
    barrier, answers = threading.Barrier(2), [Reply(title="")] * 2

    def approve(slot: int, email: str) -> None:
        own = make_engine(engine.url.render_as_string(hide_password=False))
        try:
            other = AppContext(
                sessions=make_session_factory(own), team=ctx.team, calendar=ctx.calendar, clock=ctx.clock
            )
            press = Incoming(
                user=ChatUser("test", email, email),
                where=card.ref.thread(),
                action=Action("approval.approve", {"id": request_id}),
            )
            barrier.wait()
            replies = handle(other, press)
            [answers[slot]] = [r for r in replies if r.where is None and r.to_user is None and r.replaces is None]
        finally:
            own.dispose()

    threads = [threading.Thread(target=approve, args=(k, email)) for k, email in enumerate(approvers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.title.split(":")[0] for a in answers) == ["Approved", f"Request #{request_id} is no longer waiting"]
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Hold).where(Hold.customer_id == ids["C200"])) == 1
    assert len(audit(ctx, "approval.approved")) == 1 and len(audit(ctx, "hold.placed")) == 1


def test_a_hold_is_released_once_when_payment_and_approval_race(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    at = ctx.clock.now()
    with ctx.sessions.begin() as session:
        [hold] = active_holds(session, ids["C100"])
        first = release_hold(session, ctx, hold=hold, actor_email=PRIYA, reason="payment confirmed by finance", at=at)
        second = release_hold(session, ctx, hold=hold, actor_email=MARIA, reason="release approved", at=at)
    assert [r.where.channel for r in first] == ["client-services", "sales"] and second == []
    assert first[0].text == (
        "Product release hold released on Acme Dental Group (C100): payment confirmed by finance. "
        "Released by Priya Shah."
    )
    assert len(audit(ctx, "hold.released")) == 1


def test_approving_a_release_after_a_payment_released_the_hold_says_so(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    chat = Conversation(ctx)
    card = ask(chat, DANA, "release acme dental paid in full by wire")
    with ctx.sessions.begin() as session:  # finance confirms a payment meanwhile
        [hold] = active_holds(session, ids["C100"])
        release_hold(
            session, ctx, hold=hold, actor_email=PRIYA, reason="payment confirmed by finance", at=ctx.clock.now()
        )
    answer = decide(chat, MARIA, card, "thread")
    assert answer.title.startswith("Approved:") and "There was no active hold left to release." in answer.text
    assert chat.messenger.posts("sales") == [] and len(audit(ctx, "hold.released")) == 1


def test_place_hold_records_the_approver_and_announces(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    with ctx.sessions.begin() as session:
        customer = session.get(Customer, ids["C300"])
        hold, replies = place_hold(
            session, ctx, customer=customer, reason="retainer unpaid", actor_email=ALEX, at=ctx.clock.now()
        )
    assert hold.placed_by_id == member_id(ctx, ALEX)
    assert [(r.where.channel, r.text) for r in replies] == [
        (c, "Product release hold placed on Summit Ortho, P.C. (C300): retainer unpaid. Approved by Alex Kim.")
        for c in ("client-services", "sales")
    ]


# --- timers ------------------------------------------------------------------------------------


def tick(ctx: AppContext, chat: Conversation) -> list[Reply]:
    """One scheduler pass: the timers' changes commit, then their messages go out."""
    with ctx.sessions.begin() as session:
        replies = run_timers(session, ctx)
        enqueue(session, ctx, replies)
    chat.deliver()
    return replies


def test_reminder_then_expiry_skip_the_weekend_and_a_stale_card_changes_nothing(ctx: AppContext, clock) -> None:
    ids = seed_world(ctx)
    clock.at = chicago(2026, 11, 20, 15, 0)  # Friday 15:00
    chat = Conversation(ctx)
    card = ask(chat, DANA, "hold acme ortho retainer unpaid")
    for moment in (chicago(2026, 11, 22, 12, 0), chicago(2026, 11, 23, 14, 59)):  # Sunday; Monday 14:59
        clock.at = moment
        assert tick(ctx, chat) == []
    clock.at = chicago(2026, 11, 23, 15, 0)  # one business day: Fri 15-17 and Mon 9-15
    [reminder] = tick(ctx, chat)
    assert chat.messenger.sent[-1].ref.where == card.ref.thread()
    assert f"Who may approve: {HOLD_APPROVERS}" in reminder.text
    assert set(reminder.mentions) == {MARIA, CHRIS, ALEX}  # the people who may decide are notified
    assert request_of(ctx, card).reminded_at == clock.at and len(audit(ctx, "approval.reminded")) == 1
    clock.at = chicago(2026, 11, 25, 14, 59)
    assert tick(ctx, chat) == []  # reminded once only, and not yet three business days
    clock.at = chicago(2026, 11, 25, 15, 0)
    tick(ctx, chat)
    assert request_of(ctx, card).status is ApprovalStatus.EXPIRED
    [update] = chat.messenger.updates(card.ref)
    assert update.reply.title == "Expired: hold on Acme Ortho" and update.reply.buttons == ()
    assert update.reply.text.startswith("Expired at Wed 25 Nov 2026 3:00 PM CST: no decision after 3 business days.")
    [direct] = chat.messenger.directs(DANA)
    assert direct.reply.title.startswith("Expired: hold on Acme Ortho") and len(audit(ctx, "approval.expired")) == 1
    assert tick(ctx, chat) == []

    [stale] = chat.click(MARIA, card, "Approve")  # the card as it was before it expired
    assert stale.text.startswith("Expired at Wed 25 Nov 2026 3:00 PM CST") and "Nothing was changed" in stale.text
    with ctx.sessions() as session:
        assert active_holds(session, ids["C200"]) == []
    assert audit(ctx, "approval.approved") == []


def test_thanksgiving_is_not_a_business_day_for_reminders_or_expiry(ctx: AppContext, clock) -> None:
    seed_world(ctx)
    clock.at = chicago(2026, 11, 25, 10, 0)  # Wednesday before Thanksgiving
    chat = Conversation(ctx)
    card = ask(chat, DANA, "waive acme dental 35 surcharge paid by card")
    for moment in (chicago(2026, 11, 26, 16, 0), chicago(2026, 11, 27, 9, 59)):
        clock.at = moment
        assert tick(ctx, chat) == []
    clock.at = chicago(2026, 11, 27, 10, 0)
    assert [r.title for r in tick(ctx, chat)] == [
        f"Reminder: fee waiver for Acme Dental Group is waiting for a decision (request #{request_of(ctx, card).id})"
    ]
    clock.at = chicago(2026, 11, 30, 17, 0)  # Fri and Mon count; Thursday did not
    assert tick(ctx, chat) == [] and request_of(ctx, card).status is ApprovalStatus.PENDING
    clock.at = chicago(2026, 12, 1, 10, 0)
    tick(ctx, chat)
    assert request_of(ctx, card).status is ApprovalStatus.EXPIRED


# --- plan schedules ----------------------------------------------------------------------------

US = BusinessCalendar("US")


def test_monthly_from_the_31st_clamps_to_month_end_without_drifting() -> None:
    plan = schedule(Decimal("1000.00"), 4, "monthly", date(2029, 1, 31), US)
    # 28 Feb (clamped), 31 Mar is a Saturday (rolls to Mon 2 Apr), and April is back to the 30th.
    assert [i.due for i in plan] == [date(2029, 1, 31), date(2029, 2, 28), date(2029, 4, 2), date(2029, 4, 30)]
    plan = schedule(Decimal("1000.00"), 4, "monthly", date(2026, 12, 31), US)
    # 31 Jan and 28 Feb 2027 are Sundays; 31 Mar is a Wednesday, not the 28th carried over.
    assert [i.due for i in plan] == [date(2026, 12, 31), date(2027, 2, 1), date(2027, 3, 1), date(2027, 3, 31)]


def test_amounts_split_to_the_cent_with_the_remainder_last() -> None:
    assert split_total(Decimal("100.00"), 3) == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert split_total(Decimal("0.05"), 2) == [Decimal("0.02"), Decimal("0.03")]
    for total, n in itertools.product((Decimal("1234.57"), Decimal("0.24"), Decimal("999999.99")), range(2, 25)):
        parts = split_total(total, n)
        assert sum(parts) == total and len(parts) == n and max(parts) - min(parts) < Decimal("0.01") * n


def test_weekly_and_biweekly_dates_roll_forward_over_holidays() -> None:
    weekly = schedule(Decimal("400.00"), 4, "weekly", date(2026, 11, 19), US)
    assert [i.due for i in weekly] == [date(2026, 11, 19), date(2026, 11, 27), date(2026, 12, 3), date(2026, 12, 10)]
    biweekly = schedule(Decimal("300.00"), 3, "biweekly", date(2026, 12, 11), US)
    assert [i.due for i in biweekly] == [date(2026, 12, 11), date(2026, 12, 28), date(2027, 1, 8)]


# --- the terminal chat ---------------------------------------------------------------------------


def test_terminal_chat_request_then_reject_with_a_reason(ctx: AppContext) -> None:
    seed_world(ctx)
    ids = (f"m{n}" for n in itertools.count(1))
    out = io.StringIO()
    script = io.StringIO(
        "hold acme ortho retainer unpaid\n"
        "as chris.wong@example.com\n"
        "click m1 Reject they paid the retainer this morning\n"
        "in m1: approve\n"
    )
    converse(
        ctx, terminal_user(DANA), script, out, prompt=False, messenger=TerminalMessenger(out, new_id=lambda: next(ids))
    )
    text = out.getvalue()
    assert "[posted to #approvals as m1]" in text and "Approval needed: hold on Acme Ortho" in text
    assert "Rejected by Chris Wong at Mon 23 Nov 2026 9:00 AM CST — they paid the retainer this morning" in text
    assert "Request #1 is no longer waiting" in text
    with ctx.sessions() as session:
        assert session.scalar(select(ApprovalRequest.status)) is ApprovalStatus.REJECTED
