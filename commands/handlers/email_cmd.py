"""The follow-up email: ``email <customer>`` or the "Email" button on a call-list line (offered
once the day's calls reached nobody) shows the drafted email; "Send" queues the draft (drawn
again from the ledger at that moment), "Edit" opens it as a form (To, Subject, Message) whose
submission (``form.email``) queues it as edited.

The message is sent by the mail sender after this transaction commits (commands.mail.sender),
which logs the email-sent activity with its Message-ID and tells the collector how it went. The
same draft sent twice the same day is queued once."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.contacts import WHO_MAY
from commands.context import AppContext
from commands.forms import EMAIL, MAX_EMAIL_MESSAGE, MAX_EMAIL_SUBJECT, FieldErrors, refusal_of, texts
from commands.handlers.common import customer_from_button, typed_name
from commands.handlers.registry import ButtonAction, Command, ParseEnv, Registry
from commands.mail.followup import FollowUp, draft, full_body
from commands.mail.queue import Draft, queue_email
from commands.messages import Button, ButtonStyle, Field, Reply, Tone
from commands.parsing.customers import describe, resolve_customer
from commands.parsing.text import clean_text
from commands.refusal import Refusal
from storage.addresses import read_email
from storage.models import Customer
from storage.models.mail import FOLLOW_UP

USAGE = "email <customer>"
# The Edit button carries the draft to prefill its form; Slack keeps a button's data (as JSON,
# with its action and label) under 2,000 characters.
MAX_CARRIED = 1700
NOT_SET_UP = (
    "email is not set up for this team (an admin sets SMTP_URL and SMTP_FROM); "
    "log an email you sent yourself with `log <customer> email-sent`"
)


def parse(args: str, env: ParseEnv) -> Customer | Refusal:
    return resolve_customer(env.session, clean_text(args))


def handle(customer: Customer, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    """The draft, shown to the collector with Send and Edit."""
    if problem := _may_email(actor, ctx):
        return problem
    follow_up = draft(session, ctx, customer, collector=actor.email)
    if follow_up is None:
        return Refusal(
            f"{describe(customer)} has no contact with an email address; add one with "
            f"`contact {typed_name(customer)} <name> <email> billing`"
        )
    draft_value = {
        "customer": customer.erp_id,
        "to": follow_up.to_address,
        "subject": follow_up.subject,
        "message": follow_up.message,
    }
    buttons = [Button("Send", "email.send", {"customer": customer.erp_id}, ButtonStyle.PRIMARY)]
    note = ""
    if len(json.dumps(draft_value)) <= MAX_CARRIED:
        buttons.append(Button("Edit", EMAIL.name, draft_value))
    else:
        note = "\n\n(This draft is too long to edit in chat; shorten the team's followup.txt template.)"
    body = full_body(session, ctx, customer, follow_up.message)
    return [
        Reply(
            title=f"Follow-up email to {describe(customer)}",
            private=True,
            fields=(Field("To", _addressed(follow_up)), Field("Subject", follow_up.subject)),
            text=body + note,
            buttons=tuple(buttons),
        )
    ]


def email_button(value: dict[str, Any], actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    customer = customer_from_button(session, value)
    if isinstance(customer, Refusal):
        return customer
    return handle(customer, actor, ctx, session=session)


def send(value: dict[str, Any], actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    """Send (as drafted) or the submitted Edit form: checked, then queued."""
    customer = customer_from_button(session, value)
    if isinstance(customer, Refusal):
        return customer
    if problem := _may_email(actor, ctx):
        return problem
    follow_up = (
        read_follow_up(value, customer) if "message" in value else draft(session, ctx, customer, collector=actor.email)
    )
    if follow_up is None:
        return Refusal(f"{describe(customer)} has no contact with an email address any more")
    if isinstance(follow_up, dict):
        return refusal_of(follow_up, EMAIL)
    body = full_body(session, ctx, customer, follow_up.message)
    fingerprint = hashlib.sha256(f"{follow_up.to_address}\n{follow_up.subject}\n{body}".encode()).hexdigest()[:24]
    key = f"follow-up:{customer.id}:{ctx.today().isoformat()}:{fingerprint}"
    row = queue_email(
        session,
        ctx,
        Draft(follow_up.to_address, follow_up.contact_name, follow_up.subject, body),
        key=key,
        purpose=FOLLOW_UP,
        customer_id=customer.id,
        actor=actor.email,
        member_id=actor.member_id,
        report_to=actor.email,
    )
    if row is None:
        return [
            Reply(
                title=f"That email to {describe(customer)} is already on its way",
                private=True,
                text="The same email was queued earlier today; it is not sent twice.",
            )
        ]
    return [
        Reply(
            title=f"Email to {describe(customer)} queued",
            tone=Tone.SUCCESS,
            private=True,
            fields=(Field("To", _addressed(follow_up)), Field("Subject", follow_up.subject)),
            text="It goes out in a moment; I will tell you when it is sent, or why not.",
        )
    ]


def edit_without_forms(
    value: dict[str, Any], actor: Actor, ctx: AppContext, *, session: Session
) -> list[Reply] | Refusal:
    """Edit pressed where no form can be shown (the terminal)."""
    return Refusal("editing an email needs a form, which Slack and Teams show; Send sends the draft as shown")


def read_follow_up(values: dict[str, Any], customer: Customer) -> FollowUp | FieldErrors:
    """The recipient, subject and message as sent (from Send's data or the edited form)."""
    given = texts(values)
    errors: FieldErrors = {}
    to = read_email(given.get("to", ""))
    subject = clean_text(given.get("subject", "")).strip()
    message = given.get("message", "").strip()
    if to is None:
        errors["to"] = "Write one email address, like name@customer.example."
    if not subject:
        errors["subject"] = "Please fill this in."
    elif len(subject) > MAX_EMAIL_SUBJECT or "\n" in subject:
        errors["subject"] = f"One line of at most {MAX_EMAIL_SUBJECT} characters."
    if not message:
        errors["message"] = "Please fill this in."
    elif len(message) > MAX_EMAIL_MESSAGE:
        errors["message"] = f"At most {MAX_EMAIL_MESSAGE:,} characters; this has {len(message):,}."
    if errors or to is None:
        return errors
    name = next((c.name for c in customer.contacts if (c.email or "").lower() == to.lower()), None)
    return FollowUp(to, name, subject, message)


def _may_email(actor: Actor, ctx: AppContext) -> Refusal | None:
    if ctx.mail is None:
        return Refusal(NOT_SET_UP)
    if not actor.member.roles & WHO_MAY:
        return Refusal("emailing customers is for collectors, finance and managers on this team")
    return None


def _addressed(follow_up: FollowUp) -> str:
    return f"{follow_up.contact_name} <{follow_up.to_address}>" if follow_up.contact_name else follow_up.to_address


COMMAND = Command(
    name="email",
    usage=USAGE,
    parse=parse,
    handle=handle,
    summary="Draft a follow-up email to the customer's billing contact (open items, how to pay); edit and send.",
    examples=("email acme dental", "email C200"),
    try_it="email <customer>",
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
    registry.add_action(ButtonAction("email", email_button))
    registry.add_action(ButtonAction("email.send", send))
    registry.add_action(ButtonAction(EMAIL.name, edit_without_forms))
    registry.add_action(ButtonAction(EMAIL.action or "form.email", send))
