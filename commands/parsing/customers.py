"""Finding the customer a user means: by ERP id, by name, or by an unambiguous piece of a name.

Order matters: an exact ERP id wins over everything (ids are what collectors copy from the ERP),
then an exact name, then a unique substring of the name. Several matches are never guessed
between: the user is shown up to five with their ids and asked to pick."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from commands.parsing.text import Token, phrase, quote
from commands.refusal import Refusal
from storage.models import Customer, Invoice

MAX_NAME_LENGTH = 200  # the longest name the customers table can hold
SHOWN_CANDIDATES = 5
T = TypeVar("T")


def describe(customer: Customer) -> str:
    """How a customer is named in every reply: ``Acme Dental Group (C100)``."""
    return f"{customer.name} ({customer.erp_id})"


def resolve_customer(session: Session, phrase: str) -> Customer | Refusal:
    """The one customer ``phrase`` names, or a refusal saying why there is not exactly one."""
    phrase = " ".join(phrase.split())
    if not phrase:
        return Refusal("which customer? Name it by its ERP id or by part of its name")
    if len(phrase) > MAX_NAME_LENGTH:
        return Refusal(f"no customer matches {quote(phrase)}: that is longer than any customer name")
    lowered = phrase.lower()
    for column in (Customer.erp_id, Customer.name):
        found = _matches(session, func.lower(column) == lowered)
        if found:
            return _one(found, phrase)
    pattern = "%" + _escape_like(lowered) + "%"
    found = _matches(session, Customer.name.ilike(pattern, escape="\\"))
    if not found:
        return Refusal(f"no customer matches {quote(phrase)}; check the spelling or use the ERP id")
    return _one(found, phrase)


def customer_by_erp_id(session: Session, erp_id: str) -> Customer | None:
    """Exactly this ERP id, as a button carries it (no guessing from button data)."""
    return session.scalar(select(Customer).where(Customer.erp_id == erp_id))


def _matches(session: Session, condition: ColumnElement[bool]) -> list[Customer]:
    # One more than we show, to know whether to say "and more".
    query = select(Customer).where(condition).order_by(Customer.name, Customer.erp_id)
    return list(session.scalars(query.limit(SHOWN_CANDIDATES + 1)))


def _one(found: list[Customer], phrase: str) -> Customer | Refusal:
    if len(found) == 1:
        return found[0]
    shown = ", ".join(describe(c) for c in found[:SHOWN_CANDIDATES])
    more = " and more" if len(found) > SHOWN_CANDIDATES else ""
    return Refusal(
        f"{quote(phrase)} matches several customers: {shown}{more}. "
        "Did you mean one of these? Use its ERP id or more of its name"
    )


def _escape_like(text: str) -> str:
    """A user's % or _ is a character to find, not a wildcard."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def resolve_first(session: Session, candidates: Sequence[tuple[str, T]]) -> tuple[Customer, T] | Refusal:
    """The first (phrase, reading) whose phrase names exactly one customer.

    Commands that take a customer phrase followed by other words (``promise acme dental 1200
    fri``) offer every split that reads well; the first naming a customer wins, and when none
    does the user hears why the first one failed."""
    first: Refusal | None = None
    for phrase_text, reading in candidates:
        found = resolve_customer(session, phrase_text)
        if isinstance(found, Customer):
            return found, reading
        first = first or found
    return first or Refusal("which customer? Name it by its ERP id or by part of its name")


def customer_and_invoice(
    session: Session, tokens: list[Token], at: int
) -> tuple[Customer, str, Invoice | None] | Refusal:
    """The customer the words before ``tokens[at]`` name, the invoice number ``tokens[at]`` gives,
    and that invoice of theirs (any case), or None when they have no invoice of that number.
    Whether it may be disputed or credited is the caller's rule."""
    customer = resolve_customer(session, phrase(tokens[:at]))
    if isinstance(customer, Refusal):
        return customer
    number = tokens[at].text
    invoice = session.scalar(
        select(Invoice).where(Invoice.customer_id == customer.id, func.lower(Invoice.number) == number.lower())
    )
    return customer, number, invoice
