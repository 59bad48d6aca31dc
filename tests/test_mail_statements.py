"""Statement day: each customer with an open balance and a billing email gets its statement
(a workbook, attached) through a real SMTP server on 127.0.0.1; the workbook is opened and its
items, days past due, total and aging checked; the collections channel hears how many were
sent and how many failed; a second run of the day sends nobody a second statement."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import select

from commands.clock import FixedClock
from commands.context import AppContext
from scheduler.jobs import JOBS
from storage.models import Activity, Outcome, OutgoingEmail
from tests.support.harness import Conversation, RecordingMessenger, run_job
from tests.support.mail import attachments, send_mail, smtp_server, text_body
from tests.support.world import DANA, seed_world

STATEMENTS = next(job for job in JOBS if job.name == "statements_reminder")
STATEMENT_DAY = datetime(2026, 12, 15, 15, 0, tzinfo=UTC)  # Tue 15 Dec, 9:00 in Chicago


def _contacts(ctx: AppContext) -> None:
    chat = Conversation(ctx)
    chat.say(DANA, 'contact C100 "Jane Doe" jane@acmedental.example billing')
    chat.say(DANA, 'contact C100 "Bob Ames" +1 555 010 2030 office manager')
    chat.say(DANA, "contact C200 Ghost gone@acmeortho.example accounts payable")


def test_statement_day_sends_each_owing_customer_its_statement_once(ctx: AppContext, clock: FixedClock) -> None:
    seed_world(ctx)
    clock.at = STATEMENT_DAY
    messenger = RecordingMessenger()
    with smtp_server() as (server, settings):
        ctx.mail = settings
        server.refused.add("gone@acmeortho.example")
        _contacts(ctx)
        result = run_job(ctx, STATEMENTS, messenger)
        assert result.counts == {"customers": 7, "queued": 2, "no_email": 5}
        [morning] = messenger.posts("collections")
        assert (
            morning.reply.text == "7 customers have open balances. 2 statements going out by email; "
            "5 without a billing email."
        )
        report = send_mail(ctx, settings)
        Conversation(ctx, messenger).deliver()
        assert (report.sent, report.failed) == (1, 1)

        again = run_job(ctx, STATEMENTS, messenger)  # a restart runs the day's job again
        assert again.counts["queued"] == 0
        assert send_mail(ctx, settings).sent == 0
        Conversation(ctx, messenger).deliver()

    [got] = server.received
    assert got.recipients == ["jane@acmedental.example"]
    assert (
        got.message["Subject"] == "Ridgeview Collections: statement of account for Acme Dental Group, Tue 15 Dec 2026"
    )
    assert "Attached is your statement of account" in text_body(got.message)
    [(name, mime, data)] = attachments(got.message)
    assert name == "statement-C100-2026-12-15.xlsx"
    assert mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    items, total, aging = read_statement(data)
    assert items == [
        ("INV-3", "invoice", date(2026, 8, 1), 136, Decimal("2000.00")),
        ("INV-4", "invoice", date(2026, 9, 1), 105, Decimal("100.10")),
        ("INV-1", "invoice", date(2026, 10, 1), 75, Decimal("1000.00")),
        ("CM-1", "credit memo", date(2026, 11, 10), None, Decimal("-250.00")),
        ("INV-2", "invoice", date(2026, 11, 30), 15, Decimal("500.00")),
    ]
    assert total == Decimal("3350.10")
    assert aging == {
        "Not yet due": Decimal("0"),
        "1-30 days past due": Decimal("500.00"),
        "31-60 days past due": Decimal("-250.00"),
        "61-90 days past due": Decimal("1000.00"),
        "Over 90 days past due": Decimal("2100.10"),
    }

    [sent_post] = [p for p in messenger.posts("collections") if p.reply.title == "Statements sent"]
    assert sent_post.reply.text == "1 statement sent, 1 failed."
    with ctx.sessions() as session:
        assert [e.status for e in session.scalars(select(OutgoingEmail).order_by(OutgoingEmail.id))] == [
            "sent",
            "failed",
        ]
        [activity] = session.scalars(select(Activity).where(Activity.outcome == Outcome.EMAIL_SENT)).all()
        assert got.message["Message-ID"] in (activity.note or "") and activity.contact_name == "Jane Doe"


def test_without_a_mail_server_statement_day_only_counts(ctx: AppContext, clock: FixedClock) -> None:
    seed_world(ctx)
    clock.at = STATEMENT_DAY
    messenger = RecordingMessenger()
    result = run_job(ctx, STATEMENTS, messenger)
    assert result.counts == {"customers": 7}
    assert messenger.posts("collections")[0].reply.text == "7 customers have open balances."
    with ctx.sessions() as session:
        assert session.scalars(select(OutgoingEmail)).all() == []


def read_statement(data: bytes) -> tuple[list[tuple[object, ...]], Decimal, dict[str, Decimal]]:
    """The items table (number, kind, due, days past due, open), the total and the aging, read
    from the workbook's cells as a person would find them."""
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    rows = [tuple(cell.value for cell in row) for row in sheet.iter_rows()]
    head = next(i for i, row in enumerate(rows) if row[0] == "Invoice")
    assert rows[head] == ("Invoice", "Kind", "Issued", "Due", "Days past due", "Amount", "Open")
    end = next(i for i, row in enumerate(rows) if row[0] == "Total open")
    items = [(r[0], r[1], _day(r[3]), r[4], _money(r[6])) for r in rows[head + 1 : end]]
    aging_at = next(i for i, row in enumerate(rows) if row[0] == "Aging")
    aging = {str(r[0]): _money(r[6]) for r in rows[aging_at + 1 : aging_at + 6]}
    return items, _money(rows[end][6]), aging


def _day(value: object) -> date:
    assert isinstance(value, datetime)
    return value.date()


def _money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01")) if value not in (None, 0) else Decimal("0")
