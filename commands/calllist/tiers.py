"""Tiers: the order of groups a collections team works in, above any score.

Real teams call final invoices just past due first, then customers with months of recurring
invoices unpaid, then money over 30 days, whatever the balances elsewhere: points cannot express
that, since a big enough balance always adds up past a group's weight. So the policy names tiers
(``[ranking] tiers``), each one a yes-or-no rule; an account sits in the first tier whose rule
holds and whose own past-due amount reaches the floor, and the list is sorted by tier before
score. Everything here is one numpy pass over the whole frame: no loop per customer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from commands.calllist.policy import Policy
from commands.calllist.rules import RULES_BY_NAME
from commands.calllist.table import Table


def tier_amount(frame: Table, name: str) -> np.ndarray:
    """The cents behind a tier's fact, never more than the collectible past-due amount (disputes
    and confirmed payments are off it). A broken promise has no items of its own, so it is the
    whole past-due amount; so is any tier of a frame that carries no per-tier amounts."""
    past_due = frame["past_due"]
    column = f"amount_{name}"
    if column not in frame:
        return past_due
    return np.asarray(np.minimum(frame[column], past_due))


def qualified(frame: Table, policy: Policy) -> dict[str, np.ndarray]:
    """For each tier the policy names, the accounts its rule holds for with at least the floor
    in past-due money behind it. A fact under the floor counts for nothing: the caller drops its
    points too, so a $79.94 account is graded with everything else."""
    floor = policy.ranking.tier_floor * 100
    return {
        name: _applies(name)(frame, getattr(policy.rules, name)) & (tier_amount(frame, name) >= floor)
        for name in policy.ranking.tiers
    }


def _applies(name: str) -> Callable[[Table, Any], np.ndarray]:
    """The test that makes ``name`` a tier (the policy loader takes only rules that have one)."""
    applies = RULES_BY_NAME[name].applies
    if applies is None:
        raise ValueError(f"[rules.{name}] cannot be a tier")
    return applies


def tier_of(in_tier: dict[str, np.ndarray], tiers: tuple[str, ...], size: int) -> np.ndarray:
    """Each account's tier: the index of the first tier it qualifies for, ``len(tiers)`` for
    everything else (with no tiers, everyone is 0 and the score alone decides)."""
    if not tiers:
        return np.zeros(size, dtype=np.int64)
    return np.select([in_tier[name] for name in tiers], list(range(len(tiers))), default=len(tiers))
