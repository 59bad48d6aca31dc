"""A bounce that comes back after the email left: the recipient's server accepted it, then
could not deliver it and returned a report. Found by the Message-ID it names, and taken in one
transaction:

- failed for good (5.x.x): the row is marked bounced, ``email.bounced`` is audited, an
  email-bounced activity is logged on the account, and whoever asked for it (a statement's: the
  account's collector) is told through the outbox to check the address;
- delayed (4.x.x): nothing changes but the asker hears, once, that the email is late.

A second report of the same, a Message-ID we never sent, a message that is no bounce or bytes
that are no message change nothing: the answer says which, so the caller can log it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.mail.dsn import DELAYED, Bounce, NotABounce, read_bounce
from commands.mail.ledger import email_activity, email_event
from commands.mail.queue import BOUNCED, SENT
from commands.messages import Reply, Tone
from commands.outbox import enqueue
from commands.parsing.customers import describe
from storage.models import Customer, OutboxEntry, Outcome, OutgoingEmail, TeamMember
from storage.models.mail import STATEMENT

log = logging.getLogger(__name__)

# What became of one incoming message.
TAKEN, DELAY_TOLD = "bounced", "delayed"
IGNORED_NOT_A_BOUNCE, IGNORED_UNKNOWN, IGNORED_REPEAT = "not-a-bounce", "unknown", "repeat"


@dataclass(frozen=True)
class BounceResult:
    outcome: str  # one of the names above
    text: str  # one line for the log
    email_id: int | None = None

    @property
    def changed(self) -> bool:
        return self.outcome in (TAKEN, DELAY_TOLD)


def take_bounce(ctx: AppContext, raw: bytes) -> BounceResult:
    """Read ``raw`` and, when it is a bounce of an email we sent, record it (one transaction).
    Database errors propagate: the caller asks the mail server to try again later."""
    found = read_bounce(raw)
    if isinstance(found, NotABounce):
        return _logged(BounceResult(IGNORED_NOT_A_BOUNCE, f"ignored: {found.why}"))
    with ctx.sessions.begin() as session:
        row = session.scalars(
            select(OutgoingEmail).where(OutgoingEmail.message_id == found.message_id).with_for_update()
        ).first()
        if row is None:
            return _logged(
                BounceResult(IGNORED_UNKNOWN, f"ignored: no email we sent has Message-ID {found.message_id}")
            )
        if found.action == DELAYED:
            return _logged(_delayed(session, ctx, row, found))
        return _logged(_bounced(session, ctx, row, found))


def _bounced(session: Session, ctx: AppContext, row: OutgoingEmail, bounce: Bounce) -> BounceResult:
    if row.status != SENT:
        return BounceResult(IGNORED_REPEAT, f"ignored: email {row.id} is {row.status} already", row.id)
    now = ctx.clock.now()
    row.status, row.last_error = BOUNCED, bounce.reason
    to = bounce.recipient or row.to_address
    note = f"{row.purpose} to {to} bounced: {bounce.reason} (Message-ID {row.message_id})"
    activity = email_activity(session, row, Outcome.EMAIL_BOUNCED, note, at=now)
    email_event(
        session,
        row,
        "email.bounced",
        at=now,
        to=to,
        message_id=row.message_id,
        status=bounce.status,
        reason=bounce.reason,
        activity_id=activity.id,
    )
    customer = session.get_one(Customer, row.customer_id)
    _tell(
        session,
        ctx,
        row,
        _title(row, customer, "bounced"),
        Tone.ERROR,
        f"{to} could not be delivered: {bounce.reason}\nSubject: {row.subject}\nCheck the address "
        f"(`contact {customer.erp_id} <name> <email>` changes it) and send again.",
        origin=f"email:{row.id}:bounced",
    )
    return BounceResult(TAKEN, f"email {row.id} to {to} bounced: {bounce.reason}", row.id)


def _delayed(session: Session, ctx: AppContext, row: OutgoingEmail, bounce: Bounce) -> BounceResult:
    """A delay is no failure: nothing changes; the asker hears once that it is late."""
    origin = f"email:{row.id}:delayed"
    told = session.scalar(select(OutboxEntry.id).where(OutboxEntry.key == f"{origin}#0")) is not None
    if row.status != SENT or told:
        return BounceResult(IGNORED_REPEAT, f"ignored: delay of email {row.id} ({row.status}) already known", row.id)
    email_event(
        session,
        row,
        "email.delayed",
        at=ctx.clock.now(),
        to=bounce.recipient or row.to_address,
        message_id=row.message_id,
        status=bounce.status,
        reason=bounce.reason,
    )
    _tell(
        session,
        ctx,
        row,
        _title(row, session.get_one(Customer, row.customer_id), "delayed"),
        Tone.WARNING,
        f"{row.to_address} has not received it yet: {bounce.reason}\nThe recipient's server keeps "
        "trying; I will tell you if it gives up.",
        origin=origin,
    )
    return BounceResult(DELAY_TOLD, f"email {row.id} to {row.to_address} delayed: {bounce.reason}", row.id)


def _title(row: OutgoingEmail, customer: Customer, happened: str) -> str:
    """The title the asker hears first, such as "Statement to Acme Dental (C100) bounced"."""
    what = "Statement" if row.purpose == STATEMENT else "Email"
    return f"{what} to {describe(customer)} {happened}"


def _tell(
    session: Session, ctx: AppContext, row: OutgoingEmail, title: str, tone: Tone, text: str, *, origin: str
) -> None:
    """Whoever asked for the email, or for a statement the account's collector; nobody when
    neither is known (the audit event and the activity still say it)."""
    to = row.report_to
    if to is None and row.member_id is not None:
        member = session.get(TeamMember, row.member_id)
        to = member.email if member is not None and member.active else None
    if to is None:
        return
    enqueue(session, ctx, [Reply(title=title, tone=tone, text=text, to_user=to)], origin=origin)


def _logged(result: BounceResult) -> BounceResult:
    """Every incoming message leaves one log line: a warning when it was ignored."""
    log.log(logging.INFO if result.changed else logging.WARNING, "bounce %s", result.text)
    return result
