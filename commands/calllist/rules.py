"""The ranking rules. Each reads one section of the policy (``[rules.<name>]``) and has two
halves: ``score`` gives points to every account at once (numpy over the whole feature frame, no
loop per customer) and ``reason`` says in plain words why one listed account got them. The rules
that say yes or no about an account also have ``applies``, the same test as a boolean array, so
that they can be tiers (:mod:`commands.calllist.tiers`).

Scores read the counts and cents of :mod:`commands.calllist.features` and
:mod:`commands.calllist.account_facts` (disputes already taken away) as plain numpy columns
(:class:`commands.calllist.table.Table`); reasons also read the
amounts and dates :func:`commands.calllist.features.load_details` adds for listed accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd

from commands.calllist import policy as p
from commands.calllist.cutoffs import Cutoffs
from commands.calllist.table import Table
from commands.wording import plural

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Rule:
    name: str  # the policy section, [rules.<name>]
    score: Callable[[Table, Any], np.ndarray]
    reason: Callable[[Row, Any, Cutoffs], str]
    applies: Callable[[Table, Any], np.ndarray] | None = None  # set for the rules that can be tiers


def dollars(cents: int) -> str:
    """Whole dollars for a reason: "$42,300" (half a dollar rounds up)."""
    amount = (Decimal(int(cents)) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"${amount:,}"


def day_month(day: date) -> str:
    return f"{day.day} {day:%b}"


def present(value: Any) -> bool:
    """A value the frames hold, as opposed to a missing one (None, NaN or NaT)."""
    return value is not None and not pd.isna(value)


def _when(day: date, cut: Cutoffs) -> str:
    """A weekday within the coming week ("on Friday"), else the date ("on 3 Dec")."""
    return f"on {day:%A}" if (day - cut.day).days < 7 else f"on {day_month(day)}"


def _points(condition: np.ndarray, points: float) -> np.ndarray:
    return np.where(condition, points, 0.0)


# -- final invoices just past due ------------------------------------------------------------------


def final_invoice_applies(f: Table, rule: p.FinalInvoice) -> np.ndarray:
    return f["finals"] > 0


def final_invoice_score(f: Table, rule: p.FinalInvoice) -> np.ndarray:
    return np.where(final_invoice_applies(f, rule), rule.weight, 0.0)


def final_invoice_reason(row: Row, rule: p.FinalInvoice, cut: Cutoffs) -> str:
    return f"final invoice {plural(cut.dpd(row['final_due']), 'day')} past due"


# -- months of recurring invoices unpaid -----------------------------------------------------------


def unpaid_mrr_applies(f: Table, rule: p.UnpaidMrr) -> np.ndarray:
    return f["mrr_months"] >= rule.min_months


def unpaid_mrr_score(f: Table, rule: p.UnpaidMrr) -> np.ndarray:
    months = f["mrr_months"]
    return np.where(unpaid_mrr_applies(f, rule), rule.weight + (months - rule.min_months) * rule.per_extra_month, 0.0)


def unpaid_mrr_reason(row: Row, rule: p.UnpaidMrr, cut: Cutoffs) -> str:
    return f"{row['mrr_months']} months of recurring invoices unpaid"


# -- money over 30 days past due -------------------------------------------------------------------


def over_30_days_applies(f: Table, rule: p.Over30Days) -> np.ndarray:
    over: np.ndarray = f["oldest_dpd"] > 30
    return over


def over_30_days_score(f: Table, rule: p.Over30Days) -> np.ndarray:
    oldest = f["oldest_dpd"]
    points: np.ndarray = (
        _points(oldest > 30, rule.weight)
        + _points(oldest > 60, rule.extra_over_60)
        + _points(oldest > 90, rule.extra_over_90)
    )
    return points


def over_30_days_reason(row: Row, rule: p.Over30Days, cut: Cutoffs) -> str:
    bucket = next(n for n in (90, 60, 30) if row["oldest_dpd"] > n)
    return f"{dollars(min(row[f'over_{bucket}'], row['collectible']))} over {bucket} days"


# -- items about to age into the next bucket -------------------------------------------------------


def crossing_soon_applies(f: Table, rule: p.CrossingSoon) -> np.ndarray:
    return f["crossing"] > 0


def crossing_soon_score(f: Table, rule: p.CrossingSoon) -> np.ndarray:
    return np.where(crossing_soon_applies(f, rule), rule.weight, 0.0)


def crossing_soon_reason(row: Row, rule: p.CrossingSoon, cut: Cutoffs) -> str:
    """Names the oldest bucket being reached, on the day the first item reaches it."""
    threshold = next(t for t in reversed(rule.thresholds) if present(row[f"crossing_due_{t}"]))
    crosses_on = row[f"crossing_due_{threshold}"] + timedelta(days=threshold + 1)
    return f"crosses {threshold} days past due {_when(crosses_on, cut)}"


# -- broken promises -------------------------------------------------------------------------------


def broken_promise_applies(f: Table, rule: p.BrokenPromise) -> np.ndarray:
    return f["broken_promises"] > 0


def broken_promise_score(f: Table, rule: p.BrokenPromise) -> np.ndarray:
    return np.where(broken_promise_applies(f, rule), rule.weight, 0.0)


def broken_promise_reason(row: Row, rule: p.BrokenPromise, cut: Cutoffs) -> str:
    return f"broke promise of {day_month(row['broken_promise_date'])}"


# -- the 5-15 days window --------------------------------------------------------------------------


def early_window_score(f: Table, rule: p.EarlyWindow) -> np.ndarray:
    return _points(f["window"] > 0, rule.weight)


def early_window_reason(row: Row, rule: p.EarlyWindow, cut: Cutoffs) -> str:
    amount = dollars(min(row["window_cents"], row["collectible"]))
    return f"{amount} is {rule.min_days}-{rule.max_days} days past due, the best time to call"


# -- balance ---------------------------------------------------------------------------------------


def balance_score(f: Table, rule: p.Balance) -> np.ndarray:
    tenfolds = np.log10(np.maximum(f["past_due"] / (rule.from_amount * 100), 1.0))
    return rule.per_tenfold * tenfolds


def balance_reason(row: Row, rule: p.Balance, cut: Cutoffs) -> str:
    return f"{dollars(row['past_due'])} past due"


# -- payment history -------------------------------------------------------------------------------


def days_late_score(f: Table, rule: p.DaysLate) -> np.ndarray:
    # Whole days, as the reason says them: an average that rounds to 0 days late is on time.
    late = f["avg_days_late"]
    days = np.round(np.where(np.isnan(late), 0.0, late))
    share = np.clip(days / rule.full_at_days, 0.0, 1.0)
    return np.where(f["paid_invoices"] >= rule.min_paid_invoices, rule.weight * share, 0.0)


def days_late_reason(row: Row, rule: p.DaysLate, cut: Cutoffs) -> str:
    return f"pays {plural(round(row['avg_days_late']), 'day')} late on average"


def promise_kept_score(f: Table, rule: p.PromiseKept) -> np.ndarray:
    due = f["promises_due"]
    broken_share = 1.0 - f["promises_kept"] / np.maximum(due, 1)
    return np.where(due >= rule.min_promises, rule.weight * broken_share, 0.0)


def promise_kept_reason(row: Row, rule: p.PromiseKept, cut: Cutoffs) -> str:
    return f"kept {row['promises_kept']} of {plural(row['promises_due'], 'promise')}"


# -- the suspension sequence -----------------------------------------------------------------------


def suspension_step_score(f: Table, rule: p.SuspensionStep) -> np.ndarray:
    points: np.ndarray = _points(f["suspension_step"] > 0, rule.weight) + _points(
        f["suspension_overdue"] > 0, rule.extra_when_overdue
    )
    return points


def suspension_step_reason(row: Row, rule: p.SuspensionStep, cut: Cutoffs) -> str:
    return str(row["suspension_next"]) if present(row.get("suspension_next")) else "in the suspension sequence"


# In order of importance: when two rules give equal points, the earlier one's reason comes first.
# The ones with ``applies`` are exactly policy.TIER_RULES.
RULES: tuple[Rule, ...] = (
    Rule("final_invoice", final_invoice_score, final_invoice_reason, final_invoice_applies),
    Rule("unpaid_mrr", unpaid_mrr_score, unpaid_mrr_reason, unpaid_mrr_applies),
    Rule("over_30_days", over_30_days_score, over_30_days_reason, over_30_days_applies),
    Rule("crossing_soon", crossing_soon_score, crossing_soon_reason, crossing_soon_applies),
    Rule("broken_promise", broken_promise_score, broken_promise_reason, broken_promise_applies),
    Rule("early_window", early_window_score, early_window_reason),
    Rule("balance", balance_score, balance_reason),
    Rule("days_late", days_late_score, days_late_reason),
    Rule("promise_kept", promise_kept_score, promise_kept_reason),
    Rule("suspension_step", suspension_step_score, suspension_step_reason),
)

RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}
