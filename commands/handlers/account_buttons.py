"""The account buttons of a call-list row (Log call, Promise, Paid), built once for the three.

A client that can draw the button's form opens it, and the submission comes back here to be
read into the same typed request the command line makes, so it is checked and recorded the same
way. A client that cannot draw forms gets the pressed button back as a hint: how to type the
command for that customer, with an example in its own name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from commands.accounts import account_balance
from commands.actor import Actor
from commands.context import AppContext
from commands.forms import FieldErrors, Form, refusal_of
from commands.handlers.common import customer_from_button, money, typed_name
from commands.handlers.registry import ActionHandler, Handler
from commands.messages import Reply
from commands.parsing.customers import describe
from commands.refusal import Refusal
from storage.models import Customer

R = TypeVar("R")
NAME = "<customer>"  # where the customer's typed name goes in a hint's lines


def typing_hint(title: str, lines: tuple[str, ...], *, balance: bool = True) -> ActionHandler:
    """The pressed button answered with how to type its command. ``title`` names the customer
    as ``{customer}``; each line, and the example (the last line), as ``<customer>``. With
    ``balance`` the account's open balance comes just before the example, to type an amount
    against."""

    def hint(value: dict[str, Any], actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
        customer = customer_from_button(session, value)
        if isinstance(customer, Refusal):
            return customer
        name = typed_name(customer)
        said = [line.replace(NAME, name) for line in lines]
        if balance:
            said.insert(len(said) - 1, f"Open balance: {money(customer, account_balance(session, customer.id))}")
        return [Reply(title=title.format(customer=describe(customer)), text="\n".join(said), private=True)]

    return hint


def form_submission(
    form: Form, read: Callable[[Mapping[str, str], Customer, date], R | FieldErrors], handle: Handler[R]
) -> ActionHandler:
    """A submitted ``form``: read into its typed request (field errors said as one refusal, for
    a client that could not show them under the fields) and handled as the typed command is."""

    def submitted(value: dict[str, Any], actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
        customer = customer_from_button(session, value)
        if isinstance(customer, Refusal):
            return customer
        request = read(value, customer, ctx.today())
        if isinstance(request, dict):
            return refusal_of(request, form)
        return handle(request, actor, ctx, session=session)

    return submitted
