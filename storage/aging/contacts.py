"""Billing emails an export carries (a "Billing Email" column): each customer's billing contact,
so statements and follow-ups reach the person who pays. A customer that already has a contact
with that address is left alone; else its billing contact (role "billing") gets the new address,
or one is added. Each change is audited. A cell that is not an email address is skipped: the
invoices on its line are still good, and the bad address is never stored."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.addresses import read_email
from storage.audit import record
from storage.models import Contact

BILLING = "billing"


def billing_contacts(session: Session, ids: np.ndarray, emails: Iterable[object], *, at: datetime, actor: str) -> int:
    """Apply the file's billing emails (``emails[i]`` for customer ``ids[i]``); returns how many
    contacts were added or changed."""
    wanted = {
        int(customer): email
        for customer, text in zip(ids, emails, strict=True)
        if (email := read_email(str(text or ""))) is not None
    }
    if not wanted:
        return 0
    contacts: dict[int, list[Contact]] = {}
    for contact in session.scalars(select(Contact).where(Contact.customer_id.in_(list(wanted))).order_by(Contact.id)):
        contacts.setdefault(contact.customer_id, []).append(contact)
    changed = 0
    for customer_id, email in wanted.items():
        own = contacts.get(customer_id, [])
        if any((c.email or "").lower() == email.lower() for c in own):
            continue
        billing = next((c for c in own if (c.title or "").strip().lower() == BILLING), None)
        before = billing.email if billing is not None else None
        if billing is None:
            billing = Contact(customer_id=customer_id, name="Billing", title=BILLING, is_primary=not own)
            session.add(billing)
        billing.email = email
        session.flush()
        record(
            session,
            at=at,
            actor=actor,
            action="contact.imported",
            entity_type="contact",
            entity_id=billing.id,
            customer_id=customer_id,
            email={"from": before, "to": email},
        )
        changed += 1
    return changed
