"""Tiers, scoring, exclusions and the cap, over every account at once.

The tiers (:mod:`commands.calllist.tiers`) put each account in a group and the rules
(:mod:`commands.calllist.rules`) give points, both with numpy over the whole frame; accounts that
should not be chased today are left out or pushed to the end as the policy says; each
collector's accounts are then sorted by band (tier, after the pushed-down ones) and score and cut
at the capacity. Only the survivors get reason strings, which is where per-row Python is
affordable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from commands.calllist.cutoffs import Cutoffs
from commands.calllist.policy import Exclusions, Policy
from commands.calllist.rules import RULES, RULES_BY_NAME, Row, Rule, day_month, dollars
from commands.calllist.tiers import qualified, tier_of


@dataclass(frozen=True)
class Exclusion:
    name: str  # the key in [exclusions]
    applies: Callable[[pd.DataFrame, Exclusions], pd.Series]
    reason: Callable[[Row], str]


def _open_promise(f: pd.DataFrame, x: Exclusions) -> pd.Series:
    return f["open_promises"] > 0


def _plan_in_good_standing(f: pd.DataFrame, x: Exclusions) -> pd.Series:
    return f["plan_ok"] > 0


def _reached_today(f: pd.DataFrame, x: Exclusions) -> pd.Series:
    return f["reached_today"] > 0


def _tried_today(f: pd.DataFrame, x: Exclusions) -> pd.Series:
    return (f["attempts_today"] >= x.max_attempts) & (f["reached_today"] == 0)


EXCLUSIONS: tuple[Exclusion, ...] = (
    Exclusion("open_promise", _open_promise, lambda row: f"promised to pay by {day_month(row['open_promise_date'])}"),
    Exclusion("plan_in_good_standing", _plan_in_good_standing, lambda row: "on a payment plan in good standing"),
    Exclusion("reached_today", _reached_today, lambda row: "reached today"),
    Exclusion("tried_today", _tried_today, lambda row: f"tried {row['attempts_today']} times today"),
)


def score(features: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Every account that has something to collect, with ``tier``, ``score``, ``points_<rule>``,
    ``pushed_<exclusion>``, ``pushed`` and ``band`` (the list's first sort key: the tier, after
    every account not pushed down); accounts the policy leaves out are gone."""
    frame = collectible(features)
    frame = frame[
        (frame["balance"] > 0) & (frame["collectible"] > 0) & (frame["oldest_dpd"] >= policy.list.min_days_past_due)
    ]
    in_tier = qualified(frame, policy)
    points = {
        f"points_{r.name}": _tier_points(r.score(frame, getattr(policy.rules, r.name)), in_tier.get(r.name))
        for r in RULES
    }
    tiers = policy.ranking.tiers
    frame = frame.assign(
        **points, score=np.sum(list(points.values()), axis=0), tier=tier_of(in_tier, tiers, len(frame))
    )
    frame = _apply_exclusions(frame, policy.exclusions)
    pushed = frame[[f"pushed_{x.name}" for x in EXCLUSIONS]].any(axis=1)
    return frame.assign(pushed=pushed, band=frame["tier"] + pushed.astype("int64") * (len(tiers) + 1))


# The one rule whose input (payment history) is read after the shortlist.
HISTORY_RULE = "days_late"


def rescore_history(scored: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """The rows of :func:`score` with payment history filled in, scored again the cheap way: the
    history moves no account between tiers (it is never a tier) and leaves no account out, so
    only its rule's points and the total change; the total is summed over the rules in the same
    order as :func:`score` sums them, so it is the very float a full second scoring gives."""
    if HISTORY_RULE in policy.ranking.tiers:  # the policy loader allows no such tier; stay exact
        return score(scored, policy)
    history = RULES_BY_NAME[HISTORY_RULE].score(scored, getattr(policy.rules, HISTORY_RULE))
    points = [history if r.name == HISTORY_RULE else scored[f"points_{r.name}"].to_numpy() for r in RULES]
    return scored.assign(**{f"points_{HISTORY_RULE}": history}, score=np.sum(points, axis=0))


def _tier_points(points: np.ndarray, in_tier: np.ndarray | None) -> np.ndarray:
    """A tier rule's points count only where its fact reaches the tier floor, or a small old
    item would lift an account within everything else as the tiers no longer can."""
    return points if in_tier is None else np.where(in_tier, points, 0.0)


def collectible(features: pd.DataFrame) -> pd.DataFrame:
    """What can be collected: the net balance (credits included) less every open dispute, every
    dispute settled for the customer whose credit no import shows yet, every approved credit memo
    and write-off no import shows yet, and every payment finance confirmed that no import has
    shown yet. Disputes tied to an invoice were already taken off that invoice's amounts and
    confirmed payments off the oldest items
    (:func:`commands.calllist.features.collectible_items`); disputes without an invoice could
    touch any item, so the past-due amount may not exceed what is left."""
    set_aside = (
        features["disputed"]
        + features["credit_due"]
        + features["credit_approved"]
        + features["written_off"]
        + features["unapplied"]
    )
    left = (features["balance"] - set_aside).clip(lower=0)
    return features.assign(collectible=left, past_due=np.minimum(features["past_due"], left))


def cut_to_capacity(scored: pd.DataFrame, capacity: int) -> pd.DataFrame:
    """Each collector's best ``capacity`` accounts in list order, with their ``rank``: by band
    (tier, pushed-down accounts after all others), then score; ties go to the bigger past-due
    amount, then the older debt, then the older customer record."""
    frame = scored.assign(customer=scored.index)
    frame = frame.iloc[_list_order(frame)]
    frame["rank"] = _rank_within(frame["collector_id"].to_numpy(dtype=np.float64))
    return frame[frame["rank"] <= capacity]


_ORDER = ("band", "score", "past_due", "oldest_dpd", "customer")
_ASCENDING = (True, False, False, False, True)


def _list_order(frame: pd.DataFrame) -> np.ndarray:
    """Row positions in list order (see :func:`cut_to_capacity`): one numpy lexsort, where a
    pandas sort on five columns cost more than all the scoring. The customer id is unique, so the
    order is total and any correct sort gives it; a missing key (NaN, which pandas sorts last
    either way) is left to pandas."""
    keys = [frame[name].to_numpy() for name in _ORDER]
    if any(key.dtype.kind == "f" and np.isnan(key).any() for key in keys):
        return np.asarray(
            frame.reset_index(drop=True).sort_values(list(_ORDER), ascending=list(_ASCENDING)).index.to_numpy()
        )
    signed = [key if up else -key for key, up in zip(keys, _ASCENDING, strict=True)]
    return np.lexsort(signed[::-1])  # lexsort sorts by its last key first


def _rank_within(collectors: np.ndarray) -> np.ndarray:
    """1, 2, 3... down the rows within each collector (no collector, NaN, is a group too)."""
    codes = pd.factorize(np.where(np.isnan(collectors), -1.0, collectors))[0]
    order = np.argsort(codes, kind="stable")
    grouped = codes[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    within = np.arange(len(codes)) - np.repeat(starts, np.diff(np.r_[starts, len(codes)]))
    rank = np.empty(len(codes), dtype=np.int64)
    rank[order] = within + 1
    return rank


def shortlist(scored: pd.DataFrame, capacity: int, headroom: float) -> pd.Index:
    """The accounts that can still make the list once up to ``headroom`` more points are known
    (payment history, which is costly to read for everyone and moves no account between tiers).
    An account is out for sure when ``capacity`` accounts of its collector are in an earlier band
    or in its band with more points than it could reach: their scores can only grow."""
    ordered = cut_to_capacity(scored, len(scored))
    group = ordered["collector_id"].fillna(-1)
    at_line = ordered["rank"] == capacity
    line = ordered[at_line].set_index(group[at_line])
    band = ordered["band"]
    line_band = group.map(line["band"])  # NaN where a group is not full
    line_score = group.map(line["score"])
    full = line_score.notna()
    reachable = ordered["score"] + headroom >= line_score
    could_pass = (band < line_band) | ((band == line_band) & reachable)
    return ordered.index[~full | could_pass]


def _apply_exclusions(frame: pd.DataFrame, policy: Exclusions) -> pd.DataFrame:
    keep = pd.Series(True, index=frame.index)
    for exclusion in EXCLUSIONS:
        mode = getattr(policy, exclusion.name)
        applies = exclusion.applies(frame, policy) if mode != "ignore" else pd.Series(False, index=frame.index)
        if mode == "leave_out":
            keep &= ~applies
        frame[f"pushed_{exclusion.name}"] = applies if mode == "push_down" else False
    return frame[keep]


def reasons(row: Row, policy: Policy, cut: Cutoffs) -> tuple[str, ...]:
    """Plain-words reasons for one listed account: why it was pushed down (if it was), then its
    tier's reason (what put it where it is), then each other rule that gave points, most points
    first, then the amounts set aside."""
    pushed = [x.reason(row) for x in EXCLUSIONS if row[f"pushed_{x.name}"]]
    tier = _tier_rule(row, policy)
    scored = sorted(
        (
            (row[f"points_{r.name}"], -i, r)
            for i, r in enumerate(RULES)
            if row[f"points_{r.name}"] > 0 and r is not tier
        ),
        key=lambda item: item[:2],
        reverse=True,
    )
    first = [tier] if tier is not None else []
    texts = [rule.reason(row, getattr(policy.rules, rule.name), cut) for rule in first + [r for _, _, r in scored]]
    notes = [f"{dollars(row['disputed'])} in dispute, set aside"] if row["disputed"] > 0 else []
    if row["credit_due"] > 0:
        notes.append(
            f"{dollars(row['credit_due'])} to be credited (dispute settled), set aside until the ERP shows the credit"
        )
    if row["credit_approved"] > 0:
        notes.append(f"{dollars(row['credit_approved'])} credit approved, awaiting the credit memo")
    if row["written_off"] > 0:
        notes.append(f"{dollars(row['written_off'])} write-off approved, awaiting the ERP")
    if row["unapplied"] > 0:
        notes.append(
            f"{dollars(row['unapplied'])} paid (confirmed by finance), taken off the oldest invoices "
            "until the ERP shows it"
        )
    return tuple(pushed + texts + notes)


def _tier_rule(row: Row, policy: Policy) -> Rule | None:
    """The rule of the account's tier, or None for everything else."""
    tiers = policy.ranking.tiers
    return RULES_BY_NAME[tiers[int(row["tier"])]] if int(row["tier"]) < len(tiers) else None
