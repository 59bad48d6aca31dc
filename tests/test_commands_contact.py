"""``contact <customer> <name> <email|phone> [role]``: a contact added, then changed by name;
phone numbers with spaces; the customer read as the longest phrase that names one; bad input
refused with what was wrong, writing nothing; each change with its audit event. And the mail
settings read from SMTP_URL / SMTP_FROM."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.settings import mail_from_env
from commands.context import AppContext
from commands.mail.config import MailConfigError
from commands.messages import Tone
from storage.addresses import read_email, read_phone
from storage.models import AuditEvent, Contact
from tests.support.harness import Conversation
from tests.support.world import DANA, PRIYA, refused, row_counts, seed_world


def contacts(ctx: AppContext, customer: int) -> list[tuple[str, str | None, str | None, str | None, bool]]:
    with ctx.sessions() as session:
        return [
            (c.name, c.email, c.phone, c.title, c.is_primary)
            for c in session.scalars(select(Contact).where(Contact.customer_id == customer).order_by(Contact.id))
        ]


def test_a_contact_is_added_then_changed_by_name_with_its_audit_events(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    chat = Conversation(ctx)
    [added] = chat.say(DANA, 'contact acme dental group "Jane Doe" Jane@AcmeDental.Example billing')
    assert added.tone is Tone.SUCCESS and added.title == "Added contact for Acme Dental Group (C100)"
    [phone] = chat.say(DANA, "contact C100 Bob Ames +1 (555) 010-2030 office manager")
    assert phone.title == "Added contact for Acme Dental Group (C100)"
    [changed] = chat.say(DANA, "contact route 66 dental jane doe 555 010 9999")
    assert changed.title == "Added contact for Route 66 Dental (C400)", "the 66 is the customer's, not a phone"
    [changed] = chat.say(PRIYA, "contact C100 jane doe jane.doe@acmedental.example")
    assert changed.title == "Changed contact for Acme Dental Group (C100)"
    assert contacts(ctx, ids["C100"]) == [
        ("jane doe", "jane.doe@acmedental.example", None, "billing", True),
        ("Bob Ames", None, "+1 (555) 010-2030", "office manager", False),
    ]
    assert contacts(ctx, ids["C400"]) == [("jane doe", None, "555 010 9999", None, True)]
    with ctx.sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("contact.%")).order_by(AuditEvent.id)
        ).all()
    assert [e.action for e in events] == ["contact.added", "contact.added", "contact.added", "contact.changed"]
    assert events[-1].actor == PRIYA
    assert events[-1].data["before"]["email"] == "Jane@acmedental.example"
    assert events[-1].data["after"]["email"] == "jane.doe@acmedental.example"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("contact C100 Jane jane@@acme", "is not an email address"),
        ("contact C100 Jane jane@acme", "is not an email address"),
        ("contact C100 Jane Doe", "which email or phone number"),
        ("contact C100 jane@acme.example", "which customer, and the contact's name"),
        ("contact C100 Jane 12 34 567 8901 2345 678", "is not a phone number"),
        ("contact acme Jane jane@acme.example", "matches several customers"),
        ("contact nobody Jane jane@acme.example", "no customer matches"),
        ("contact C100 Jane jane@acme.example " + "r" * 101, "a role can be at most 100 characters"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(ctx: AppContext, text: str, said: str) -> None:
    seed_world(ctx)
    counts = row_counts(ctx)
    reply = refused(Conversation(ctx).say(DANA, text))
    assert said in reply.title + " " + reply.text, reply
    assert row_counts(ctx) == counts


def test_addresses_and_phone_numbers() -> None:
    assert read_email(" <Ap@Acme.Example> ") == "Ap@acme.example"
    assert [read_email(t) for t in ("a@b", "a b@c.com", "a..b@c.com", "@c.com")] == [None] * 4
    assert read_phone("+1 (555) 010-2030 ext 12") == "+1 (555) 010-2030 ext 12"
    assert [read_phone(t) for t in ("12345", "555-CALL-NOW", "1" * 16)] == [None] * 3


def test_mail_settings_come_from_smtp_url_and_smtp_from() -> None:
    assert mail_from_env({}) is None
    plain = mail_from_env({"SMTP_URL": "smtp://ar%40x:p%3Ass@mail.example:2525", "SMTP_FROM": "ar@x.example"})
    assert plain is not None
    assert (plain.host, plain.port, plain.username, plain.password, plain.implicit_tls) == (
        "mail.example",
        2525,
        "ar@x",
        "p:ss",
        False,
    )
    assert "p:ss" not in repr(plain)
    tls = mail_from_env({"SMTP_URL": "smtps://mail.example", "SMTP_FROM": "ar@x.example"})
    assert tls is not None and (tls.port, tls.implicit_tls) == (465, True)
    for environ in (
        {"SMTP_URL": "smtp://mail.example"},
        {"SMTP_URL": "http://mail.example", "SMTP_FROM": "a@b.co"},
        {"SMTP_URL": "smtp://mail.example", "SMTP_FROM": "not an address"},
    ):
        with pytest.raises(MailConfigError):
            mail_from_env(environ)
