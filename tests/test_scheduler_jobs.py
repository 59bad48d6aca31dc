"""What the scheduled jobs send: each collector's morning list and the channel summary, the
statements-day reminder, the finals-day lists, and the workflow timers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.calllist import build_call_list
from commands.clock import FixedClock
from commands.context import AppContext
from commands.messages import Reply, Where
from scheduler.jobs import (
    JOBS,
    LIST_ROWS,
    daily_lists,
    day_label,
    finals_day,
    housekeeping,
    statements_reminder,
    timer_job,
    totals,
)
from storage.audit import record
from storage.models import (
    AuditEvent,
    Customer,
    InboundEvent,
    InvoiceKind,
    JobRun,
    OutboxEntry,
    Promise,
    PromiseStatus,
    TeamMember,
)
from tests.support.portfolio import CREATED, DANA, LEE, SAM, add_customer, seed_portfolio
from tests.support.scheduler_runs import Recorder, run_fn, tick_delivered

CHICAGO = ZoneInfo("America/Chicago")


def chicago(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=CHICAGO)


def row_ids(reply: Reply) -> list[str]:
    return [row.title.rsplit("(", 1)[1].rstrip(")") for row in reply.rows]


def test_money_in_different_currencies_is_never_added_up() -> None:
    amounts = [(Decimal("1000.00"), "USD"), (Decimal("300.00"), "EUR"), (Decimal("200.50"), "USD")]
    assert totals(amounts) == "300.00 EUR + $1,200.50"
    assert totals([]) == "$0.00"
    assert day_label(date(2026, 11, 23)) == "Mon 23 Nov"


def test_daily_lists_send_each_collector_their_own(ctx: AppContext) -> None:
    seed_portfolio(ctx)
    recorder = Recorder()
    result = run_fn(ctx, daily_lists, recorder)

    [dana] = recorder.directs(DANA)
    [sam] = recorder.directs(SAM)
    assert recorder.directs(LEE) == [], "no accounts, no message"
    assert dana.title == sam.title == "Your call list for Mon 23 Nov"
    assert {"C100", "C200"} <= set(row_ids(dana)) and not {"C300", "C400"} & set(row_ids(dana))
    assert "C300" in row_ids(sam)
    assert all(row.detail for row in dana.rows), "every line says why it is on the list"
    acme = next(row for row in dana.rows if "(C100)" in row.title)
    assert [b.label for b in acme.buttons] == ["Log call", "Promise", "Paid"]
    assert all(b.value == {"customer": "C100"} for b in acme.buttons)
    assert ("Balance", "$5,000.00") in [(f.label, f.value) for f in acme.fields]
    assert result.counts["collectors"] == 2


def test_daily_lists_summary_goes_to_the_collections_channel(ctx: AppContext) -> None:
    seed_portfolio(ctx)
    recorder = Recorder()
    run_fn(ctx, daily_lists, recorder)

    [summary] = recorder.posts("collections")
    assert summary.title == "Call lists for Mon 23 Nov"
    fields = {f.label: f.value for f in summary.fields}
    assert fields["Dana Reyes"] == "2 accounts, $6,200.50"
    assert fields["Sam Okafor"].startswith(("1 account,", "2 accounts,"))
    with ctx.sessions() as session:
        listed = build_call_list(session, ctx, day=date(2026, 11, 23))
    assert len(listed) >= 3
    assert row_ids(summary) == [r.erp_id for r in sorted(listed, key=lambda r: -r.score)[:3]]


def test_a_long_list_shows_its_top_lines_and_says_where_the_rest_is(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        for n in range(LIST_ROWS + 5):
            add_customer(
                session,
                f"L{n:03}",
                f"Lakeside Account {n}",
                LEE,
                [(InvoiceKind.STANDARD, date(2026, 10, 1), f"{1000 + n}.00")],
            )
    recorder = Recorder()
    run_fn(ctx, daily_lists, recorder)
    [lee] = recorder.directs(LEE)
    assert len(lee.rows) == LIST_ROWS
    assert lee.text.startswith(f"{LIST_ROWS + 5} accounts, ")
    assert f"The top {LIST_ROWS} are below; `list` shows them all." in lee.text


def test_someone_who_left_the_team_gets_no_message_but_shows_in_the_summary(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        session.add(TeamMember(email="gone@example.com", name="Former Collector", roles="collector", active=False))
        session.flush()
        add_customer(
            session, "C900", "Orphan Works", "gone@example.com", [(InvoiceKind.STANDARD, date(2026, 10, 1), "700.00")]
        )
    recorder = Recorder()
    run_fn(ctx, daily_lists, recorder)
    assert recorder.directs() == []
    [summary] = recorder.posts("collections")
    assert {f.label: f.value for f in summary.fields} == {"gone@example.com": "1 account, $700.00"}


def test_daily_lists_on_an_empty_ledger_still_tell_the_channel(ctx: AppContext) -> None:
    recorder = Recorder()
    run_fn(ctx, daily_lists, recorder)
    assert recorder.directs() == []
    [summary] = recorder.posts("collections")
    assert summary.text == "No accounts to call today."


def test_statements_reminder_counts_customers_with_open_balances(ctx: AppContext) -> None:
    seed_portfolio(ctx)
    recorder = Recorder()
    run_fn(ctx, statements_reminder, recorder)
    [post] = recorder.posts("collections")
    assert post.title == "Statements go out today"
    assert post.text == "4 customers have open balances."


def test_finals_day_lists_past_due_finals_for_the_channel_and_each_collector(
    ctx: AppContext, clock: FixedClock
) -> None:
    seed_portfolio(ctx)
    with ctx.sessions.begin() as session:  # a final not yet due on the day does not count
        add_customer(session, "C700", "Gale Studios", SAM, [(InvoiceKind.FINAL, date(2026, 12, 20), "300.00")])
    clock.at = chicago(date(2026, 12, 8), 8)
    recorder = Recorder()
    result = run_fn(ctx, finals_day, recorder)

    [channel] = recorder.posts("collections")
    assert channel.title == "Finals day: 1 customer with past-due finals"
    assert row_ids(channel) == ["C200"]
    assert channel.rows[0].detail == "final invoice 22 days past due"
    [dana] = recorder.directs(DANA)
    assert dana.title == "Your past-due finals for Tue 8 Dec" and row_ids(dana) == ["C200"]
    assert recorder.directs(SAM) == []
    assert result.counts == {"customers": 1, "collectors": 1}


def broken_promises_timer(session: Session, ctx: AppContext) -> list[Reply]:
    """A workflow timer as the workflow modules write them: change the ledger, say what to post."""
    record(session, at=ctx.clock.now(), actor="system:test", action="timer_ran", entity_type="test")
    return [Reply(title="Promise broken: Acme Dental Group", where=Where("collections"))]


TEST_TIMER = timer_job("test_timer", broken_promises_timer)


def test_a_workflow_timer_runs_once_per_quarter_hour(ctx: AppContext, clock: FixedClock) -> None:
    recorder = Recorder()
    clock.at = chicago(date(2026, 11, 23), 9, 0)
    assert [o.key for o in tick_delivered(ctx, recorder, jobs=[TEST_TIMER])] == ["test_timer@09:00"]
    clock.advance(minutes=10)
    assert tick_delivered(ctx, recorder, jobs=[TEST_TIMER]) == []
    clock.advance(minutes=5)
    assert [o.key for o in tick_delivered(ctx, recorder, jobs=[TEST_TIMER])] == ["test_timer@09:15"]
    assert len(recorder.posts("collections")) == 2
    with ctx.sessions() as session:
        assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "timer_ran")).all()) == 2


def test_the_registered_promise_check_runs_from_the_scheduler(ctx: AppContext, clock: FixedClock) -> None:
    """JOBS reaches the real promise check: a promise due Thu 19 Nov with one
    business day of grace is broken by Monday's first quarter-hour run, and only once."""
    seed_portfolio(ctx)
    with ctx.sessions.begin() as session:
        acme = session.scalars(select(Customer).where(Customer.erp_id == "C100")).one()
        session.add(
            Promise(customer_id=acme.id, amount=Decimal("500.00"), promised_date=date(2026, 11, 19), created_at=CREATED)
        )
    promise_checks = [job for job in JOBS if job.name == "promise_checks"]
    clock.at = chicago(date(2026, 11, 23), 9, 0)
    [outcome] = tick_delivered(ctx, Recorder(), jobs=promise_checks)
    assert (outcome.key, outcome.status) == ("promise_checks@09:00", "done")
    with ctx.sessions() as session:
        assert session.scalars(select(Promise.status)).one() is PromiseStatus.BROKEN
    clock.advance(minutes=5)
    assert tick_delivered(ctx, Recorder(), jobs=promise_checks) == []


def test_housekeeping_forgets_old_delivery_ids_and_timer_runs_but_keeps_daily_runs(
    ctx: AppContext, clock: FixedClock
) -> None:
    now = clock.now()
    with ctx.sessions.begin() as session:
        for event_id, age in (("old", 8), ("recent", 1)):
            session.add(InboundEvent(platform="slack", event_id=event_id, received_at=now - timedelta(days=age)))
        for job, age in (("promise_checks@10:00", 31), ("promise_checks@10:15", 29), ("daily_lists", 400)):
            session.add(JobRun(job=job, run_date=now.date() - timedelta(days=age), started_at=now))
        for key, age, status in (("old-sent", 15, "sent"), ("recent-sent", 13, "sent"), ("old-failed", 15, "failed")):
            session.add(
                OutboxEntry(
                    key=key,
                    platform="slack",
                    kind="post",
                    destination="C1",
                    payload={"title": key},
                    status=status,
                    attempts=1,
                    next_attempt_at=now,
                    reported=False,
                    created_at=now - timedelta(days=age),
                )
            )
    result = run_fn(ctx, housekeeping, Recorder())
    assert result.counts == {"inbound_events": 1, "timer_runs": 1, "outbox": 1}
    with ctx.sessions() as session:  # a failure stays for a person to see and retry
        assert sorted(session.scalars(select(OutboxEntry.key))) == ["old-failed", "recent-sent"]
    with ctx.sessions() as session:
        assert session.scalars(select(InboundEvent.event_id)).all() == ["recent"]
        assert sorted(session.scalars(select(JobRun.job))) == ["daily_lists", "promise_checks@10:15"]
