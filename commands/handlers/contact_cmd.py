"""``contact <customer> <name> <email|phone> [role]``: add a customer's contact or change one,
so the next call, follow-up email or statement reaches the right person.

The customer comes first and the address (anything with an @ is read as an email; digits,
spaces and ``+()-./`` as a phone number) splits the name from the role. The longest customer
phrase that names one customer wins, so ``contact acme dental group Jane Doe jane@x.com``
is Jane Doe at Acme Dental Group; quote a name to be sure."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.contacts import MAX_NAME, MAX_ROLE, WHO_MAY, ContactChange, save_contact
from commands.context import AppContext
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.messages import Field, Reply, Tone
from commands.parsing.customers import MAX_NAME_LENGTH, describe, resolve_first
from commands.parsing.text import Token, clean_text, phrase, quote, tokenize
from commands.refusal import Refusal
from storage.addresses import MIN_PHONE_DIGITS, looks_like_address, read_email, read_phone

USAGE = "contact <customer> <name> <email|phone> [role]"
_PHONE_PART = re.compile(r"\+?\(?[0-9][0-9()./-]*")


def parse(args: str, env: ParseEnv) -> ContactChange | Refusal:
    tokens = tokenize(args)
    found = _address(tokens)
    if found is None:
        return Refusal(f"which email or phone number? Write: {USAGE}")
    start, end = found
    written = phrase(tokens[start:end])
    email = read_email(written) if looks_like_address(written) else None
    phone = None if looks_like_address(written) else read_phone(written)
    if email is None and phone is None:
        kind = "an email address" if looks_like_address(written) else "a phone number"
        return Refusal(f"{quote(written)} is not {kind}; write e.g. jane@example.com or +1 555 010 2030")
    before = tokens[:start]
    if len(before) < 2:
        return Refusal(f"which customer, and the contact's name? Write: {USAGE}")
    splits = [
        (phrase(before[:i]), i) for i in range(len(before) - 1, 0, -1) if len(phrase(before[:i])) <= MAX_NAME_LENGTH
    ]
    resolved = resolve_first(env.session, splits)
    if isinstance(resolved, Refusal):
        return resolved
    customer, at = resolved
    name = clean_text(phrase(before[at:])).strip()
    role = clean_text(phrase(tokens[end:])).strip() or None
    understood = f"customer {describe(customer)}, contact {quote(name)}"
    if len(name) > MAX_NAME:
        return Refusal(f"a contact's name can be at most {MAX_NAME} characters", understood)
    if role is not None and len(role) > MAX_ROLE:
        return Refusal(f"a role can be at most {MAX_ROLE} characters; this one has {len(role)}", understood)
    return ContactChange(customer, name, email, phone, role)


def _address(tokens: list[Token]) -> tuple[int, int] | None:
    """Where the email or phone number is (after at least a customer and a name): the first
    token with an @, else the first run of phone-like tokens with enough digits for a number
    (so the 66 of "Route 66 Dental" is part of a name)."""
    at = next((i for i, token in enumerate(tokens) if "@" in token.text), None)
    if at is not None:
        return at, at + 1
    i = 2
    while i < len(tokens):
        end = i
        while end < len(tokens) and _PHONE_PART.fullmatch(tokens[end].text):
            end += 1
        if sum(ch.isdigit() for t in tokens[i:end] for ch in t.text) >= MIN_PHONE_DIGITS:
            return i, end
        i = max(end, i + 1)
    return None


def handle(change: ContactChange, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    if not actor.member.roles & WHO_MAY:
        return Refusal("changing customers' contacts is for collectors, finance and managers on this team")
    saved = save_contact(session, ctx, change, actor)
    contact = saved.contact
    fields = [Field("Name", contact.name)]
    fields += [
        Field(label, value)
        for label, value in (("Email", contact.email), ("Phone", contact.phone), ("Role", contact.title))
        if value
    ]
    verb = "Added" if saved.added else "Changed"
    return [Reply(title=f"{verb} contact for {describe(change.customer)}", fields=tuple(fields), tone=Tone.SUCCESS)]


COMMAND = Command(
    name="contact",
    usage=USAGE,
    parse=parse,
    handle=handle,
    summary="Add or change a customer's contact: a name with an email or phone, and a role (billing gets statements).",
    examples=('contact acme "Jane Doe" jane@acme.example billing', "contact C200 Raj Patel +1 555 010 2030 AP manager"),
    try_it='contact <customer> "Jane Doe" jane@example.com billing',
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
