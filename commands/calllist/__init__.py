"""The prioritized daily call list: for a day and a collector, the accounts to contact first,
each with its reasons in plain words.

:func:`build_call_list` is the one entry point: it reads the policy, works out every account's
features from its packed open items with numpy and from the smaller tables in a few set-based
queries (:mod:`.features`), puts them in tiers (:mod:`.tiers`), scores and cuts them
(:mod:`.ranking`, :mod:`.rules`) and turns the survivors into :class:`CallListRow` values
(:mod:`.build`).

Importing this package does not import numpy or pandas: the scheduler and the chat commands
import it in every ``arbot serve``, and most of those processes build a list once a day at most,
so the ranking modules are imported by the first :func:`build_call_list`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from commands.calllist.policy import Policy, PolicyError, load_policy
from commands.context import AppContext


class CallListError(ValueError):
    """The list cannot be built as asked (an unknown collector, an impossible capacity)."""


@dataclass(frozen=True)
class CallListRow:
    rank: int
    customer_id: int  # database id
    erp_id: str  # the customer's ERP id (shown, and exported as "customer_id")
    customer_name: str
    collector_email: str | None
    score: float
    balance_due: Decimal  # net open balance (invoices minus credits)
    days_past_due: int  # oldest past-due positive item, 0 if none
    reasons: tuple[str, ...]  # plain words, most important first


def build_call_list(
    session: Session, ctx: AppContext, *, day: date, collector_email: str | None = None, capacity: int | None = None
) -> list[CallListRow]:
    """Ranked accounts to contact on `day` (one collector's, or everyone's when collector_email is None,
    each collector capped at capacity, default ctx.team.capacity)."""
    from commands.calllist.build import call_list

    return call_list(session, ctx, day=day, collector_email=collector_email, capacity=capacity)


__all__ = ["CallListError", "CallListRow", "Policy", "PolicyError", "build_call_list", "load_policy"]
