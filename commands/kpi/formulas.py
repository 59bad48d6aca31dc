"""The Credit Research Foundation's formulas, on plain numbers, so each one can be read, tested
and explained ("report explain cei") apart from where the numbers come from.

Every function returns None where the formula is undefined (no credit sales, a zero
denominator): a missing figure is not the same as zero."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

HUNDRED = Decimal(100)


def dso(ending: Decimal, sales: Decimal, days: int) -> Decimal | None:
    """Days sales outstanding = E / S x n."""
    return ending / sales * days if sales else None


def best_possible_dso(current: Decimal, sales: Decimal, days: int) -> Decimal | None:
    """Best possible DSO = C / S x n: the DSO if nothing were past due."""
    return current / sales * days if sales else None


def add(dso_days: Decimal | None, best_days: Decimal | None) -> Decimal | None:
    """Average days delinquent = DSO - best possible DSO."""
    return None if dso_days is None or best_days is None else dso_days - best_days


def cei(
    beginning: Decimal,
    sales: Decimal,
    ending: Decimal,
    current: Decimal,
    *,
    credited: Decimal = Decimal(0),
    credited_out: Decimal = Decimal(0),
) -> Decimal | None:
    """Collection effectiveness index = (B + S - E - (A - P)) / (B + S - C - A) x 100: of what
    could have been collected in the period (everything but what is still current, and the
    credits and write-offs approved in it, A), the share that was (the fall in receivables, less
    the part of A the ERP took off them, A - P). With no credits it is the CRF's
    (B + S - E) / (B + S - C) x 100."""
    collectible = beginning + sales - current - credited
    return (beginning + sales - ending - credited_out) / collectible * HUNDRED if collectible else None


def rate(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole x 100."""
    return part / whole * HUNDRED if whole else None


@dataclass(frozen=True)
class Month:
    """One month of the countback, newest first: its sales and how many of its days count
    (the month of the period's end counts up to that day)."""

    label: str
    sales: Decimal
    days: int


@dataclass(frozen=True)
class Countback:
    days: Decimal | None
    months_used: int
    exhausted: bool  # False when the receivables outlasted every month of sales on record


def countback_dso(ending: Decimal, months: Sequence[Month]) -> Countback:
    """Countback DSO by the exhaustion method: walk back month by month, taking each month's
    sales off the ending receivables; a month fully used adds all its days, the month that
    exhausts them adds the same share of its days."""
    if ending <= 0:
        return Countback(Decimal(0), 0, True)
    left, days = ending, Decimal(0)
    for used, month in enumerate(months, start=1):
        if month.sales <= 0:
            days += month.days
            continue
        if left <= month.sales:
            return Countback(days + left / month.sales * month.days, used, True)
        left -= month.sales
        days += month.days
    return Countback(days if months else None, len(months), False)
