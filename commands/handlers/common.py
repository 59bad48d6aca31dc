"""Small pieces the command modules share: how a customer's money, a moment and a customer's
typed name are shown, and how a button's customer is looked up."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.parsing.amounts import format_money
from commands.parsing.customers import customer_by_erp_id
from commands.parsing.dates import format_day
from commands.refusal import Refusal
from storage.models import Customer


def money(customer: Customer, amount: Decimal) -> str:
    """An amount in the customer's billing currency."""
    return format_money(amount, customer.currency or "USD")


def local_moment(ctx: AppContext, instant: datetime) -> str:
    """``Mon 23 Nov 2026 09:00`` in the team's timezone (the ledger keeps UTC)."""
    local = instant.astimezone(ctx.team.timezone)
    return f"{format_day(local.date())} {local:%H:%M}"


def typed_name(customer: Customer) -> str:
    """How to name this customer in a typed command: its ERP id, quoted if it has spaces."""
    erp_id = customer.erp_id
    return f'"{erp_id}"' if any(ch.isspace() for ch in erp_id) else erp_id


def customer_from_button(session: Session, value: dict[str, Any]) -> Customer | Refusal:
    """The customer a button names by ERP id. Button data is only a pointer: it is checked
    against the ledger, and a stale or forged one is refused."""
    erp_id = value.get("customer")
    if not isinstance(erp_id, str) or not erp_id:
        return Refusal("that button doesn't say which customer it is for; please type the command")
    customer = customer_by_erp_id(session, erp_id)
    if customer is None:
        return Refusal(f"that button points at customer {erp_id[:64]!r}, which is no longer on the ledger")
    return customer
