"""The mail sender: delivers queued emails after the transaction that queued them committed.

A round claims the due rows for a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two
processes never take the same row), then sends each on its own and settles it in a transaction
of its own, so one refused recipient or one slow server holds up no other message:

- sent: the Message-ID is stored, an email-sent activity is logged on the account (with its
  audit event) and, for a follow-up, the collector is told in chat;
- refused (5xx): failed for good; the collector is told the server's words;
- unreachable or 4xx: tried again after a growing wait; the collector is told once that it is
  waiting, and again if it is given up after :data:`MAX_ATTEMPTS`.

A statement's outcome is not told one by one: when the last statement of a statement day is
settled, the collections channel gets how many were sent and how many failed (once)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.mail.config import MailSettings
from commands.mail.ledger import email_activity, email_event
from commands.mail.queue import BOUNCED, FAILED, PENDING, SENDING, SENT
from commands.mail.transport import MailRefused, MailUnreachable, send_message
from commands.messages import Reply, Tone, Where
from commands.outbox import enqueue
from commands.parsing.customers import describe
from commands.suspension.sequence import tick
from commands.wording import local_moment, plural
from storage.models import Customer, OutboxEntry, Outcome, OutgoingEmail
from storage.models.mail import STATEMENT

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 60
BATCH = 50
Send = Callable[[MailSettings, EmailMessage], None]


@dataclass
class MailReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class MailSender:
    def __init__(self, ctx: AppContext, settings: MailSettings, *, send: Send = send_message) -> None:
        self.ctx, self.settings, self.send = ctx, settings, send

    def run_once(self) -> MailReport:
        """Claim what is due and deliver each, one by one."""
        report = MailReport()
        for email_id in self._claim():
            try:
                outcome = self._deliver(email_id)
            except Exception:  # the database away while settling: the lease runs out, the row is tried again
                log.exception("email %s: delivery not settled", email_id)
                continue
            setattr(report, outcome, getattr(report, outcome) + 1)
        if report.sent + report.retried + report.failed:
            self.ctx.on_enqueued()
        return report

    def _claim(self) -> list[int]:
        now = self.ctx.clock.now()
        due = or_(
            and_(OutgoingEmail.status == PENDING, OutgoingEmail.next_attempt_at <= now),
            and_(OutgoingEmail.status == SENDING, OutgoingEmail.claimed_until < now),
        )
        with self.ctx.sessions.begin() as session:
            rows = session.scalars(
                select(OutgoingEmail)
                .where(due)
                .order_by(OutgoingEmail.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.status, row.claimed_until = SENDING, now + LEASE
            return [row.id for row in rows]

    def _deliver(self, email_id: int) -> str:
        with self.ctx.sessions() as session:
            row = session.get_one(OutgoingEmail, email_id)
            message = self._message(row)
            session.expunge(row)
        try:
            self.send(self.settings, message)
        except MailRefused as exc:
            refusal = str(exc)
            return self._settle(email_id, lambda s, r: self._refused(s, r, refusal))
        except MailUnreachable as exc:
            problem = str(exc)
            return self._settle(email_id, lambda s, r: self._unreachable(s, r, problem))
        except Exception as exc:  # a bug or a surprise must not stop the other messages
            log.exception("email %s could not be sent", email_id)
            surprise = f"unexpected error: {exc}"
            return self._settle(email_id, lambda s, r: self._unreachable(s, r, surprise))
        message_id = str(message["Message-ID"])
        return self._settle(email_id, lambda s, r: self._sent(s, r, message_id))

    def _settle(self, email_id: int, settle: Callable[[Session, OutgoingEmail], str]) -> str:
        with self.ctx.sessions.begin() as session:
            row = session.get_one(OutgoingEmail, email_id)
            outcome = settle(session, row)
            day = row.statement_day if row.purpose == STATEMENT and row.status in (SENT, FAILED) else None
        if day is not None:
            self._statement_summary(day)
        return outcome

    def _message(self, row: OutgoingEmail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = formataddr((self.ctx.team.name, self.settings.sender))
        message["To"] = formataddr((row.contact_name or "", row.to_address))
        if row.report_to:
            message["Reply-To"] = row.report_to
        message["Subject"] = row.subject
        message["Date"] = format_datetime(self.ctx.clock.now())
        message["Message-ID"] = make_msgid(idstring=f"arbot.{row.id}", domain=self.settings.sender.rpartition("@")[2])
        message.set_content(row.body)
        if row.attachment is not None and row.attachment_name and row.attachment_mime:
            maintype, _, subtype = row.attachment_mime.partition("/")
            message.add_attachment(row.attachment, maintype=maintype, subtype=subtype, filename=row.attachment_name)
        return message

    def _sent(self, session: Session, row: OutgoingEmail, message_id: str) -> str:
        now = self.ctx.clock.now()
        row.status, row.message_id, row.sent_at, row.attempts = SENT, message_id, now, row.attempts + 1
        row.last_error, row.claimed_until = None, None
        note = f"{row.purpose} to {row.to_address}: {row.subject} (Message-ID {message_id})"
        activity = email_activity(session, row, Outcome.EMAIL_SENT, note, at=now)
        email_event(
            session, row, "email.sent", at=now, to=row.to_address, message_id=message_id, activity_id=activity.id
        )
        if row.purpose != STATEMENT:  # a follow-up email does the suspension sequence's email step
            ticked = [
                replace(r, to_user=row.report_to) if r.for_asker and row.report_to else r
                for r in tick(session, self.ctx, activity, None)
            ]
            enqueue(session, self.ctx, ticked, origin=f"email:{row.id}:suspension")
        customer = session.get_one(Customer, row.customer_id)
        self._tell(
            session,
            row,
            f"Email sent to {describe(customer)}",
            Tone.SUCCESS,
            f"To {row.to_address}: {row.subject}\nMessage-ID {message_id}",
        )
        return "sent"

    def _refused(self, session: Session, row: OutgoingEmail, reason: str) -> str:
        now = self.ctx.clock.now()
        row.status, row.last_error, row.attempts, row.claimed_until = FAILED, reason, row.attempts + 1, None
        email_event(session, row, "email.refused", at=now, to=row.to_address, reason=reason)
        customer = session.get_one(Customer, row.customer_id)
        self._tell(
            session,
            row,
            f"Email to {describe(customer)} was refused",
            Tone.ERROR,
            f"The mail server refused {row.to_address}: {reason}\nNothing was sent. Check the address "
            f"(`contact {customer.erp_id} <name> <email>` changes it) and send again.",
        )
        return "failed"

    def _unreachable(self, session: Session, row: OutgoingEmail, reason: str) -> str:
        now = self.ctx.clock.now()
        row.attempts, row.last_error, row.claimed_until = row.attempts + 1, reason, None
        customer = session.get_one(Customer, row.customer_id)
        if row.attempts >= MAX_ATTEMPTS:
            row.status = FAILED
            email_event(session, row, "email.failed", at=now, to=row.to_address, reason=reason)
            self._tell(
                session,
                row,
                f"Email to {describe(customer)} not sent",
                Tone.ERROR,
                f"The mail server could not be reached after {plural(row.attempts, 'try')}: {reason}",
            )
            return "failed"
        row.status = PENDING
        row.next_attempt_at = now + timedelta(seconds=BACKOFF_BASE_SECONDS * 2 ** (row.attempts - 1))
        if not row.told_unreachable:
            row.told_unreachable = self._tell(
                session,
                row,
                f"Email to {describe(customer)} is waiting",
                Tone.WARNING,
                f"The mail server could not be reached ({reason}). I will try again at "
                f"{local_moment(self.ctx, row.next_attempt_at)} and tell you if it cannot be sent.",
            )
        return "retried"

    def _tell(self, session: Session, row: OutgoingEmail, title: str, tone: Tone, text: str) -> bool:
        """Tell whoever asked for a follow-up email what became of it (statements are counted in
        the collections channel instead). Whether anyone was told."""
        if row.purpose == STATEMENT or not row.report_to:
            return False
        reply = Reply(title=title, tone=tone, text=text, to_user=row.report_to)
        enqueue(session, self.ctx, [reply], origin=f"email:{row.id}:{row.status}:{row.attempts}")
        return True

    def _statement_summary(self, day: date) -> None:
        """Once every statement of ``day`` is settled: the count sent and failed, in collections."""
        key = f"statements-sent:{day.isoformat()}"
        try:
            with self.ctx.sessions.begin() as session:
                if session.scalar(select(OutboxEntry.id).where(OutboxEntry.key == f"{key}#0")) is not None:
                    return
                counts = dict(
                    session.execute(
                        select(OutgoingEmail.status, func.count())
                        .where(OutgoingEmail.purpose == STATEMENT, OutgoingEmail.statement_day == day)
                        .group_by(OutgoingEmail.status)
                    ).all()
                )
                if counts.get(PENDING) or counts.get(SENDING):
                    return
                # one that bounced before the last was settled was sent, then came back
                bounced, failed = counts.get(BOUNCED, 0), counts.get(FAILED, 0)
                sent = counts.get(SENT, 0) + bounced
                came_back = f", {bounced} bounced (their collectors were told)" if bounced else ""
                enqueue(
                    session,
                    self.ctx,
                    [
                        Reply(
                            title="Statements sent",
                            text=f"{plural(sent, 'statement')} sent, {failed} failed{came_back}.",
                            tone=Tone.WARNING if failed or bounced else Tone.SUCCESS,
                            where=Where(self.ctx.team.workflow.channels.collections),
                        )
                    ],
                    origin=key,
                )
        except IntegrityError:  # another sender posted it a moment ago
            return
