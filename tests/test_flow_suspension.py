"""The suspension sequence, as conversations: an account more than 30 days past due enters on a
business morning (accounts on hold or wholly in dispute do not), its next step shows on the
collector's list and in `suspension`, a logged call or email ticks the step it does, the last
step opens a service suspension hold request in the collector's name (once; the collector cannot
approve it), managers may stop a sequence and collectors may not, paid-down accounts leave, and
the weekly report goes out before the suspension meeting, once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from commands.clock import FixedClock
from commands.context import AppContext
from commands.messages import Tone
from commands.outbox import Dispatcher
from commands.suspension.settings import REQUEST, Step
from commands.team import TeamFileError, team_from_dict
from scheduler.jobs import JOBS, Job
from scheduler.service import tick
from storage.audit import verify
from storage.models import (
    AuditEvent,
    Customer,
    Dispute,
    Hold,
    HoldStatus,
    Invoice,
    InvoiceKind,
    PaymentPlan,
    PlanInstalment,
    PlanStatus,
    SuspensionSequence,
    TeamMember,
)
from storage.open_items import refresh_packs
from tests.support.harness import Conversation, run_job
from tests.support.mail import press, send_mail, smtp_server
from tests.support.scheduler_runs import Recorder, tick_delivered
from tests.support.world import CREATED, field, refused, row_counts, seed_world

DANA, MARIA = "dana.reyes@example.com", "maria.lopez@example.com"
SEQUENCE = next(job for job in JOBS if job.name == "suspension_sequence")
REPORT = next(job for job in JOBS if job.name == "suspension_report")


def add_customer(ctx: AppContext, erp_id: str, name: str, due: date, amount: str, collector: str | None = DANA) -> int:
    with ctx.sessions.begin() as session:
        member = session.scalar(select(TeamMember.id).where(TeamMember.email == collector)) if collector else None
        customer = Customer(erp_id=erp_id, name=name, currency="USD", created_at=CREATED, collector_id=member)
        session.add(customer)
        session.flush()
        session.add(
            Invoice(
                customer_id=customer.id,
                number=f"{erp_id}-1",
                kind=InvoiceKind.STANDARD,
                due_date=due,
                amount=Decimal(amount),
                open_balance=Decimal(amount),
                currency="USD",
            )
        )
        return customer.id


def on(ctx: AppContext, day: date, hour: int = 15) -> AppContext:
    """The same team on another day (15:00 UTC is 09:00 in Chicago)."""
    return replace(ctx, clock=FixedClock(datetime(day.year, day.month, day.day, hour, tzinfo=UTC)))


def morning(ctx: AppContext, chat: Conversation, job: Job = SEQUENCE) -> None:
    run_job(ctx, job, chat.messenger)


def sequences(ctx: AppContext) -> list[SuspensionSequence]:
    with ctx.sessions() as session:
        return list(session.scalars(select(SuspensionSequence).order_by(SuspensionSequence.id)))


def audit(ctx: AppContext, action: str) -> list[AuditEvent]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def texts(replies: list[Any]) -> list[str]:
    return [r.text for r in replies]


def test_an_account_goes_through_the_steps_to_a_suspension_request(ctx: AppContext) -> None:
    ids = seed_world(ctx)  # Acme Dental is more than 30 days past due but already on hold
    birch = add_customer(ctx, "B900", "Birch Clinic", date(2026, 10, 15), "1200.00")  # 39 days past due
    disputed = add_customer(ctx, "B950", "Cedar Vets", date(2026, 10, 10), "400.00")
    with ctx.sessions.begin() as session:
        session.add(
            Dispute(customer_id=disputed, amount=Decimal("400.00"), reason="never delivered", opened_at=CREATED)
        )
    chat = Conversation(ctx)
    morning(ctx, chat)

    [seq] = sequences(ctx)
    assert (seq.customer_id, seq.entered_on, seq.step) == (birch, date(2026, 11, 23), 0)
    # Business days from Mon 23 Nov; Thanksgiving (Thu 26 Nov) is not one.
    assert [(s["name"], s["due"]) for s in seq.steps] == [
        ("first call", "2026-11-23"),
        ("email", "2026-11-25"),
        ("second call", "2026-11-30"),
        ("final notice", "2026-12-03"),
        ("suspension request", "2026-12-08"),
    ]
    assert ids["C100"] not in [s.customer_id for s in sequences(ctx)]
    [post] = chat.messenger.posts("collections")
    assert post.reply.text == "Entered (1): Birch Clinic (B900)."
    [entered] = audit(ctx, "suspension.entered")
    assert (entered.customer_id, entered.data["threshold_days"]) == (birch, 30)

    # The collector's list and the suspension command show the next step.
    [answer] = chat.say(DANA, "list")
    [line] = [r for r in answer.rows if r.title == "Birch Clinic (B900)"]
    assert "suspension step 1 of 5, first call, due Mon 23 Nov 2026" in line.detail
    [listing] = chat.say(DANA, "suspension")
    assert listing.private and listing.text == "1 account in the suspension sequence."
    [row] = listing.rows
    assert (row.title, row.detail) == ("Birch Clinic (B900)", "suspension step 1 of 5, first call, due Mon 23 Nov 2026")
    assert field_of(row, "Days past due") == "39" and field_of(row, "Balance") == "$1,200.00"

    # A voicemail is a documented call: step 1 done. An email is not a call, but it is the next step.
    replies = chat.say(DANA, "log birch voicemail left a message for AP")
    assert replies[-1].text == "Suspension step 1 of 5 done: first call. Next: email, due Wed 25 Nov 2026."
    assert chat.say(DANA, "log birch voicemail again")[1:] == []  # a call does not do the email step
    replies = chat.say(DANA, "log birch email-sent past-due reminder with statement")
    assert replies[-1].text == ("Suspension step 2 of 5 done: email. Next: second call, due Mon 30 Nov 2026.")
    assert [e.data["activity_id"] is not None for e in audit(ctx, "suspension.step_done")] == [True, True]

    # A week later the second call is overdue, and the list says so.
    later = on(ctx, date(2026, 12, 2))
    chat = Conversation(later, chat.messenger)
    [answer] = chat.say(DANA, "list")
    [line] = [r for r in answer.rows if r.title == "Birch Clinic (B900)"]
    assert "suspension step 3 of 5, second call, due Mon 30 Nov 2026 (overdue)" in line.detail
    replies = chat.say(DANA, "log birch reached with Kim Lee says the CFO will call back")
    assert replies[-1].text == (
        "Suspension step 3 of 5 done: second call. Next: final notice, due Thu 3 Dec 2026. Copy Maria Lopez."
    )
    [listing] = chat.say(DANA, "suspension")
    assert listing.rows[0].detail == "suspension step 4 of 5, final notice, due Thu 3 Dec 2026, copy Maria Lopez"
    replies = chat.say(DANA, "log birch email-sent final notice, service suspension on 8 Dec")
    assert replies[-1].text == (
        "Suspension step 4 of 5 done: final notice. Next: suspension request, due Tue 8 Dec 2026."
    )

    # On the request's day the morning job asks for the service suspension in Dana's name, once.
    request_day = on(ctx, date(2026, 12, 8))
    morning(request_day, chat)
    card = chat.last_post("approvals")
    assert field(card.reply, "Hold kind") == "service suspension"
    assert "suspension sequence since Mon 23 Nov 2026: 4 steps done, $1,200.00 over 30 days past due" in field(
        card.reply, "Asked"
    )
    [seq] = [s for s in sequences(ctx) if s.customer_id == birch]
    [ack] = [d for d in chat.messenger.directs(DANA) if d.reply.title.startswith("Approval requested")]
    assert ack.reply.title == f"Approval requested: hold on Birch Clinic (request #{seq.request_id})"
    [seq] = [s for s in sequences(ctx) if s.customer_id == birch]
    assert (seq.step, seq.step_due, seq.steps[4]["done_by"]) == (5, None, {"request": seq.request_id})
    morning(on(ctx, date(2026, 12, 9)), chat)
    assert len(chat.messenger.posts("approvals")) == 1

    # Dana asked, so Dana cannot approve; Maria can, and the next morning the sequence ends.
    chat = Conversation(request_day, chat.messenger)
    [no] = chat.click(DANA, card, "Approve")
    assert no.tone is Tone.ERROR and "You asked for this hold" in no.title
    chat.click(MARIA, card, "Approve")
    with ctx.sessions() as session:
        hold = session.scalar(select(Hold).where(Hold.customer_id == birch))
        assert hold is not None and (hold.kind, hold.status) == ("service_suspension", HoldStatus.ACTIVE)
    morning(on(ctx, date(2026, 12, 10)), chat)
    [seq] = [s for s in sequences(ctx) if s.customer_id == birch]
    assert (seq.ended_on, seq.end_reason) == (date(2026, 12, 10), "suspended")
    assert "Left (1): Birch Clinic (B900): service suspended." in chat.last_post("collections").reply.text


def test_status_shows_the_next_step_and_the_steps_done_by_which_activity(ctx: AppContext) -> None:
    seed_world(ctx)
    add_customer(ctx, "B900", "Birch Clinic", date(2026, 10, 15), "1200.00")
    chat = Conversation(ctx)
    [before] = chat.say(DANA, "status birch")
    assert field(before, "Suspension") == "not in sequence"
    morning(ctx, chat)
    [entered] = chat.say(DANA, "status birch")
    assert field(entered, "Suspension") == "step 1 of 5, first call, due Mon 23 Nov 2026"
    assert not [r for r in entered.rows if r.title.startswith("Suspension step")]

    chat.say(DANA, "log birch voicemail left a message for AP")
    later = Conversation(on(ctx, date(2026, 11, 30), hour=16), chat.messenger)
    later.say(DANA, "log birch email-sent past-due reminder with statement")
    [status] = later.say(MARIA, "status birch")
    assert field(status, "Suspension") == "step 3 of 5, second call, due Mon 30 Nov 2026"
    assert [(r.title, r.detail) for r in status.rows if r.title.startswith("Suspension step")] == [
        (
            "Suspension step 1 of 5 done Mon 23 Nov 2026: first call",
            "by the voicemail Dana Reyes logged Mon 23 Nov 2026 9:00 AM CST",
        ),
        (
            "Suspension step 2 of 5 done Mon 30 Nov 2026: email",
            "by the email Dana Reyes logged Mon 30 Nov 2026 10:00 AM CST",
        ),
    ]
    # A day later the second call is overdue, and the card says so.
    [overdue] = Conversation(on(ctx, date(2026, 12, 1)), chat.messenger).say(DANA, "status birch")
    assert field(overdue, "Suspension") == "step 3 of 5, second call, due Mon 30 Nov 2026 (overdue)"
    # The account on hold never entered.
    [held] = chat.say(DANA, "status acme dental")
    assert field(held, "Suspension") == "not in sequence"


def test_a_sequence_of_only_the_request_asks_for_it_the_morning_it_enters(ctx: AppContext) -> None:
    add_customer(ctx, "B900", "Birch Clinic", date(2026, 10, 15), "1200.00")
    only = replace(ctx.team.workflow.suspension, steps=(Step("suspension request", REQUEST, 0),))
    team = replace(ctx.team, workflow=replace(ctx.team.workflow, suspension=only))
    quick = replace(ctx, team=team)
    chat = Conversation(quick)
    morning(quick, chat)
    [seq] = sequences(quick)
    assert (seq.step, seq.step_due, seq.steps[0]["done_by"]) == (1, None, {"request": seq.request_id})
    card = chat.last_post("approvals")
    assert field(card.reply, "Hold kind") == "service suspension"


def field_of(row: Any, label: str) -> str:
    return next(f.value for f in row.fields if f.label == label)


def test_an_overdue_step_ranks_the_line_up(ctx: AppContext) -> None:
    # Two accounts alike but for their size; the smaller one's step is overdue.
    big = add_customer(ctx, "B901", "Big Clinic", date(2026, 10, 15), "5000.00")
    add_customer(ctx, "B902", "Small Clinic", date(2026, 10, 15), "4000.00")
    chat = Conversation(ctx)
    morning(ctx, chat)
    chat.say(DANA, "log big clinic voicemail")
    later = Conversation(on(ctx, date(2026, 11, 25)), chat.messenger)  # Small Clinic's first call is overdue
    [answer] = later.say(DANA, "list")
    titles = [r.title for r in answer.rows]
    assert titles.index("Small Clinic (B902)") < titles.index("Big Clinic (B901)")
    small = next(r for r in answer.rows if r.title == "Small Clinic (B902)")
    assert "suspension step 1 of 5, first call, due Mon 23 Nov 2026 (overdue)" in small.detail
    with ctx.sessions() as session:
        assert session.get_one(Customer, big).name == "Big Clinic"


def test_collectors_cannot_stop_a_sequence_and_managers_can(ctx: AppContext) -> None:
    add_customer(ctx, "B900", "Birch Clinic", date(2026, 10, 15), "1200.00")
    chat = Conversation(ctx)
    morning(ctx, chat)
    before = row_counts(ctx)
    no = refused(chat.say(DANA, "suspension stop birch they will pay next week"))
    assert no.title == "only a manager, controller or VP finance can stop a suspension sequence"
    no = refused(chat.say(MARIA, "suspension stop nobody at all they will pay"))
    assert "nobody" in (no.title + no.text).lower()
    no = refused(chat.say(MARIA, "suspension stop birch"))
    assert "say why the sequence stops" in no.title
    no = refused(chat.say(MARIA, "suspension pause birch"))
    assert "suspension stop <customer> <reason>" in no.title
    assert row_counts(ctx) == before

    [done] = chat.say(MARIA, "suspension stop birch paying weekly, agreed with their CFO")
    assert done.text == (
        "Stopped at step 1 of 5 (first call): paying weekly, agreed with their CFO. It does not "
        "start again until the account is no longer over 30 days past due."
    )
    [ended] = audit(ctx, "suspension.ended")
    assert (ended.actor, ended.data["reason"], ended.data["note"]) == (
        MARIA,
        "stopped",
        "paying weekly, agreed with their CFO",
    )
    no = refused(chat.say(MARIA, "suspension stop birch again"))
    assert no.title == "Birch Clinic (B900) is not in the suspension sequence"
    morning(on(ctx, date(2026, 11, 24)), chat)  # still over 30 days: does not start over
    assert len(sequences(ctx)) == 1
    [listing] = chat.say(DANA, "suspension")
    assert listing.text == "No account is in the suspension sequence."


def test_a_paid_down_account_leaves_and_may_enter_again(ctx: AppContext) -> None:
    birch = add_customer(ctx, "B900", "Birch Clinic", date(2026, 10, 15), "1200.00")
    chat = Conversation(ctx)
    morning(ctx, chat)
    with ctx.sessions.begin() as session:
        session.execute(
            update(Invoice)
            .where(Invoice.customer_id == birch)
            .values(open_balance=Decimal("0.00"), closed_on=date(2026, 11, 23))
        )
        refresh_packs(session.connection(), [birch])  # as an import does
    morning(on(ctx, date(2026, 11, 24)), chat)
    [seq] = sequences(ctx)
    assert (seq.ended_on, seq.end_reason, seq.ended_by) == (
        date(2026, 11, 24),
        "paid_down",
        "system:suspension_sequence",
    )
    assert chat.last_post("collections").reply.text == "Left (1): Birch Clinic (B900): no longer over the threshold."
    assert [e.data["reason"] for e in audit(ctx, "suspension.ended")] == ["paid_down"]
    add_customer(ctx, "B901", "Birch Clinic East", date(2026, 10, 20), "300.00")
    morning(on(ctx, date(2026, 11, 25)), chat)
    assert [(s.customer_id != birch, s.ended_on) for s in sequences(ctx)][1:] == [(True, None)]


def test_the_weekly_report_is_posted_before_the_meeting_once(ctx: AppContext) -> None:
    add_customer(ctx, "B900", "Birch Clinic", date(2026, 10, 15), "1200.00")
    add_customer(ctx, "B901", "Aspen Dental", date(2026, 10, 1), "800.00", collector=None)
    chat = Conversation(ctx)
    morning(ctx, chat)
    chat.say(DANA, "log birch reached with Kim Lee will pay half on Friday")
    recorder = Recorder()
    # Thursday is Thanksgiving: the meeting's report goes out on Friday, at 09:00 (an hour before 10:00).
    friday = on(ctx, date(2026, 11, 27), hour=15)  # 09:00 Chicago
    tick_delivered(on(ctx, date(2026, 11, 26)), recorder, jobs=[REPORT])
    assert recorder.calls == []
    tick_delivered(friday, recorder, jobs=[REPORT])
    tick_delivered(on(ctx, date(2026, 11, 27), hour=16), recorder, jobs=[REPORT])
    [report] = recorder.posts("collections")
    assert report.title == "Suspension report for the meeting of Fri 27 Nov 2026 at 10:00"
    assert report.text == "2 accounts in the suspension sequence, 2 with an overdue step."
    aspen, birch = report.rows
    assert (aspen.title, aspen.detail) == (
        "Aspen Dental (B901)",
        "suspension step 1 of 5, first call, due Mon 23 Nov 2026 (overdue)",
    )
    assert [(f.label, f.value) for f in aspen.fields] == [
        ("Days past due", "57"),
        ("Balance", "$800.00"),
        ("Collector", "unassigned"),
        ("In sequence since", "Mon 23 Nov 2026"),
    ]
    assert birch.detail == "suspension step 2 of 5, email, due Wed 25 Nov 2026 (overdue)"
    assert field_of(birch, "Latest note") == "Mon 23 Nov 2026: will pay half on Friday"
    assert field_of(birch, "Collector") == "Dana Reyes"


SUSPENSION_PLACES = {"slack": "C0SUSPENSION", "teams": "19:suspension@thread.tacv2"}


@pytest.mark.parametrize("platforms", [("slack",), ("teams",), ("teams", "slack")])
def test_the_weekly_report_goes_to_the_suspension_channel_of_each_platform(
    ctx: AppContext, platforms: tuple[str, ...]
) -> None:
    """``[channels] suspension = { slack = "C…", teams = "19:…" }``, read as every other
    channel is: the report is queued for the platform this deployment talks on first, and
    delivered to that platform's id for the channel."""
    add_customer(ctx, "B900", "Birch Clinic", date(2026, 10, 15), "1200.00")
    parsed = team_from_dict({"members": [], "channels": {"suspension": SUSPENSION_PLACES}}).workflow.channels
    assert (parsed.suspension, parsed.on("suspension")) == ("suspension", SUSPENSION_PLACES)
    team = replace(ctx.team, workflow=replace(ctx.team.workflow, channels=parsed))
    placed = replace(ctx, team=team, platforms=platforms)
    run_job(placed, SEQUENCE, Recorder())
    recorders = {p: Recorder() for p in platforms}
    friday = on(placed, date(2026, 11, 27), hour=15)
    tick(friday, jobs=[REPORT])
    Dispatcher(friday, dict(recorders), workers=1, pacing={}).drain()
    first = platforms[0]
    [report] = recorders[first].posts(SUSPENSION_PLACES[first])
    assert report.title == "Suspension report for the meeting of Fri 27 Nov 2026 at 10:00"
    assert [to for r in recorders.values() for kind, to, _ in r.calls if kind == "post"] == [SUSPENSION_PLACES[first]]


def test_the_suspension_channel_is_set_in_one_place(ctx: AppContext) -> None:
    old = team_from_dict({"members": [], "suspension": {"channel": {"slack": "C0OLD"}}}).workflow.channels
    assert (old.suspension, old.on("suspension")) == ("suspension", {"slack": "C0OLD"})
    named = team_from_dict({"members": [], "suspension": {"channel": "suspensions"}}).workflow.channels
    assert (named.suspension, named.on("suspensions")) == ("suspensions", {})
    assert team_from_dict({"members": []}).workflow.channels.suspension is None
    for bad, message in [
        ({"channels": {"suspension": "a"}, "suspension": {"channel": "b"}}, "set twice"),
        ({"channels": {"suspension": {"slack": "C1", "matrix": "!x"}}}, "channel suspension names matrix"),
    ]:
        with pytest.raises(TeamFileError, match=message):
            team_from_dict({"members": [], **bad})


def test_the_team_file_sets_the_steps_and_the_meeting(ctx: AppContext) -> None:
    data = {
        "members": [],
        "suspension": {
            "threshold_days": 45,
            "meeting_weekday": "Tuesday",
            "meeting_at": "14:00",
            "report_hours_before": 2,
            "channel": "suspensions",
            "notice_copy": ["maria.lopez@example.com", "the sales rep"],
            "steps": [
                {"name": "call", "does": "call", "day": 0},
                {"name": "notice", "does": "notice", "day": 3},
                {"name": "request", "does": "request", "day": 5},
            ],
        },
    }
    flow = team_from_dict(data).workflow
    assert flow.suspension.threshold_days == 45
    assert [s.name for s in flow.suspension.steps] == ["call", "notice", "request"]
    assert (flow.timers.suspension_weekday, flow.timers.suspension_report_at.isoformat()) == ("tuesday", "12:00:00")
    for bad, message in [
        ({"steps": [{"name": "call", "does": "call", "day": 0}]}, "the last step, and only it"),
        ({"steps": [{"name": "call", "does": "phone", "day": 0}]}, "does must be one of"),
        (
            {"steps": [{"name": "a", "does": "call", "day": 3}, {"name": "b", "does": "request", "day": 1}]},
            "not before the step above it",
        ),
        ({"meeting_weekday": "someday"}, "meeting_weekday must be a day of the week"),
        ({"threshold_days": "thirty"}, "threshold_days must be a whole number"),
        ({"meeting_at": "01:00", "report_hours_before": 2}, "before the meeting"),
        ({"treshold_days": 30}, "unknown setting(s): treshold_days"),
    ]:
        with pytest.raises(TeamFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
            team_from_dict({"members": [], "suspension": bad})
    with pytest.raises(TeamFileError, match="unknown timer setting"):
        team_from_dict({"members": [], "timers": {"suspension_weekday": "friday"}})


def test_the_morning_run_enters_once_before_the_lists(ctx: AppContext) -> None:
    add_customer(ctx, "B900", "Birch Clinic", date(2026, 10, 15), "1200.00")
    recorder = Recorder()
    jobs = [SEQUENCE]
    assert tick_delivered(on(ctx, date(2026, 11, 23), hour=13), recorder, jobs=jobs) == []  # 07:00 Chicago
    [outcome] = tick_delivered(
        replace(ctx, clock=FixedClock(datetime(2026, 11, 23, 13, 31, tzinfo=UTC))), recorder, jobs=jobs
    )  # 07:31, half an hour before the 08:00 lists
    assert (outcome.key, outcome.status) == ("suspension_sequence", "done")
    assert (
        tick_delivered(replace(ctx, clock=FixedClock(datetime(2026, 11, 23, 13, 45, tzinfo=UTC))), recorder, jobs=jobs)
        == []
    )
    assert [r.text for r in recorder.posts("collections")] == ["Entered (1): Birch Clinic (B900)."]
    assert len(sequences(ctx)) == 1
    assert tick_delivered(on(ctx, date(2026, 11, 28), hour=14), recorder, jobs=jobs) == []  # a Saturday


def test_a_sent_follow_up_email_does_the_email_step(ctx: AppContext) -> None:
    add_customer(ctx, "B900", "Birch Clinic", date(2026, 10, 15), "1200.00")
    chat = Conversation(ctx)
    morning(ctx, chat)
    chat.say(DANA, 'contact B900 "Kim Lee" ap@birch.example billing')
    chat.say(DANA, "log birch no-answer")  # the first call: step 1 done
    with smtp_server() as (server, settings):
        ctx.mail = settings
        [draft] = chat.say(DANA, "email birch")
        [queued] = press(ctx, DANA, draft, "Send")
        assert queued.tone is Tone.SUCCESS, queued
        assert [s.step for s in sequences(ctx)] == [1], "not done until it is sent"
        report = send_mail(ctx, settings)
        chat.deliver()
    assert (report.sent, len(server.received)) == (1, 1)
    [seq] = sequences(ctx)
    assert (seq.step, seq.steps[1]["done_on"]) == (2, "2026-11-23")
    told = [d.reply.text for d in chat.messenger.directs(DANA)]
    assert "Suspension step 2 of 5 done: email. Next: second call, due Mon 30 Nov 2026." in told


def test_a_plan_in_good_standing_keeps_an_account_out_and_a_rejected_request_ends_the_sequence(ctx: AppContext) -> None:
    planned = add_customer(ctx, "B800", "Pine Dental", date(2026, 10, 1), "900.00")
    birch = add_customer(ctx, "B900", "Birch Clinic", date(2026, 10, 15), "1200.00")
    with ctx.sessions.begin() as session:
        plan = PaymentPlan(
            customer_id=planned,
            total=Decimal("900.00"),
            cadence="monthly",
            status=PlanStatus.ACTIVE,
            created_at=CREATED,
        )
        session.add(plan)
        session.flush()
        session.add(PlanInstalment(plan_id=plan.id, due_date=date(2026, 12, 15), amount=Decimal("900.00")))
    chat = Conversation(ctx)
    morning(ctx, chat)
    assert [s.customer_id for s in sequences(ctx)] == [birch]

    chat.say(DANA, "log birch voicemail")
    chat.say(DANA, "log birch email-sent reminder")
    later = Conversation(on(ctx, date(2026, 12, 3)), chat.messenger)
    later.say(DANA, "log birch no-answer")
    later.say(DANA, "log birch email-sent final notice")
    morning(on(ctx, date(2026, 12, 8)), chat)
    card = chat.last_post("approvals")
    Conversation(on(ctx, date(2026, 12, 8)), chat.messenger).reply_in_thread(
        MARIA, card, "reject because their CFO is paying on Friday"
    )
    morning(on(ctx, date(2026, 12, 9)), chat)
    [seq] = [s for s in sequences(ctx) if s.customer_id == birch]
    assert (seq.ended_on, seq.end_reason) == (date(2026, 12, 9), "request_rejected")
    assert "Birch Clinic (B900): suspension request not approved" in chat.last_post("collections").reply.text
    morning(on(ctx, date(2026, 12, 10)), chat)  # still over 30 days: it does not start over
    assert [s.customer_id for s in sequences(ctx)].count(birch) == 1


def test_an_account_without_a_collector_is_named_when_its_request_is_due(ctx: AppContext) -> None:
    add_customer(ctx, "B900", "Birch Clinic", date(2026, 10, 15), "1200.00", collector=None)
    chat = Conversation(ctx)
    morning(ctx, chat)
    chat.say(DANA, "log birch voicemail")
    chat.say(DANA, "log birch email-sent reminder")
    later = Conversation(on(ctx, date(2026, 12, 3)), chat.messenger)
    later.say(DANA, "log birch no-answer")
    replies = later.say(DANA, "log birch email-sent final notice")
    assert replies[-1].text.startswith("Suspension step 4 of 5 done")
    morning(on(ctx, date(2026, 12, 8)), chat)
    assert chat.messenger.posts("approvals") == []
    warning = chat.last_post("collections").reply
    assert warning.title == "Suspension request for Birch Clinic (B900) waits for a collector"
    [seq] = sequences(ctx)
    assert (seq.step, seq.request_id) == (4, None)


def test_the_morning_message_names_twenty_accounts_and_the_list_shows_fifty(ctx: AppContext) -> None:
    for n in range(52):
        add_customer(ctx, f"B{n:03d}", f"Clinic {n:02d}", date(2026, 10, 1), "100.00")
    chat = Conversation(ctx)
    morning(ctx, chat)
    [post] = chat.messenger.posts("collections")
    assert post.reply.text == (
        "Entered (52): "
        + ", ".join(f"Clinic {n:02d} (B{n:03d})" for n in range(20))
        + ", and 32 more (`suspension` lists them)."
    )
    assert len(sequences(ctx)) == 52 and len(audit(ctx, "suspension.entered")) == 52
    # Entered in one statement each for the sequences and their events: each event names its
    # own sequence and customer, and the audit chain holds.
    entered = {e.entity_id: (e.customer_id, e.data["over_threshold"]) for e in audit(ctx, "suspension.entered")}
    assert entered == {s.id: (s.customer_id, "100.00") for s in sequences(ctx)}
    with ctx.sessions() as session:
        assert verify(session.connection()).broken_at is None
    [listing] = chat.say(DANA, "suspension")
    assert listing.text == ("52 accounts in the suspension sequence. The 50 with the earliest due steps are below.")
    assert [r.title for r in listing.rows] == [f"Clinic {n:02d} (B{n:03d})" for n in range(50)]
