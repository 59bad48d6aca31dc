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
from commands.calllist.table import Table
from commands.calllist.tiers import qualified, tier_of


@dataclass(frozen=True)
class Exclusion:
    name: str  # the key in [exclusions]
    applies: Callable[[Table, Exclusions], np.ndarray]
    reason: Callable[[Row], str]


def _open_promise(f: Table, x: Exclusions) -> np.ndarray:
    return np.asarray(f["open_promises"] > 0)


def _plan_in_good_standing(f: Table, x: Exclusions) -> np.ndarray:
    return np.asarray(f["plan_ok"] > 0)


def _reached_today(f: Table, x: Exclusions) -> np.ndarray:
    return np.asarray(f["reached_today"] > 0)


def _tried_today(f: Table, x: Exclusions) -> np.ndarray:
    return np.asarray((f["attempts_today"] >= x.max_attempts) & (f["reached_today"] == 0))


EXCLUSIONS: tuple[Exclusion, ...] = (
    Exclusion("open_promise", _open_promise, lambda row: f"promised to pay by {day_month(row['open_promise_date'])}"),
    Exclusion("plan_in_good_standing", _plan_in_good_standing, lambda row: "on a payment plan in good standing"),
    Exclusion("reached_today", _reached_today, lambda row: "reached today"),
    Exclusion("tried_today", _tried_today, lambda row: f"tried {row['attempts_today']} times today"),
)


def score(features: Table, policy: Policy) -> Table:
    """Every account that has something to collect, with ``tier``, ``score``, ``points_<rule>``,
    ``pushed_<exclusion>``, ``pushed`` and ``band`` (the list's first sort key: the tier, after
    every account not pushed down); accounts the policy leaves out are gone."""
    every, scored = score_every(features, policy)
    return every.take(scored)


def score_every(features: Table, policy: Policy) -> tuple[Table, np.ndarray]:
    """:func:`score`'s columns on every row, and the positions of the rows :func:`score` keeps.
    Every column is worked out per row, so working it out on the rows left out changes nothing
    for the others; the caller copies only the rows it goes on with, and only once."""
    frame = with_collectible(features)
    has_debt = (
        (frame["balance"] > 0) & (frame["collectible"] > 0) & (frame["oldest_dpd"] >= policy.list.min_days_past_due)
    )
    in_tier = qualified(frame, policy)
    points = {
        f"points_{r.name}": _tier_points(r.score(frame, getattr(policy.rules, r.name)), in_tier.get(r.name))
        for r in RULES
    }
    tiers = policy.ranking.tiers
    pushed_down, left_out = _exclusions(frame, policy.exclusions)
    pushed = np.logical_or.reduce(list(pushed_down.values()))
    tier = tier_of(in_tier, tiers, len(frame))
    every = frame.assign(
        **points,
        score=np.sum(list(points.values()), axis=0),
        tier=tier,
        **pushed_down,
        pushed=pushed,
        band=tier + pushed.astype(np.int64) * (len(tiers) + 1),
    )
    return every, np.flatnonzero(has_debt & ~left_out)


# The one rule whose input (payment history) is read after the shortlist.
HISTORY_RULE = "days_late"


def rescore_history(scored: Table, policy: Policy) -> Table:
    """The rows of :func:`score` with payment history filled in, scored again the cheap way: the
    history moves no account between tiers (it is never a tier) and leaves no account out, so
    only its rule's points and the total change; the total is summed over the rules in the same
    order as :func:`score` sums them, so it is the very float a full second scoring gives."""
    if HISTORY_RULE in policy.ranking.tiers:  # the policy loader allows no such tier; stay exact
        return score(scored, policy)
    history = RULES_BY_NAME[HISTORY_RULE].score(scored, getattr(policy.rules, HISTORY_RULE))
    points = [history if r.name == HISTORY_RULE else scored[f"points_{r.name}"] for r in RULES]
    return scored.assign(**{f"points_{HISTORY_RULE}": history}, score=np.sum(points, axis=0))


def _tier_points(points: np.ndarray, in_tier: np.ndarray | None) -> np.ndarray:
    """A tier rule's points count only where its fact reaches the tier floor, or a small old
    item would lift an account within everything else as the tiers no longer can."""
    return points if in_tier is None else np.where(in_tier, points, 0.0)


SET_ASIDE = ("disputed", "credit_due", "credit_approved", "written_off", "unapplied")


def with_collectible(features: Table) -> Table:
    """What can be collected: the net balance (credits included) less every open dispute, every
    dispute settled for the customer whose credit no import shows yet, every approved credit memo
    and write-off no import shows yet, and every payment finance confirmed that no import has
    shown yet. Disputes tied to an invoice were already taken off that invoice's amounts and
    confirmed payments off the oldest items
    (:func:`commands.calllist.features.collectible_items`); disputes without an invoice could
    touch any item, so the past-due amount may not exceed what is left."""
    set_aside = features[SET_ASIDE[0]]
    for name in SET_ASIDE[1:]:
        set_aside = set_aside + features[name]
    left = np.maximum(features["balance"] - set_aside, 0)
    return features.assign(collectible=left, past_due=np.minimum(features["past_due"], left))


def collectible(features: pd.DataFrame) -> pd.DataFrame:
    """:func:`with_collectible` on a pandas frame of features
    (:func:`commands.calllist.features.load_features`), for looking at them."""
    table = with_collectible(Table.from_frame(features))
    return features.assign(collectible=table["collectible"], past_due=table["past_due"])


def cut_to_capacity(scored: Table, capacity: int) -> Table:
    """Each collector's best ``capacity`` accounts in list order, with their ``rank``: by band
    (tier, pushed-down accounts after all others), then score; ties go to the bigger past-due
    amount, then the older debt, then the older customer record."""
    order = _list_order(scored)
    rank = _rank_within(scored["collector_id"][order])
    kept = rank <= capacity
    return scored.take(order[kept]).assign(rank=rank[kept])


_ORDER = ("band", "score", "past_due", "oldest_dpd", "customer")
SORT_KEYS = ("band", "score", "past_due", "oldest_dpd", "collector_id")  # all the shortlist and the cut read
_ASCENDING = (True, False, False, False, True)


def _list_order(frame: Table) -> np.ndarray:
    """Row positions in list order (see :func:`cut_to_capacity`): one numpy lexsort, where a
    pandas sort on five columns cost more than all the scoring. The customer id is unique, so the
    order is total and any correct sort gives it. A missing key (NaN) goes last whichever way its
    column sorts, tied with the other missing ones, as pandas sorts it: an extra key just before
    it says whether it is missing."""
    keys: list[np.ndarray] = []
    for name, up in zip(_ORDER, _ASCENDING, strict=True):
        key = frame.ids if name == "customer" else frame[name]
        if key.dtype.kind == "f":
            missing = np.isnan(key)
            if missing.any():
                keys.append(missing)
                key = np.where(missing, 0.0, key)
        keys.append(key if up else -key)
    return np.lexsort(keys[::-1])  # lexsort sorts by its last key first


def _groups(collectors: np.ndarray) -> np.ndarray:
    """The collector ids as group numbers, no collector (NaN) being a group too (-1)."""
    ids = np.asarray(collectors, dtype=np.float64)
    return np.where(np.isnan(ids), -1.0, ids)


def _rank_within(collectors: np.ndarray) -> np.ndarray:
    """1, 2, 3... down the rows within each collector (no collector, NaN, is a group too)."""
    codes = pd.factorize(_groups(collectors))[0]
    order = np.argsort(codes, kind="stable")
    grouped = codes[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    within = np.arange(len(codes)) - np.repeat(starts, np.diff(np.r_[starts, len(codes)]))
    rank = np.empty(len(codes), dtype=np.int64)
    rank[order] = within + 1
    return rank


def shortlist(scored: Table, capacity: int, headroom: float) -> np.ndarray:
    """The positions (in list order) of the accounts that can still make the list once up to
    ``headroom`` more points are known (payment history, which is costly to read for everyone
    and moves no account between tiers). An account is out for sure when ``capacity`` accounts
    of its collector are in an earlier band or in its band with more points than it could reach:
    their scores can only grow. Only the sort keys are read; no row is copied."""
    order = _list_order(scored)
    group = _groups(scored["collector_id"][order])
    band, points = scored["band"][order], scored["score"][order]
    at_line = _rank_within(scored["collector_id"][order]) == capacity  # one row per full group
    lines = np.argsort(group[at_line])
    line_group = group[at_line][lines]
    if len(line_group) == 0:
        return order
    at = np.minimum(np.searchsorted(line_group, group), len(line_group) - 1)
    full = line_group[at] == group
    line_band, line_score = band[at_line][lines][at], points[at_line][lines][at]
    could_pass = (band < line_band) | ((band == line_band) & (points + headroom >= line_score))
    picked: np.ndarray = order[~full | could_pass]
    return picked


def _exclusions(frame: Table, policy: Exclusions) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each exclusion's ``pushed_<name>`` column (true where it pushes the account down) and the
    accounts left out, as the policy's mode for each says."""
    pushed: dict[str, np.ndarray] = {}
    left_out = np.zeros(len(frame), dtype=bool)
    for exclusion in EXCLUSIONS:
        mode = getattr(policy, exclusion.name)
        applies = exclusion.applies(frame, policy) if mode != "ignore" else np.zeros(len(frame), dtype=bool)
        if mode == "leave_out":
            left_out |= applies
        pushed[f"pushed_{exclusion.name}"] = applies if mode == "push_down" else np.zeros(len(frame), dtype=bool)
    return pushed, left_out


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
