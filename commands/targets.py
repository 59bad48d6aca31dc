"""The team's targets, from the team file's ``[targets]`` table: a collections team is held to a
few numbers (DSO under 35 days, money more than 31 days past due under a ceiling on any day, a
promise-kept rate above a floor). :mod:`commands.kpi.alerts` tells the channel when one is crossed.

    [targets]
    dso = 35                      # days, at most
    past_due_31_max = 2000000     # dollars more than 30 days past due, at most
    ptp_kept_rate_min = 80        # percent of promises kept, at least
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True)
class Kind:
    """What a target key holds: the report figure, whether it is a ceiling, how to say it."""

    figure: str
    ceiling: bool
    label: str
    unit: str  # "days", "money" or "percent"


KINDS = {
    "dso": Kind("dso", True, "DSO", "days"),
    "dso_max": Kind("dso", True, "DSO", "days"),
    "best_possible_dso_max": Kind("best_possible_dso", True, "Best possible DSO", "days"),
    "add_max": Kind("add", True, "Average days delinquent", "days"),
    "countback_dso_max": Kind("countback_dso", True, "Countback DSO", "days"),
    "cei_min": Kind("cei", False, "CEI", "percent"),
    "ptp_kept_rate_min": Kind("ptp_kept_rate", False, "Promise-kept rate", "percent"),
    "ptp_kept_amount_rate_min": Kind("ptp_kept_amount_rate", False, "Promise-kept rate by amount", "percent"),
    "past_due_31_max": Kind("past_due_31", True, "Money more than 30 days past due", "money"),
    "over_90_max": Kind("over_90", True, "Money more than 90 days past due", "money"),
}


@dataclass(frozen=True)
class Target:
    key: str
    limit: Decimal

    @property
    def kind(self) -> Kind:
        return KINDS[self.key]

    def missed_by(self, value: Decimal) -> bool:
        return value > self.limit if self.kind.ceiling else value < self.limit


class TargetsError(ValueError):
    """``[targets]`` names a figure there is no target for, or a limit that is not a number."""


def targets_from_dict(data: dict[str, Any]) -> tuple[Target, ...]:
    """The ``[targets]`` table, checked when the team file loads."""
    if not isinstance(data, dict):
        raise TargetsError("[targets] must be a table of figure = limit")
    targets = []
    for key, value in data.items():
        if key not in KINDS:
            raise TargetsError(f"[targets] {key}: no such target; use one of {', '.join(sorted(KINDS))}")
        try:
            limit = Decimal(str(value))
        except InvalidOperation:
            raise TargetsError(f"[targets] {key} must be a number, not {value!r}") from None
        if not limit.is_finite() or limit < 0:
            raise TargetsError(f"[targets] {key} must be a number of zero or more, not {value!r}")
        targets.append(Target(key, limit))
    return tuple(targets)
