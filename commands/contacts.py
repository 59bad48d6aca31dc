"""Adding and changing a customer's contacts from chat: a name with an email or a phone number
and, optionally, a role ("billing", "AP manager"). A contact of the same name (any case) is
changed; else one is added, the primary one when the customer had none. Statements and
follow-ups go to the contact whose role says billing or payables (commands.mail.followup)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.context import AppContext
from storage.audit import record
from storage.models import Contact, Customer

MAX_NAME = 200  # contacts.name
MAX_ROLE = 100  # contacts.title
WHO_MAY = frozenset({"collector", "manager", "finance", "finance_lead", "controller", "vp_finance", "admin"})


@dataclass(frozen=True)
class ContactChange:
    customer: Customer
    name: str
    email: str | None
    phone: str | None
    role: str | None


@dataclass(frozen=True)
class Saved:
    contact: Contact
    added: bool
    before: dict[str, str | None]


def save_contact(session: Session, ctx: AppContext, change: ContactChange, actor: Actor) -> Saved:
    """Add or change the contact, with its audit event, in the caller's transaction."""
    customer = change.customer
    found = next((c for c in customer.contacts if c.name.strip().lower() == change.name.lower()), None)
    before = _fields(found) if found is not None else {}
    contact = found or Contact(customer_id=customer.id, name=change.name, is_primary=not customer.contacts)
    if found is None:
        customer.contacts.append(contact)
    contact.name = change.name
    if change.email is not None:
        contact.email = change.email
    if change.phone is not None:
        contact.phone = change.phone
    if change.role is not None:
        contact.title = change.role
    session.flush()
    action = "contact.added" if found is None else "contact.changed"
    record(
        session,
        at=ctx.clock.now(),
        actor=actor.email,
        action=action,
        entity_type="contact",
        entity_id=contact.id,
        customer_id=customer.id,
        before=before,
        after=_fields(contact),
    )
    return Saved(contact, found is None, before)


def _fields(contact: Contact) -> dict[str, str | None]:
    return {"name": contact.name, "email": contact.email, "phone": contact.phone, "role": contact.title}
