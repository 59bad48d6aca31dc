"""How the product writes a customer's money, a moment and a customer's typed name: one way
everywhere, whether a chat command, a workflow card or a scheduled message says it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from commands.context import AppContext
from commands.parsing.amounts import format_money
from commands.parsing.dates import format_day
from storage.models import Customer


def plural(n: int, noun: str) -> str:
    """ "1 day", "3 days": counts in sentences people read (nouns with a plain -s plural)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def money(customer: Customer, amount: Decimal) -> str:
    """An amount in the customer's billing currency."""
    return format_money(amount, customer.currency or "USD")


def local_moment(ctx: AppContext, instant: datetime) -> str:
    """``Mon 23 Nov 2026 9:05 AM CST``: in the team's timezone (the ledger keeps UTC), on a
    12-hour clock as people say it, with the zone named, since a team spread over offices would
    otherwise read it in their own."""
    local = instant.astimezone(ctx.team.timezone)
    return f"{format_day(local.date())} {local.hour % 12 or 12}:{local:%M %p} {local.tzname()}"


def typed_name(customer: Customer) -> str:
    """How to name this customer in a typed command: its ERP id, quoted if it has spaces."""
    erp_id = customer.erp_id
    return f'"{erp_id}"' if any(ch.isspace() for ch in erp_id) else erp_id
