"""The follow-up email, as a collector does it: a call that reached nobody, the list line's
Email button, the draft shown in chat, edited or sent as is, and the message at a real SMTP
server on 127.0.0.1 with the open items and how to pay; the email-sent activity with its
Message-ID; a refused recipient and a server that is down told to the collector in chat."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from commands.context import AppContext
from commands.mail import sender as mail_sender
from commands.messages import Tone
from storage.models import Activity, AuditEvent, Outcome, OutgoingEmail
from tests.support.harness import Conversation
from tests.support.mail import FROM, act, free_port, press, self_signed, send_mail, smtp_server, text_body
from tests.support.world import DANA, refused, row_counts, seed_world

RAJ = "raj.patel@acmeortho.example"


def _called_without_reaching(chat: Conversation) -> None:
    chat.say(DANA, f'contact C200 "Raj Patel" {RAJ} billing')
    chat.say(DANA, "log C200 no-answer")


def test_a_call_that_reached_nobody_offers_email_and_the_sent_email_is_logged(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    with smtp_server() as (server, settings):
        ctx.mail = settings
        [before] = chat.say(DANA, "list")
        assert not any(b.label == "Email" for row in before.rows for b in row.buttons), "no call yet today"
        _called_without_reaching(chat)
        [listed] = chat.say(DANA, "list")
        offered = {row.title for row in listed.rows if any(b.label == "Email" for b in row.buttons)}
        assert offered == {"Acme Ortho (C200)"}

        row = next(r for r in listed.rows if r.title == "Acme Ortho (C200)")
        email_button = next(b for b in row.buttons if b.label == "Email")
        [draft] = act(ctx, DANA, email_button.action, email_button.value)
        assert draft.private and dict((f.label, f.value) for f in draft.fields)["To"] == f"Raj Patel <{RAJ}>"
        assert "A-1" in draft.text and "$800.00" in draft.text and "How to pay" in draft.text

        [queued] = press(ctx, DANA, draft, "Send")
        assert queued.tone is Tone.SUCCESS, queued
        assert server.received == [], "nothing is sent inside the request"
        report = send_mail(ctx, settings)
        chat.deliver()

    assert (report.sent, report.failed) == (1, 0)
    [got] = server.received
    message = got.message
    assert got.recipients == [RAJ]
    assert message["To"] == f"Raj Patel <{RAJ}>" and FROM in message["From"]
    assert message["Reply-To"] == DANA
    assert message["Subject"] == "Ridgeview Collections: open invoices for Acme Ortho"
    body = text_body(message)
    assert body.startswith("Hello Raj Patel,")
    assert "A-1" in body and "Total" in body and "$800.00" in body and "How to pay" in body
    with ctx.sessions() as session:
        activity = session.scalars(select(Activity).where(Activity.outcome == Outcome.EMAIL_SENT)).one()
        assert message["Message-ID"] in (activity.note or "")
        assert activity.contact_name == "Raj Patel"
        actions = set(session.scalars(select(AuditEvent.action)))
        assert {"contact.added", "email.queued", "email.sent"} <= actions
    [told] = chat.messenger.directs(DANA)
    assert told.reply.title == "Email sent to Acme Ortho (C200)"
    assert message["Message-ID"] in told.reply.text


def test_the_edited_draft_is_what_goes_out_and_a_bad_address_writes_nothing(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    with smtp_server() as (server, settings):
        ctx.mail = settings
        _called_without_reaching(chat)
        [draft] = chat.say(DANA, "email C200")
        counts = row_counts(ctx)
        bad = refused(press(ctx, DANA, draft, "Edit", to="raj at acme", subject="Invoices", message="Hi Raj"))
        assert "To:" in bad.text or "To:" in bad.title, bad
        assert row_counts(ctx) == counts, "a refused form writes nothing"
        [queued] = press(
            ctx,
            DANA,
            draft,
            "Edit",
            to="ap@acmeortho.example",
            subject="Invoice A-1",
            message="Hi team,\n\nplease see below.\n\nDana",
        )
        assert queued.tone is Tone.SUCCESS
        [again] = press(
            ctx,
            DANA,
            draft,
            "Edit",
            to="ap@acmeortho.example",
            subject="Invoice A-1",
            message="Hi team,\n\nplease see below.\n\nDana",
        )
        assert "already on its way" in again.title
        send_mail(ctx, settings)
    [got] = server.received
    assert got.recipients == ["ap@acmeortho.example"] and got.message["Subject"] == "Invoice A-1"
    body = text_body(got.message)
    assert body.startswith("Hi team,") and "A-1" in body and "How to pay" in body


def test_a_refused_recipient_is_told_and_does_not_hold_up_the_next_email(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    with smtp_server() as (server, settings):
        ctx.mail = settings
        server.refused.add("gone@acmedental.example")
        chat.say(DANA, "contact C100 Old Contact gone@acmedental.example billing")
        _called_without_reaching(chat)
        [first] = chat.say(DANA, "email C100")
        [second] = chat.say(DANA, "email C200")
        press(ctx, DANA, first, "Send")
        press(ctx, DANA, second, "Send")
        report = send_mail(ctx, settings)
        chat.deliver()
    assert (report.sent, report.failed) == (1, 1)
    assert [r.recipients for r in server.received] == [[RAJ]]
    told = {d.reply.title: d.reply for d in chat.messenger.directs(DANA)}
    refusal = told["Email to Acme Dental Group (C100) was refused"]
    assert refusal.tone is Tone.ERROR and "550" in refusal.text and "gone@acmedental.example" in refusal.text
    assert "Email sent to Acme Ortho (C200)" in told
    with ctx.sessions() as session:
        failed = session.scalars(select(OutgoingEmail).where(OutgoingEmail.status == "failed")).one()
        assert failed.to_address == "gone@acmedental.example" and "550" in (failed.last_error or "")
        assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "email.refused"))


def test_a_mail_server_that_is_down_is_told_once_retried_and_given_up(ctx: AppContext) -> None:
    from commands.mail.config import MailSettings

    seed_world(ctx)
    chat = Conversation(ctx)
    down = MailSettings(host="127.0.0.1", port=free_port(), sender=FROM, timeout=2)
    ctx.mail = down
    _called_without_reaching(chat)
    [draft] = chat.say(DANA, "email C200")
    press(ctx, DANA, draft, "Send")
    first = send_mail(ctx, down)
    chat.deliver()
    assert (first.sent, first.retried) == (0, 1)
    [waiting] = chat.messenger.directs(DANA)
    assert waiting.reply.title == "Email to Acme Ortho (C200) is waiting" and "not be reached" in waiting.reply.text
    assert send_mail(ctx, down).retried == 0, "not before its retry time"
    for _ in range(mail_sender.MAX_ATTEMPTS - 1):
        ctx.clock.advance(hours=2)  # type: ignore[attr-defined]
        send_mail(ctx, down)
    chat.deliver()
    titles = [d.reply.title for d in chat.messenger.directs(DANA)]
    assert titles == ["Email to Acme Ortho (C200) is waiting", "Email to Acme Ortho (C200) not sent"]
    with ctx.sessions() as session:
        row = session.scalars(select(OutgoingEmail)).one()
        assert (row.status, row.attempts) == ("failed", mail_sender.MAX_ATTEMPTS)
        assert not session.scalars(select(Activity).where(Activity.outcome == Outcome.EMAIL_SENT)).all()


def test_email_without_a_mail_server_or_a_contact_is_refused_and_writes_nothing(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    counts = row_counts(ctx)
    assert "not set up" in refused(chat.say(DANA, "email C200")).text + refused(chat.say(DANA, "email C200")).title
    with smtp_server() as (_server, settings):
        ctx.mail = settings
        no_contact = refused(chat.say(DANA, "email C200"))
        assert "no contact with an email" in no_contact.title + no_contact.text
    assert row_counts(ctx) == counts


def test_a_server_that_offers_starttls_gets_the_email_encrypted(ctx: AppContext, tmp_path: Path) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    with smtp_server(certificate=self_signed(tmp_path)) as (server, settings):
        ctx.mail = settings
        _called_without_reaching(chat)
        [draft] = chat.say(DANA, "email C200")
        press(ctx, DANA, draft, "Send")
        assert send_mail(ctx, settings).sent == 1
    [got] = server.received
    assert got.encrypted and got.recipients == [RAJ]


def test_a_certificate_the_bot_does_not_trust_is_not_sent_to(ctx: AppContext, tmp_path: Path) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    with smtp_server(certificate=self_signed(tmp_path)) as (server, settings):
        ctx.mail = replace(settings, ca_file=None)
        _called_without_reaching(chat)
        [draft] = chat.say(DANA, "email C200")
        press(ctx, DANA, draft, "Send")
        assert send_mail(ctx, ctx.mail).retried == 1
        chat.deliver()
    assert server.received == []
    [waiting] = chat.messenger.directs(DANA)
    assert "certificate" in waiting.reply.text.lower(), waiting.reply.text


def test_the_teams_own_template_is_used_and_a_draft_too_long_to_edit_is_still_sent(
    ctx: AppContext, tmp_path: Path
) -> None:
    (tmp_path / "mail").mkdir()
    letter = "Dear $contact,\n\n" + "We value your business. " * 80 + "\n\n$collector"
    (tmp_path / "mail" / "followup.txt").write_text("Subject: $customer: a word about $balance\n" + letter)
    ctx.team_folder = tmp_path
    seed_world(ctx)
    chat = Conversation(ctx)
    with smtp_server() as (server, settings):
        ctx.mail = settings
        _called_without_reaching(chat)
        [draft] = chat.say(DANA, "email C200")
        assert [b.label for b in draft.buttons] == ["Send"] and "too long to edit in chat" in draft.text
        press(ctx, DANA, draft, "Send")
        send_mail(ctx, settings)
    [got] = server.received
    assert got.message["Subject"] == "Acme Ortho: a word about $800.00"
    body = text_body(got.message)
    assert body.startswith("Dear Raj Patel,") and body.count("We value your business.") == 80
    assert "Dana Reyes" in body and "A-1" in body and "How to pay" in body
