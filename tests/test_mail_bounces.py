"""A bounce that comes back after the email left: a follow-up goes out through a real SMTP
server on 127.0.0.1, the recipient's server later returns it as Postfix does (a multipart/report
delivery status notification with the original's headers), and the mail alias pipes it to
`arbot mail bounce`: the email is marked bounced, audited, logged on the account and the
collector is told to check the address. Repeats, delays, strangers and garbage change nothing
and never make the mail server bounce the bounce (exit 0)."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from commands.clock import FixedClock
from commands.context import AppContext
from commands.messages import Tone
from scheduler.jobs import JOBS
from storage.models import Activity, AuditEvent, OutboxEntry, Outcome, OutgoingEmail
from tests.support.harness import Conversation, RecordingMessenger, run_job
from tests.support.mail import Received, postfix_bounce, press, send_mail, smtp_server
from tests.support.world import DANA, row_counts, seed_world

RAJ = "raj.patel@acmeortho.example"
BOUNCES = "bounces@ridgeview.example"
Cli = Callable[[list[str]], int]


@pytest.fixture
def arbot(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`arbot ...` as the mail server runs it: its own process settings, on the test's database."""
    from bot.cli import main

    url = ctx.sessions.kw["bind"].url.render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    for name in ("SMTP_URL", "SMTP_FROM", "SMTP_BOUNCE_ADDRESS", "ARBOT_TEAM_FILE"):
        monkeypatch.delenv(name, raising=False)
    return main


def _sent_follow_up(ctx: AppContext, chat: Conversation, *, bounce_address: str | None = None) -> Received:
    """Dana's call reached nobody; she emails Raj; the server takes it. What it received."""
    with smtp_server() as (server, settings):
        ctx.mail = replace(settings, bounce_address=bounce_address)
        chat.say(DANA, f'contact C200 "Raj Patel" {RAJ} billing')
        chat.say(DANA, "log C200 no-answer")
        [draft] = chat.say(DANA, "email C200")
        press(ctx, DANA, draft, "Send")
        assert send_mail(ctx, ctx.mail).sent == 1
    chat.deliver()
    [got] = server.received
    return got


def _deliver_after_the_cli(chat: Conversation, clock: FixedClock) -> None:
    """Deliver what `arbot mail bounce` queued: it ran on the real clock, so the test's clock
    moves past it first (the dispatcher sends what is due)."""
    clock.at = max(clock.at, datetime.now(UTC)) + timedelta(minutes=1)
    chat.deliver()


def _file(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_a_bounce_piped_in_later_marks_the_email_bounced_and_tells_the_collector(
    ctx: AppContext, clock: FixedClock, arbot: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    got = _sent_follow_up(ctx, chat)
    dsn = postfix_bounce(got)

    assert arbot(["mail", "bounce", _file(tmp_path, "bounce.eml", dsn)]) == 0
    assert "bounced: 5.1.1 550 5.1.1" in capsys.readouterr().out
    _deliver_after_the_cli(chat, clock)

    with ctx.sessions() as session:
        row = session.scalars(select(OutgoingEmail)).one()
        assert row.status == "bounced" and "User unknown" in (row.last_error or "")
        bounced = session.scalars(select(Activity).where(Activity.outcome == Outcome.EMAIL_BOUNCED)).one()
        assert got.message["Message-ID"] in (bounced.note or "") and RAJ in (bounced.note or "")
        assert bounced.contact_name == "Raj Patel"
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "email.bounced")).one()
        assert event.entity_id == row.id and event.customer_id == row.customer_id
    titles = [d.reply.title for d in chat.messenger.directs(DANA)]
    assert titles[-1] == "Email to Acme Ortho (C200) bounced"
    told = chat.messenger.directs(DANA)[-1].reply
    assert told.tone is Tone.ERROR and RAJ in told.text and "5.1.1" in told.text
    assert "`contact C200 <name> <email>`" in told.text

    counts = row_counts(ctx)
    assert arbot(["mail", "bounce", _file(tmp_path, "again.eml", dsn)]) == 0
    assert "already" in capsys.readouterr().out
    assert row_counts(ctx) == counts, "the same bounce twice changes nothing"


def test_a_bounce_on_stdin_as_the_mail_alias_pipes_it(
    ctx: AppContext, arbot: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    got = _sent_follow_up(ctx, chat)
    stdin = io.TextIOWrapper(io.BytesIO(postfix_bounce(got)))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert arbot(["mail", "bounce"]) == 0
    with ctx.sessions() as session:
        assert session.scalars(select(OutgoingEmail.status)).one() == "bounced"


def test_a_delay_only_says_delayed_once_and_a_later_failure_still_bounces(
    ctx: AppContext, clock: FixedClock, arbot: Cli, tmp_path: Path
) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    got = _sent_follow_up(ctx, chat)
    delay = postfix_bounce(got, status="4.4.1", action="delayed", diagnostic="Connection timed out")

    assert arbot(["mail", "bounce", _file(tmp_path, "d1.eml", delay), _file(tmp_path, "d2.eml", delay)]) == 0
    _deliver_after_the_cli(chat, clock)
    with ctx.sessions() as session:
        assert session.scalars(select(OutgoingEmail.status)).one() == "sent", "a delay is no failure"
        assert not session.scalars(select(Activity).where(Activity.outcome == Outcome.EMAIL_BOUNCED)).all()
        assert session.scalars(select(AuditEvent.action).where(AuditEvent.action == "email.delayed")).all() == [
            "email.delayed"
        ]
    delayed = [d.reply for d in chat.messenger.directs(DANA) if "delayed" in d.reply.title]
    assert [r.title for r in delayed] == ["Email to Acme Ortho (C200) delayed"], "told once"
    assert delayed[0].tone is Tone.WARNING and "4.4.1" in delayed[0].text

    assert arbot(["mail", "bounce", _file(tmp_path, "fail.eml", postfix_bounce(got))]) == 0
    with ctx.sessions() as session:
        assert session.scalars(select(OutgoingEmail.status)).one() == "bounced"


def test_strangers_non_bounces_and_garbage_are_ignored_with_exit_0_and_a_log_line(
    ctx: AppContext, arbot: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    got = _sent_follow_up(ctx, chat)
    # (stripped: a long Message-ID is folded onto a line of its own, its value read with the fold's space)
    stranger = postfix_bounce(got).replace(
        str(got.message["Message-ID"]).strip().encode(), b"<someone-else.123@elsewhere.example>"
    )
    reply = EmailMessage()
    reply["From"], reply["To"], reply["Subject"] = f"Raj Patel <{RAJ}>", "ar@ridgeview.example", "Re: open invoices"
    reply["Message-ID"] = "<reply.1@acmeortho.example>"
    reply.set_content(f"We paid last week.\n\n> Message-ID: {got.message['Message-ID']}\n")
    inputs = {
        "stranger.eml": (stranger, "no email we sent has Message-ID <someone-else.123@elsewhere.example>"),
        "reply.eml": (reply.as_bytes(), "not a bounce"),
        "garbage.eml": (bytes(range(256)) * 40, "not a bounce"),
        "empty.eml": (b"", "empty message"),
        "huge.eml": (b"Subject: x\n\n" + b"a" * (10 * 1024 * 1024 + 1), "too large"),
    }
    counts = row_counts(ctx)
    for name, (data, said) in inputs.items():
        capsys.readouterr()
        assert arbot(["mail", "bounce", _file(tmp_path, name, data)]) == 0, name
        [line] = [x for x in capsys.readouterr().err.splitlines() if "commands.mail.bounces" in x]
        assert "WARNING" in line and "bounce ignored" in line and said in line, (name, line)
    assert row_counts(ctx) == counts
    assert arbot(["mail", "bounce", str(tmp_path / "nowhere.eml")]) == 1, "a file named by a person, not the MTA"
    assert "nowhere.eml: cannot read" in capsys.readouterr().err


def test_a_statement_bounce_tells_the_accounts_collector(
    ctx: AppContext, clock: FixedClock, arbot: Cli, tmp_path: Path
) -> None:
    seed_world(ctx)
    clock.at = datetime(2026, 12, 15, 15, 0, tzinfo=UTC)
    messenger = RecordingMessenger()
    chat = Conversation(ctx, messenger)
    chat.say(DANA, 'contact C100 "Jane Doe" jane@acmedental.example billing')
    with smtp_server() as (server, settings):
        ctx.mail = settings
        run_job(ctx, next(job for job in JOBS if job.name == "statements_reminder"), messenger)
        assert send_mail(ctx, settings).sent == 1
    chat.deliver()
    [got] = server.received
    bounce = postfix_bounce(got, status="5.2.2", diagnostic="Mailbox full")
    assert arbot(["mail", "bounce", _file(tmp_path, "statement-bounce.eml", bounce)]) == 0
    _deliver_after_the_cli(chat, clock)
    [told] = [d.reply for d in messenger.directs(DANA) if "bounced" in d.reply.title]
    assert told.title == "Statement to Acme Dental Group (C100) bounced"
    assert "Mailbox full" in told.text and "jane@acmedental.example" in told.text
    with ctx.sessions() as session:
        assert session.scalars(select(OutgoingEmail.status)).one() == "bounced"
        entry = session.scalars(select(OutboxEntry).where(OutboxEntry.key.like("email:%:bounced#0"))).one()
        assert entry.status == "sent"


def test_a_statement_that_bounces_before_the_days_last_is_settled_is_counted_as_bounced(
    ctx: AppContext, clock: FixedClock, arbot: Cli, tmp_path: Path
) -> None:
    seed_world(ctx)
    clock.at = datetime(2026, 12, 15, 15, 0, tzinfo=UTC)
    messenger = RecordingMessenger()
    chat = Conversation(ctx, messenger)
    chat.say(DANA, 'contact C100 "Jane Doe" jane@acmedental.example billing')
    chat.say(DANA, f'contact C200 "Raj Patel" {RAJ} billing')
    with smtp_server() as (server, settings):
        ctx.mail = settings
        server.deferred.add(RAJ)
        run_job(ctx, next(job for job in JOBS if job.name == "statements_reminder"), messenger)
        first = send_mail(ctx, settings)
        assert (first.sent, first.retried) == (1, 1)
        [jane] = server.received
        assert arbot(["mail", "bounce", _file(tmp_path, "jane.eml", postfix_bounce(jane))]) == 0
        server.deferred.clear()
        _deliver_after_the_cli(chat, clock)
        clock.at += timedelta(hours=1)
        assert send_mail(ctx, settings).sent == 1
    chat.deliver()
    [count] = [p.reply for p in messenger.posts("collections") if p.reply.title == "Statements sent"]
    assert count.text == "2 statements sent, 0 failed, 1 bounced (their collectors were told)."
    assert count.tone is Tone.WARNING


def test_the_envelope_sender_is_the_bounce_address_when_one_is_set(ctx: AppContext) -> None:
    seed_world(ctx)
    got = _sent_follow_up(ctx, Conversation(ctx), bounce_address=BOUNCES)
    assert got.sender == BOUNCES, "MAIL FROM: where bounces go"
    assert "ar@ridgeview.example" in str(got.message["From"]), "the From the customer sees is unchanged"


def test_without_a_bounce_address_the_envelope_sender_is_the_from_address(ctx: AppContext) -> None:
    seed_world(ctx)
    got = _sent_follow_up(ctx, Conversation(ctx))
    assert got.sender == "ar@ridgeview.example"


def test_the_database_away_asks_the_mail_server_to_try_again(
    arbot: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.mail import free_port

    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/gone?connect_timeout=2")
    stdin = io.TextIOWrapper(io.BytesIO(b"Subject: Undelivered Mail Returned to Sender\n\nMessage-ID: <a@b>\n"))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert arbot(["mail", "bounce"]) == 75
    said = capsys.readouterr().err
    assert "arbot mail:" in said and "Traceback" not in said


def test_a_plain_bounce_that_quotes_the_original_headers_is_read_too(
    ctx: AppContext, arbot: Cli, tmp_path: Path
) -> None:
    """Not every server writes RFC 3464: a "Delivery Status Notification (Failure)" in words,
    the original's headers quoted in its text (qmail, some hosted mail)."""
    seed_world(ctx)
    got = _sent_follow_up(ctx, Conversation(ctx))
    notice = EmailMessage()
    notice["From"] = "Mail Delivery Subsystem <mailer-daemon@mail.acmeortho.example>"
    notice["To"] = "ar@ridgeview.example"
    notice["Subject"] = "Delivery Status Notification (Failure)"
    notice["Message-ID"] = "<notice.77@mail.acmeortho.example>"
    headers = got.content.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode()
    notice.set_content(
        f"Address not found\n\nYour message wasn't delivered to {RAJ} because the address couldn't be found.\n\n"
        f"The response was:\n\n550 5.1.1 The email account that you tried to reach does not exist.\n\n"
        f"----- Original message -----\n\n{headers}\n"
    )
    assert arbot(["mail", "bounce", _file(tmp_path, "plain.eml", notice.as_bytes())]) == 0
    with ctx.sessions() as session:
        row = session.scalars(select(OutgoingEmail)).one()
        assert row.status == "bounced"
        assert row.last_error == "5.1.1 550 5.1.1 The email account that you tried to reach does not exist."


def test_a_report_that_returns_the_whole_original_as_message_rfc822_is_read() -> None:
    """Exchange and others return the whole message; a success report is no bounce."""
    from email.message import Message
    from email.mime.message import MIMEMessage
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    from commands.mail.dsn import FAILED, Bounce, NotABounce, read_bounce

    original = EmailMessage()
    original["Message-ID"] = "<abc.arbot.7@ridgeview.example>"
    original["To"] = RAJ
    original.set_content("Hello")

    def report(action: str, status: str) -> bytes:
        whole = MIMEMultipart("report", report_type="delivery-status")
        whole["Subject"] = "Undeliverable: open invoices"
        whole.attach(MIMEText("Delivery has failed to these recipients or groups."))
        fields, per_recipient = Message(), Message()
        fields["Reporting-MTA"] = "dns;exch.acmeortho.example"
        per_recipient["Final-Recipient"] = f"rfc822;{RAJ}"
        per_recipient["Action"], per_recipient["Status"] = action, status
        per_recipient["Diagnostic-Code"] = "smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found"
        part = Message()
        part.set_type("message/delivery-status")
        part.set_payload([fields, per_recipient])
        whole.attach(part)
        whole.attach(MIMEMessage(original))
        return whole.as_bytes()

    found = read_bounce(report("failed", "5.1.10"))
    assert found == Bounce(
        message_id="<abc.arbot.7@ridgeview.example>",
        recipient=RAJ,
        status="5.1.10",
        diagnostic="550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found",
        action=FAILED,
    )
    delivered = read_bounce(report("delivered", "2.0.0"))
    assert isinstance(delivered, NotABounce) and "delivered" in delivered.why


def test_a_bounce_address_that_is_no_address_stops_the_start_with_a_message() -> None:
    from bot.settings import mail_from_env
    from commands.mail.config import MailConfigError

    base = {"SMTP_URL": "smtp://127.0.0.1:2525", "SMTP_FROM": "ar@ridgeview.example"}
    plain, with_bounces = mail_from_env(base), mail_from_env({**base, "SMTP_BOUNCE_ADDRESS": BOUNCES})
    assert plain is not None and plain.envelope_sender == "ar@ridgeview.example"
    assert with_bounces is not None and with_bounces.envelope_sender == BOUNCES
    with pytest.raises(MailConfigError, match="SMTP_BOUNCE_ADDRESS must be an email address"):
        mail_from_env({**base, "SMTP_BOUNCE_ADDRESS": "bounces at ridgeview"})


def test_settings_that_cannot_be_used_also_ask_the_mail_server_to_try_again(
    arbot: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ARBOT_TEAM_FILE", str(tmp_path / "missing-team.toml"))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Subject: hello\n\nhi\n")))
    assert arbot(["mail", "bounce"]) == 75
    assert "missing-team.toml" in capsys.readouterr().err


def test_control_characters_in_a_bounce_never_reach_the_database_or_the_log(
    ctx: AppContext, arbot: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A NUL (PostgreSQL text refuses it) and a terminal escape in the server's words."""
    seed_world(ctx)
    got = _sent_follow_up(ctx, Conversation(ctx))
    dsn = postfix_bounce(got, diagnostic="User\x00unknown\x1b[31m in virtual mailbox table")
    assert arbot(["mail", "bounce", _file(tmp_path, "nul.eml", dsn)]) == 0
    assert len([line for line in capsys.readouterr().out.splitlines() if line]) == 1
    with ctx.sessions() as session:
        row = session.scalars(select(OutgoingEmail)).one()
        assert row.status == "bounced" and (row.last_error or "").isprintable()
        assert (row.last_error or "").endswith("User unknown [31m in virtual mailbox table")
