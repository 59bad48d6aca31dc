"""The scheduled posts with pictures: the weekly digest (figures against targets and the week
before, where money fell past due, the 12-week aging chart) and the end-of-day cash post, run by
the scheduler's tick at the team's times and delivered through the outbox with the chart."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import select

from commands.approval_rules import RulesError, _timers
from commands.clock import FixedClock
from commands.context import AppContext
from commands.importing import import_aging_file
from commands.kpi.cash import cash_post
from commands.kpi.chart import aging_chart_png, aging_weeks
from commands.kpi.digest import weekly_digest
from commands.targets import targets_from_dict
from scheduler.due import WEEKLY
from scheduler.jobs import JOBS
from storage.models import (
    Customer,
    Payment,
    PaymentPlan,
    PlanInstalment,
    PlanStatus,
    Promise,
    PromiseStatus,
    TeamMember,
)
from tests.support.scheduler_runs import Recorder, tick_delivered

CHICAGO = ZoneInfo("America/Chicago")
DANA = "dana.reyes@example.com"
HEADER = "Customer ID,Customer Name,Collector,Invoice No.,Invoice Date,Due Date,Original Amount,Amount Due\n"


def _snapshot(ctx: AppContext, tmp_path: Path, as_of: date, rows: list[str]) -> None:
    path = tmp_path / f"aging-{as_of}.csv"
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows))
    import_aging_file(ctx, path, as_of=as_of)


def _two_weeks(ctx: AppContext, tmp_path: Path) -> None:
    """13 Nov: A1 (due 1 Oct, 43 days late) 1000 and B1 current 400. 20 Nov: A1 unpaid, B1 fell
    due on 17 Nov and is still open, C1 (due 18 Nov) 250 too; Acme's A2 was sold on 16 Nov."""
    _snapshot(
        ctx,
        tmp_path,
        date(2026, 11, 13),
        [
            f"A,Acme Dental,{DANA},A1,2026-09-01,2026-10-01,1000.00,1000.00",
            f"B,Birch & Sons,{DANA},B1,2026-10-18,2026-11-17,400.00,400.00",
        ],
    )
    _snapshot(
        ctx,
        tmp_path,
        date(2026, 11, 20),
        [
            f"A,Acme Dental,{DANA},A1,2026-09-01,2026-10-01,1000.00,1000.00",
            f"A,Acme Dental,{DANA},A2,2026-11-16,2026-12-16,300.00,300.00",
            f"B,Birch & Sons,{DANA},B1,2026-10-18,2026-11-17,400.00,400.00",
            "C,Cobalt Imaging,,C1,2026-10-19,2026-11-18,250.00,250.00",
        ],
    )


def test_the_weekly_digest(ctx: AppContext, tmp_path: Path) -> None:
    ctx = replace(ctx, team=replace(ctx.team, targets=targets_from_dict({"dso": 35, "past_due_31_max": 500})))
    _two_weeks(ctx, tmp_path)
    with ctx.sessions() as session:
        reply = weekly_digest(ctx, session, date(2026, 11, 23))

    assert reply.title == "Weekly digest: Mon 16 Nov 2026 to Sun 22 Nov 2026"
    fields = {f.label: f.value for f in reply.fields}
    # Week 16-22 Nov: E = 1950 (20 Nov snapshot), S = 300 (A2) -> DSO 1950 / 300 x 7 = 45.5.
    # The week before (9-15 Nov): E = 1400 (13 Nov), S = 0 -> no DSO.
    assert fields["DSO"] == "45.5 days (target 35 days: missed)"
    # 31+ on 22 Nov: A1 (52 days); on 15 Nov: A1 (45 days): the same.
    assert fields["More than 30 days past due"] == "$1,000.00 (target $500.00: missed), as the week before"
    assert fields["Promises kept"] == "n/a (nothing to measure last week)"
    assert [(r.title, r.detail) for r in reply.rows] == [
        ("Birch & Sons: $400.00 newly past due", "1 item; collector Dana Reyes"),
        ("Cobalt Imaging: $250.00 newly past due", "1 item; collector Lee Marsh"),  # assigned by the team rule
    ]
    assert reply.where is not None and reply.where.channel == "collections"
    (chart,) = reply.files
    assert (chart.name, chart.mime) == ("aging-2026-11-22.png", "image/png")
    image = Image.open(io.BytesIO(chart.data))
    assert image.size == (1200, 600)
    colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 20  # bars, legend and text, not a blank page


def test_the_chart_stacks_each_weeks_buckets(ctx: AppContext, tmp_path: Path) -> None:
    _two_weeks(ctx, tmp_path)
    with ctx.sessions() as session:
        weeks = aging_weeks(session, date(2026, 11, 22), weeks=3)
    assert [w.ends for w in weeks] == [date(2026, 11, 8), date(2026, 11, 15), date(2026, 11, 22)]
    assert sum(weeks[0].buckets.values()) == 0  # no import yet on 8 Nov
    assert {k: v for k, v in weeks[1].buckets.items() if v} == {
        "31-60": Decimal("1000.00"),
        "current": Decimal("400.00"),
    }
    assert {k: v for k, v in weeks[2].buckets.items() if v} == {
        "31-60": Decimal("1000.00"),
        "1-30": Decimal("650.00"),
        "current": Decimal("300.00"),
    }
    assert weeks[2].past_due_31 == Decimal("1000.00")
    png = aging_chart_png(weeks, ceiling=Decimal(500))
    assert png.startswith(b"\x89PNG")


def test_the_cash_post(ctx: AppContext, tmp_path: Path) -> None:
    """Monday 23 Nov 2026: the next five business days are 24, 25, 27, 30 Nov and 1 Dec
    (Thanksgiving, 26 Nov, is not one; a promise for it is expected on the 27th)."""
    _two_weeks(ctx, tmp_path)
    now = datetime(2026, 11, 23, 14, 0, tzinfo=CHICAGO)
    with ctx.sessions.begin() as session:
        ids = {erp_id: id_ for erp_id, id_ in session.execute(select(Customer.erp_id, Customer.id))}
        dana = session.scalar(select(TeamMember.id).where(TeamMember.email == DANA))
        plan = PaymentPlan(
            customer_id=ids["A"], total=Decimal("600.00"), cadence="weekly", status=PlanStatus.ACTIVE, created_at=now
        )
        session.add(plan)
        session.flush()
        session.add_all(
            [
                Payment(
                    customer_id=ids["B"],
                    amount=Decimal("400.00"),
                    received_on=date(2026, 11, 23),
                    source="finance",
                    created_at=now,
                ),
                Payment(
                    customer_id=ids["A"],
                    amount=Decimal("50.00"),
                    received_on=date(2026, 11, 20),
                    source="finance",
                    created_at=datetime(2026, 11, 20, 10, tzinfo=CHICAGO),
                ),  # another day
                Promise(
                    customer_id=ids["A"],
                    member_id=dana,
                    amount=Decimal("500.00"),
                    promised_date=date(2026, 11, 24),
                    paid_amount=Decimal("100.00"),
                    created_at=now,
                ),
                Promise(
                    customer_id=ids["C"],
                    member_id=dana,
                    amount=Decimal("250.00"),
                    promised_date=date(2026, 11, 26),
                    created_at=now,
                ),
                Promise(
                    customer_id=ids["B"],
                    member_id=dana,
                    amount=Decimal("99.00"),
                    promised_date=date(2026, 11, 24),
                    status=PromiseStatus.KEPT,
                    created_at=now,
                ),  # kept: nothing more expected
                PlanInstalment(plan_id=plan.id, due_date=date(2026, 11, 30), amount=Decimal("300.00")),
                PlanInstalment(plan_id=plan.id, due_date=date(2026, 12, 7), amount=Decimal("300.00")),  # too far
            ]
        )
    ctx = replace(ctx, clock=FixedClock(now))
    with ctx.sessions() as session:
        reply = cash_post(ctx, session, date(2026, 11, 23))
    assert reply.text == (
        "In today: $400.00. Expected over the next 5 business days: $950.00 (open promises and plan instalments)."
    )
    assert [(f.label, f.value) for f in reply.fields] == [
        ("Confirmed by finance", "$400.00 (1 payment)"),
        ("Seen in imports", "nothing"),
        ("Tue 24 Nov 2026", "$400.00 promised (1)"),
        ("Wed 25 Nov 2026", "nothing due"),
        ("Fri 27 Nov 2026", "$250.00 promised (1)"),
        ("Mon 30 Nov 2026", "$300.00 in plan instalments (1)"),
        ("Tue 1 Dec 2026", "nothing due"),
    ]


def test_the_scheduler_posts_the_digest_with_its_chart_on_monday(ctx: AppContext, tmp_path: Path) -> None:
    ctx = replace(ctx, team=replace(ctx.team, targets=()))  # no target alerts from the imports
    _two_weeks(ctx, tmp_path)
    jobs = [job for job in JOBS if job.name in ("weekly_digest", "cash_post")]
    recorder = Recorder()
    monday = replace(ctx, clock=FixedClock(datetime(2026, 11, 23, 8, 35, tzinfo=CHICAGO)))
    tick_delivered(monday, recorder, jobs=jobs)
    assert [(kind, where, r.title) for kind, where, r in recorder.calls] == [
        ("post", "collections", "Weekly digest: Mon 16 Nov 2026 to Sun 22 Nov 2026")
    ]
    assert recorder.calls[0][2].files[0].data.startswith(b"\x89PNG")  # through the outbox and back
    tick_delivered(replace(ctx, clock=FixedClock(datetime(2026, 11, 23, 8, 50, tzinfo=CHICAGO))), recorder, jobs=jobs)
    assert len(recorder.calls) == 1  # once a week
    tick_delivered(replace(ctx, clock=FixedClock(datetime(2026, 11, 23, 16, 50, tzinfo=CHICAGO))), recorder, jobs=jobs)
    assert [r.title for _, _, r in recorder.calls][1:] == ["Cash, Mon 23 Nov 2026"]


def test_the_digest_moves_off_a_holiday() -> None:
    from commands.calendar import BusinessCalendar

    us = BusinessCalendar("US")
    timers = _timers({"digest_weekday": "Thursday"})
    # Thanksgiving, Thursday 26 Nov 2026: that week's digest goes out on Friday 27th.
    assert [d.day for d in (date(2026, 11, n) for n in range(23, 30)) if WEEKLY.matches(d, us, timers)] == [27]
    assert [d.day for d in (date(2026, 12, n) for n in range(1, 8)) if WEEKLY.matches(d, us, timers)] == [3]
    with pytest.raises(RulesError, match="digest_weekday must be a day of the week"):
        _timers({"digest_weekday": "someday"})
