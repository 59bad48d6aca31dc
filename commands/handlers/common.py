"""Small pieces the command modules share: how a button's customer is looked up, and (from
:mod:`commands.wording`) how money, moments and typed names are written."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from commands.parsing.customers import customer_by_erp_id
from commands.refusal import PointsAtNothing, Refusal
from commands.wording import local_moment, money, typed_name
from storage.models import Customer

__all__ = ["customer_from_button", "local_moment", "money", "typed_name"]


def customer_from_button(session: Session, value: dict[str, Any]) -> Customer | Refusal:
    """The customer a button names by ERP id. Button data is only a pointer: it is checked
    against the ledger, and a stale or forged one is refused."""
    erp_id = value.get("customer")
    if not isinstance(erp_id, str) or not erp_id:
        return PointsAtNothing("that button doesn't say which customer it is for; please type the command")
    customer = customer_by_erp_id(session, erp_id)
    if customer is None:
        return PointsAtNothing(f"that button points at customer {erp_id[:64]!r}, which is no longer on the ledger")
    return customer
