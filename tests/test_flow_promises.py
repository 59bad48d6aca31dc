"""Promises and plan instalments over time, with the clock moved by hand (no sleeps).

The rule under test (commands.promise_checks): a commitment due on D with one business day of grace may
still be met on D + 1 business day and is broken the day after that, team-local."""

from __future__ import annotations

import dataclasses
import io
import threading
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select

from bot.terminal import TerminalMessenger, converse, terminal_user
from commands.calllist import build_call_list
from commands.clock import FixedClock
from commands.context import AppContext
from commands.messages import Reply, Tone, Where
from commands.plan_checks import apply_payment_to_instalments
from commands.promise_checks import check_promises
from commands.reports import promise_kept_rate
from commands.settlement import apply_payment_to_promises
from scheduler.jobs import JOBS
from storage.db import make_engine, make_session_factory
from storage.models import (
    AuditEvent,
    Customer,
    Invoice,
    InvoiceKind,
    Payment,
    PaymentPlan,
    PlanInstalment,
    PlanStatus,
    Promise,
    PromiseStatus,
    TeamMember,
)
from tests.support.harness import Conversation, RecordingMessenger, run_job
from tests.support.world import DANA, PRIYA, row_counts, seed_world

CHICAGO = ZoneInfo("America/Chicago")
SAM, CHRIS = "sam.okafor@example.com", "chris.wong@example.com"
FRI_20, MON_23, TUE_24 = date(2026, 11, 20), date(2026, 11, 23), date(2026, 11, 24)
WED_25, FRI_27, MON_30 = date(2026, 11, 25), date(2026, 11, 27), date(2026, 11, 30)


def at(day: date, hh: int = 9, mm: int = 0) -> datetime:
    """A moment of the team's day (Chicago), as the clock holds it."""
    return datetime.combine(day, time(hh, mm), CHICAGO).astimezone(UTC)


def check(ctx: AppContext) -> list[Reply]:
    """One run of the promise check, committed as the scheduler commits it."""
    with ctx.sessions.begin() as session:
        return check_promises(session, ctx)


def promise_typed_on(ctx: AppContext, clock: FixedClock, day: date, text: str, *, who: str = DANA) -> Promise:
    """``who`` records a promise in chat on ``day``; returns it."""
    clock.at = at(day, 10)
    [reply] = Conversation(ctx).say(who, text)
    assert reply.tone is Tone.SUCCESS, reply
    with ctx.sessions() as session:
        return session.scalars(select(Promise).order_by(Promise.id.desc())).first()


def status_of(ctx: AppContext, promise_id: int) -> PromiseStatus:
    with ctx.sessions() as session:
        return session.get_one(Promise, promise_id).status


def audit(ctx: AppContext, action: str) -> list[AuditEvent]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def pay(ctx: AppContext, erp_id: str, amount: str, received_on: date) -> None:
    """Finance confirms money from the customer; it settles promises the way the payment flows do."""
    with ctx.sessions.begin() as session:
        customer = session.scalars(select(Customer).where(Customer.erp_id == erp_id)).one()
        payment = Payment(
            customer_id=customer.id,
            amount=Decimal(amount),
            received_on=received_on,
            source="finance",
            created_at=ctx.clock.now(),
        )
        session.add(payment)
        session.flush()
        apply_payment_to_promises(
            session, payment=payment, at=ctx.clock.now(), actor=PRIYA, grace_days=1, calendar=ctx.calendar
        )


# --- the deadline, both sides of each edge ---------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(MON_23, 9), PromiseStatus.OPEN),  # Monday is the grace day
        (at(MON_23, 23, 59), PromiseStatus.OPEN),  # still Monday in Chicago (Tuesday 05:59 UTC)
        (at(TUE_24, 0, 0), PromiseStatus.BROKEN),  # the first minute after the grace day
        (at(TUE_24, 9), PromiseStatus.BROKEN),
    ],
)
def test_a_promise_due_friday_is_broken_once_monday_grace_is_over(
    ctx: AppContext, clock: FixedClock, moment: datetime, expected: PromiseStatus
) -> None:
    seed_world(ctx)
    promise = promise_typed_on(ctx, clock, date(2026, 11, 18), "promise acme dental 1,200 fri")
    assert promise.promised_date == FRI_20
    clock.at = moment
    replies = check(ctx)
    assert status_of(ctx, promise.id) is expected
    assert len(replies) == (1 if expected is PromiseStatus.BROKEN else 0)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (FRI_27, PromiseStatus.OPEN),  # Thanksgiving (Thu 26) skipped: Friday is the grace day
        (date(2026, 11, 28), PromiseStatus.OPEN),  # broken from the next business day, not the weekend
        (date(2026, 11, 29), PromiseStatus.OPEN),
        (MON_30, PromiseStatus.BROKEN),
    ],
)
def test_thanksgiving_does_not_count_as_the_grace_day(
    ctx: AppContext, clock: FixedClock, day: date, expected: PromiseStatus
) -> None:
    seed_world(ctx)
    promise = promise_typed_on(ctx, clock, MON_23, "promise acme dental 1,200 wed")
    assert promise.promised_date == WED_25
    clock.at = at(day, 12)
    check(ctx)
    assert status_of(ctx, promise.id) is expected


# --- what the collector is told, and what is written ------------------------------------------


def test_the_collector_who_took_the_promise_is_told_and_the_break_is_audited(
    ctx: AppContext, clock: FixedClock
) -> None:
    ids = seed_world(ctx)
    promise = promise_typed_on(ctx, clock, date(2026, 11, 18), "promise acme dental 1,200 fri")
    clock.at = at(TUE_24)
    [reply] = check(ctx)
    assert reply.to_user == DANA and reply.tone is Tone.WARNING
    assert reply.title == "Broken promise: Acme Dental Group (C100)"
    assert reply.text == (
        "Acme Dental Group (C100) broke its promise of $1,200.00 due Fri 20 Nov 2026 "
        "(paid $0.00). It moves up your call list."
    )
    assert [(b.label, b.value) for b in reply.buttons] == [
        ("Log call", {"customer": "C100"}),
        ("Promise", {"customer": "C100"}),
    ]
    [event] = audit(ctx, "promise.broken")
    assert (event.actor, event.entity_id, event.customer_id, event.at) == (
        "system:promise_checks",
        promise.id,
        ids["C100"],
        at(TUE_24),
    )
    assert event.data == {"amount": "1200.00", "paid_amount": "0.00", "promised_date": "2026-11-20"}
    with ctx.sessions() as session:
        assert session.get_one(Promise, promise.id).settled_on == TUE_24


def test_a_partly_paid_promise_is_broken_with_the_paid_part_stated(ctx: AppContext, clock: FixedClock) -> None:
    seed_world(ctx)
    promise = promise_typed_on(ctx, clock, date(2026, 11, 18), "promise acme dental 1,200 fri")
    clock.at = at(FRI_20, 15)
    pay(ctx, "C100", "400.00", FRI_20)
    clock.at = at(TUE_24)
    [reply] = check(ctx)
    assert "broke its promise of $1,200.00 due Fri 20 Nov 2026 (paid $400.00)" in reply.text
    assert status_of(ctx, promise.id) is PromiseStatus.BROKEN
    assert audit(ctx, "promise.broken")[0].data["paid_amount"] == "400.00"


def test_a_kept_promise_is_left_alone(ctx: AppContext, clock: FixedClock) -> None:
    seed_world(ctx)
    promise = promise_typed_on(ctx, clock, date(2026, 11, 18), "promise acme dental 1,200 fri")
    clock.at = at(MON_23, 11)
    pay(ctx, "C100", "1200.00", MON_23)  # on the grace day: kept
    assert status_of(ctx, promise.id) is PromiseStatus.KEPT
    before = row_counts(ctx)
    clock.at = at(TUE_24)
    assert check(ctx) == []
    assert status_of(ctx, promise.id) is PromiseStatus.KEPT
    assert row_counts(ctx) == before


def test_running_the_check_again_changes_nothing(ctx: AppContext, clock: FixedClock) -> None:
    seed_world(ctx)
    promise_typed_on(ctx, clock, date(2026, 11, 18), "promise acme dental 1,200 fri")
    clock.at = at(TUE_24)
    assert len(check(ctx)) == 1
    after_first = row_counts(ctx)
    clock.advance(minutes=15)
    assert check(ctx) == []
    clock.at = at(date(2026, 12, 1))  # a week later: still nothing new for this promise
    assert all("Acme Dental" not in r.text for r in check(ctx))
    assert len(audit(ctx, "promise.broken")) == 1
    assert row_counts(ctx)["promises"] == after_first["promises"]


def test_the_promise_of_someone_who_left_goes_to_the_accounts_collector(ctx: AppContext, clock: FixedClock) -> None:
    """Sam took the promise on Dana's account, then left the team file: Dana follows it up."""
    seed_world(ctx)
    promise_typed_on(ctx, clock, date(2026, 11, 18), "promise acme dental 1,200 fri", who=SAM)
    with ctx.sessions.begin() as session:
        session.scalars(select(TeamMember).where(TeamMember.email == SAM)).one().active = False
    clock.at = at(TUE_24)
    [reply] = check(ctx)
    assert reply.to_user == DANA


def test_a_promise_nobody_owns_is_posted_to_the_collections_channel(ctx: AppContext, clock: FixedClock) -> None:
    ids = seed_world(ctx)
    with ctx.sessions.begin() as session:
        session.add(
            Promise(
                customer_id=ids["C600"],
                amount=Decimal("900.00"),
                promised_date=FRI_20,
                created_at=at(date(2026, 11, 16)),
            )
        )
    clock.at = at(TUE_24)
    [reply] = check(ctx)
    assert reply.to_user is None and reply.where == Where("collections")
    assert reply.text == (
        "Zenith Labs (C600) broke its promise of 900.00 EUR due Fri 20 Nov 2026 "
        "(paid 0.00 EUR). Nobody on the team owns it."
    )


def test_a_promise_taken_by_someone_else_breaks_to_the_owner_and_the_taker(ctx: AppContext, clock: FixedClock) -> None:
    """Sam covers Dana's desk and takes Acme Dental's promise: when it breaks, Dana (the owner)
    gets the account back on her list and Sam hears the customer broke its word to him."""
    seed_world(ctx)
    promise_typed_on(ctx, clock, date(2026, 11, 18), "promise acme dental 1,200 fri", who=SAM)
    clock.at = at(TUE_24)
    owner, taker = check(ctx)
    assert (owner.to_user, taker.to_user) == (DANA, SAM)
    assert owner.text.endswith("It moves up your call list.")
    assert taker.text == (
        "Acme Dental Group (C100) broke its promise of $1,200.00 due Fri 20 Nov 2026 "
        "(paid $0.00). You took this promise; the account is Dana Reyes's."
    )
    assert len(audit(ctx, "promise.broken")) == 1


def test_the_scheduled_job_delivers_the_message(ctx: AppContext, clock: FixedClock) -> None:
    seed_world(ctx)
    promise_typed_on(ctx, clock, date(2026, 11, 18), "promise acme dental 1,200 fri")
    clock.at = at(TUE_24)
    messenger = RecordingMessenger()
    [job] = [j for j in JOBS if j.name == "promise_checks"]
    assert run_job(ctx, job, messenger).counts == {"replies": 1}
    [sent] = messenger.directs(DANA)
    assert sent.reply.title == "Broken promise: Acme Dental Group (C100)"


def test_the_whole_promise_flow_through_the_terminal_chat(ctx: AppContext, clock: FixedClock) -> None:
    """Dana takes a promise on Wednesday; Tuesday's check messages her; she presses Promise on
    that message and records a new one."""
    seed_world(ctx)
    out = io.StringIO()
    ids = iter(f"m{n}" for n in range(1, 100))
    messenger = TerminalMessenger(out, new_id=lambda: next(ids))
    dana = terminal_user(DANA, "Dana Reyes")
    clock.at = at(date(2026, 11, 18), 10)
    converse(ctx, dana, io.StringIO("promise acme dental 1,200 fri\n"), out, prompt=False, messenger=messenger)
    clock.at = at(TUE_24)
    [job] = [j for j in JOBS if j.name == "promise_checks"]
    run_job(ctx, job, messenger)
    converse(
        ctx,
        dana,
        io.StringIO("click m1 Promise\npromise acme dental 1,200 fri\n"),
        out,
        prompt=False,
        messenger=messenger,
    )
    text = out.getvalue()
    expected_in_order = [
        "Promise recorded for Acme Dental Group (C100)\n  Note: $100.10 of this account is in dispute; the "
        "customer may hold that back until it is resolved.\n  Amount: $1,200.00\n  By: Fri 20 Nov 2026",
        "[direct message to dana.reyes@example.com as m1]\nWarning: Broken promise: Acme Dental Group (C100)\n"
        "  Acme Dental Group (C100) broke its promise of $1,200.00 due Fri 20 Nov 2026 (paid $0.00). "
        "It moves up your call list.\n  [Log call] [Promise]",
        "Record a promise from Acme Dental Group (C100)",
        "Promise recorded for Acme Dental Group (C100)\n  Note: $100.10 of this account is in dispute; the "
        "customer may hold that back until it is resolved.\n  Amount: $1,200.00\n  By: Fri 27 Nov 2026",
    ]
    position = 0
    for part in expected_in_order:  # each one after the one before
        found = text.find(part, position)
        assert found >= 0, f"{part!r} not found after position {position} in:\n{text}"
        position = found + len(part)
    with ctx.sessions() as session:
        statuses = session.execute(
            select(Promise.promised_date, Promise.status)
            .where(Promise.promised_date < date(2026, 12, 1))
            .order_by(Promise.id)
        ).all()
    assert statuses == [(FRI_20, PromiseStatus.BROKEN), (FRI_27, PromiseStatus.OPEN)]


def test_a_broken_promise_moves_the_account_up_the_list(ctx: AppContext, clock: FixedClock) -> None:
    """While Acme Ortho's promise is open it is left off Dana's list; once broken it is back,
    ahead of an account owing six times as much for as long, which has no broken promise.
    The list and the check read the deadline the same way: Tuesday's list is the same before
    and after Tuesday's check, so nobody's list changes under them mid-morning."""
    ids = seed_world(ctx)
    with ctx.sessions.begin() as session:
        dana_id = session.get_one(Customer, ids["C200"]).collector_id
        birch = Customer(erp_id="C900", name="Birch Clinics", collector_id=dana_id, created_at=at(date(2026, 1, 5)))
        session.add(birch)
        session.flush()
        session.add(
            Invoice(
                customer_id=birch.id,
                number="B-1",
                kind=InvoiceKind.STANDARD,
                due_date=date(2026, 11, 1),
                amount=Decimal("5000.00"),
                open_balance=Decimal("5000.00"),
            )
        )
    promise_typed_on(ctx, clock, date(2026, 11, 18), "promise acme ortho 800 fri")

    def dana_list(day: date) -> list[tuple[str, tuple[str, ...]]]:
        with ctx.sessions() as session:
            return [(row.erp_id, row.reasons) for row in build_call_list(session, ctx, day=day, collector_email=DANA)]

    clock.at = at(MON_23)
    check(ctx)
    monday = dana_list(MON_23)
    assert "C200" not in [erp for erp, _ in monday]
    clock.at = at(TUE_24, 8)
    before_check = dana_list(TUE_24)
    check(ctx)
    tuesday = dana_list(TUE_24)
    assert tuesday == before_check
    assert [erp for erp, _ in monday] == ["C100", "C900", "C400"]
    assert [erp for erp, _ in tuesday] == ["C100", "C200", "C900", "C400"]
    assert tuesday[1] == ("C200", ("broke promise of 20 Nov", "$800 past due"))


# --- plan instalments --------------------------------------------------------------------------


def seed_plan(
    ctx: AppContext, ids: dict[str, int], *, dues: tuple[date, ...], paid: tuple[str, ...], approver: str | None = CHRIS
) -> int:
    """A $2,000 plan for Acme Dental in four $500 instalments, approved by ``approver``."""
    with ctx.sessions.begin() as session:
        approver_id = session.scalar(select(TeamMember.id).where(TeamMember.email == approver))
        plan = PaymentPlan(
            customer_id=ids["C100"],
            total=Decimal("2000.00"),
            cadence="weekly",
            approved_by_id=approver_id,
            created_at=at(date(2026, 11, 2)),
        )
        session.add(plan)
        session.flush()
        for due, paid_amount in zip(dues, paid, strict=True):
            session.add(
                PlanInstalment(
                    plan_id=plan.id,
                    due_date=due,
                    amount=Decimal("500.00"),
                    paid_amount=Decimal(paid_amount),
                    status="paid" if paid_amount == "500.00" else "due",
                )
            )
        return plan.id


WEEKLY = (date(2026, 11, 13), FRI_20, FRI_27, date(2026, 12, 4))


def dana_accounts(ctx: AppContext, day: date) -> list[str]:
    with ctx.sessions() as session:
        return [row.erp_id for row in build_call_list(session, ctx, day=day, collector_email=DANA)]


def plan_state(ctx: AppContext, plan_id: int) -> tuple[PlanStatus, list[str], list[Decimal]]:
    with ctx.sessions() as session:
        plan = session.get_one(PaymentPlan, plan_id)
        return plan.status, [i.status for i in plan.instalments], [i.paid_amount for i in plan.instalments]


WED_2 = date(2026, 12, 2)  # Fri 20 Nov + 1 business day of grace + 5 of plan grace (Thanksgiving skipped)


def test_a_missed_instalment_is_warned_about_then_defaults_the_plan_after_its_grace(
    ctx: AppContext, clock: FixedClock
) -> None:
    ids = seed_world(ctx)
    plan_id = seed_plan(ctx, ids, dues=WEEKLY, paid=("500.00", "120.00", "0.00", "0.00"))
    clock.at = at(MON_23)  # the grace day of Friday's instalment
    assert [r.title for r in check(ctx)] == []
    assert plan_state(ctx, plan_id)[0] is PlanStatus.ACTIVE
    clock.at = at(TUE_24)
    assert "C100" not in dana_accounts(ctx, TUE_24)  # a plan in good standing is not chased
    chris, dana = check(ctx)
    assert (chris.to_user, dana.to_user) == (CHRIS, DANA)
    assert chris.title == dana.title == "Missed plan instalment: Acme Dental Group (C100)"
    assert chris.text == (
        "Acme Dental Group (C100) missed instalment 2 of 4 ($500.00 due Fri 20 Nov 2026, "
        "$120.00 paid) of the plan you approved. The plan defaults on Wed 2 Dec 2026 unless "
        "it is paid by then."
    )
    assert dana.text == (
        "Acme Dental Group (C100) missed instalment 2 of 4 ($500.00 due Fri 20 Nov 2026, "
        "$120.00 paid) of its payment plan approved by Chris Wong. The plan defaults on "
        "Wed 2 Dec 2026 unless it is paid by then."
    )
    assert plan_state(ctx, plan_id)[:2] == (PlanStatus.ACTIVE, ["paid", "missed", "due", "due"])
    assert "C100" in dana_accounts(ctx, TUE_24)  # a missed instalment puts the account back on the list
    assert check(ctx) == [] and audit(ctx, "plan.defaulted") == []
    clock.at = at(date(2026, 12, 1))
    assert "Missed plan instalment: Acme Dental Group (C100)" in [r.title for r in check(ctx)]  # instalment 3
    clock.at = at(WED_2)
    chris, dana = [r for r in check(ctx) if r.title.startswith("Payment plan")]
    assert chris.title == dana.title == "Payment plan defaulted: Acme Dental Group (C100)"
    assert chris.text == (
        "Acme Dental Group (C100) missed instalment 2 of 4 ($500.00 due Fri 20 Nov 2026, "
        "$120.00 paid) and instalment 3 of 4 ($500.00 due Fri 27 Nov 2026) of the plan you "
        "approved. $620.00 of $2,000.00 paid under the plan."
    )
    assert dana.text.endswith("The plan is defaulted and the account is back on your call list.")
    assert plan_state(ctx, plan_id)[:2] == (PlanStatus.DEFAULTED, ["paid", "missed", "missed", "due"])
    missed = audit(ctx, "instalment.missed")
    [defaulted] = audit(ctx, "plan.defaulted")
    assert (missed[0].data["plan_id"], missed[0].data["due_date"], missed[0].customer_id) == (
        plan_id,
        "2026-11-20",
        ids["C100"],
    )
    assert (defaulted.entity_id, defaulted.data["missed"], defaulted.actor) == (
        plan_id,
        [m.entity_id for m in missed],
        "system:promise_checks",
    )
    clock.at = at(date(2026, 12, 9))  # later instalments of a defaulted plan are not chased again
    assert [r.title for r in check(ctx)] == ["Broken promise: Summit Ortho, P.C. (C300)"]
    assert len(audit(ctx, "instalment.missed")) == 2


def test_a_missed_instalment_paid_within_the_grace_keeps_the_plan(ctx: AppContext, clock: FixedClock) -> None:
    ids = seed_world(ctx)
    plan_id = seed_plan(ctx, ids, dues=WEEKLY, paid=("500.00", "0.00", "0.00", "0.00"))
    clock.at = at(TUE_24)
    check(ctx)
    with ctx.sessions.begin() as session:
        apply_payment_to_instalments(
            session, customer_id=ids["C100"], amount=Decimal("500.00"), at=clock.now(), actor=PRIYA
        )
    assert plan_state(ctx, plan_id)[:2] == (PlanStatus.ACTIVE, ["paid", "paid", "due", "due"])
    clock.at = at(WED_2, 8)
    check(ctx)
    assert plan_state(ctx, plan_id)[0] is PlanStatus.ACTIVE and audit(ctx, "plan.defaulted") == []


def test_with_no_plan_grace_the_plan_defaults_on_the_day_it_is_missed(ctx: AppContext, clock: FixedClock) -> None:
    ids = seed_world(ctx)
    timers = dataclasses.replace(ctx.team.workflow.timers, plan_default_grace_days=0)
    ctx.team = dataclasses.replace(ctx.team, workflow=dataclasses.replace(ctx.team.workflow, timers=timers))
    plan_id = seed_plan(ctx, ids, dues=WEEKLY, paid=("500.00", "0.00", "0.00", "0.00"))
    clock.at = at(TUE_24)
    assert [r.title for r in check(ctx)] == ["Payment plan defaulted: Acme Dental Group (C100)"] * 2
    assert plan_state(ctx, plan_id)[0] is PlanStatus.DEFAULTED


def test_the_collector_is_reminded_the_business_day_before_an_instalment(ctx: AppContext, clock: FixedClock) -> None:
    ids = seed_world(ctx)
    seed_plan(
        ctx,
        ids,
        dues=(date(2026, 11, 20), FRI_27, date(2026, 12, 4), date(2026, 12, 11)),
        paid=("500.00", "0.00", "0.00", "0.00"),
    )
    clock.at = at(date(2026, 11, 25))  # Wednesday; Thursday is Thanksgiving, so Friday is the next business day
    [reminder] = check(ctx)
    assert (reminder.to_user, reminder.title) == (DANA, "Plan instalment due Fri 27 Nov 2026: Acme Dental Group (C100)")
    assert reminder.text == (
        "Instalment 2 of 4 of its payment plan: $500.00 due Fri 27 Nov 2026. A call today keeps the plan on track."
    )
    assert check(ctx) == []  # once
    assert [e.data["due_date"] for e in audit(ctx, "instalment.reminded")] == ["2026-11-27"]


def test_a_plan_without_a_known_approver_is_escalated_in_the_approvals_channel(
    ctx: AppContext, clock: FixedClock
) -> None:
    ids = seed_world(ctx)
    seed_plan(ctx, ids, dues=WEEKLY, paid=("500.00", "0.00", "0.00", "0.00"), approver=None)
    clock.at = at(TUE_24)
    channel, dana = check(ctx)
    assert channel.where == Where("approvals") and dana.to_user == DANA
    assert "nobody on the team is recorded as its approver. The plan defaults on Wed 2 Dec 2026" in channel.text
    assert "of its payment plan. The plan defaults on" in dana.text
    clock.at = at(WED_2)
    channel, dana = [r for r in check(ctx) if r.title.startswith("Payment plan")]
    assert channel.where == Where("approvals") and "of its payment plan. The plan is defaulted" in dana.text


def test_payments_pay_the_oldest_instalments_and_complete_the_plan(ctx: AppContext, clock: FixedClock) -> None:
    ids = seed_world(ctx)
    plan_id = seed_plan(ctx, ids, dues=WEEKLY, paid=("500.00", "0.00", "0.00", "0.00"))
    with ctx.sessions.begin() as session:
        left = apply_payment_to_instalments(
            session, customer_id=ids["C100"], amount=Decimal("700.00"), at=clock.now(), actor=PRIYA
        )
    assert left == Decimal("0.00")
    assert plan_state(ctx, plan_id) == (
        PlanStatus.ACTIVE,
        ["paid", "paid", "due", "due"],
        [Decimal("500.00"), Decimal("500.00"), Decimal("200.00"), Decimal("0.00")],
    )
    with ctx.sessions.begin() as session:
        left = apply_payment_to_instalments(
            session, customer_id=ids["C100"], amount=Decimal("1000.00"), at=clock.now(), actor=PRIYA
        )
    assert left == Decimal("200.00")
    assert plan_state(ctx, plan_id)[:2] == (PlanStatus.COMPLETED, ["paid"] * 4)
    assert [e.data["applied"] for e in audit(ctx, "instalment.paid")] == ["500.00", "300.00", "500.00"]
    assert [e.data["applied"] for e in audit(ctx, "instalment.part_paid")] == ["200.00"]
    [completed] = audit(ctx, "plan.completed")
    assert (completed.entity_id, completed.actor) == (plan_id, PRIYA)
    with ctx.sessions.begin() as session:  # nothing left to pay: the money is for something else
        assert apply_payment_to_instalments(
            session, customer_id=ids["C100"], amount=Decimal("50.00"), at=clock.now(), actor=PRIYA
        ) == Decimal("50.00")


def test_a_defaulted_plan_takes_no_money(ctx: AppContext, clock: FixedClock) -> None:
    ids = seed_world(ctx)
    plan_id = seed_plan(ctx, ids, dues=WEEKLY, paid=("500.00", "0.00", "0.00", "0.00"))
    clock.at = at(WED_2)
    check(ctx)
    assert plan_state(ctx, plan_id)[0] is PlanStatus.DEFAULTED
    before = row_counts(ctx)
    with ctx.sessions.begin() as session:
        assert apply_payment_to_instalments(
            session, customer_id=ids["C100"], amount=Decimal("500.00"), at=clock.now(), actor=PRIYA
        ) == Decimal("500.00")
    assert plan_state(ctx, plan_id)[2] == [Decimal("500.00")] + [Decimal("0.00")] * 3
    assert row_counts(ctx) == before


# --- the promise-kept rate ---------------------------------------------------------------------


def test_the_kept_rate_counts_promises_that_came_due(ctx: AppContext, clock: FixedClock) -> None:
    ids = seed_world(ctx)
    kept = promise_typed_on(ctx, clock, date(2026, 11, 16), "promise acme dental 300 wed")
    promise_typed_on(ctx, clock, date(2026, 11, 16), "promise acme ortho 800 fri")
    promise_typed_on(ctx, clock, date(2026, 11, 16), "promise route 66 700 fri", who=SAM)
    pay(ctx, "C100", "300.00", date(2026, 11, 18))
    with ctx.sessions() as session:
        empty = promise_kept_rate(session)
    assert (empty.kept, empty.broken, empty.rate) == (1, 0, 1.0)
    clock.at = at(TUE_24)
    check(ctx)
    with ctx.sessions() as session:
        dana_id = session.scalar(select(TeamMember.id).where(TeamMember.email == DANA))
        team = promise_kept_rate(session)
        dana = promise_kept_rate(session, member_id=dana_id)
        ortho = promise_kept_rate(session, customer_id=ids["C200"])
        summit = promise_kept_rate(session, customer_id=ids["C300"])  # open, due 1 Dec: not yet due
    assert (team.kept, team.broken, team.came_due) == (1, 2, 3) and team.rate == pytest.approx(1 / 3)
    assert (dana.kept, dana.broken, dana.rate) == (1, 1, 0.5)
    assert (ortho.kept, ortho.broken, ortho.rate) == (0, 1, 0.0)
    assert (summit.came_due, summit.rate) == (0, None)
    assert status_of(ctx, kept.id) is PromiseStatus.KEPT


# --- two checks at the same moment -------------------------------------------------------------


def test_two_checks_at_the_same_moment_break_a_promise_once(ctx: AppContext, clock: FixedClock, engine: Engine) -> None:
    """Two schedulers on one database, each with its own engine, run the check together."""
    seed_world(ctx)
    promise_typed_on(ctx, clock, date(2026, 11, 18), "promise acme dental 1,200 fri")
    promise_typed_on(ctx, clock, date(2026, 11, 18), "promise acme ortho 800 fri")
    clock.at = at(TUE_24)
    other_engine = make_engine(engine.url.render_as_string(hide_password=False))
    other = AppContext(sessions=make_session_factory(other_engine), team=ctx.team, calendar=ctx.calendar, clock=clock)
    barrier = threading.Barrier(2)
    results: list[list[Reply]] = []

    def run(context: AppContext) -> None:
        barrier.wait()
        results.append(check(context))

    threads = [threading.Thread(target=run, args=(c,)) for c in (ctx, other)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        other_engine.dispose()
    assert len(results) == 2
    assert sorted(len(r) for r in results) in ([0, 2], [1, 1])
    assert sorted(r.title for replies in results for r in replies) == [
        "Broken promise: Acme Dental Group (C100)",
        "Broken promise: Acme Ortho (C200)",
    ]
    with ctx.sessions() as session:
        assert (
            session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "promise.broken"))
            == 2
        )
