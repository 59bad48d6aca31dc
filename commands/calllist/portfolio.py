"""What a ranked list was made from, kept with it so that a few accounts' changes rank it again
without reading every account again (:mod:`commands.calllist.rerank`).

Everything here is per customer: the feature row of each account with open items (open-item
columns and the facts from the smaller tables, before scoring), its collectible items, its payment
history once it was shortlisted and its row once it was listed (all of a row but its rank follows
from the account's own features, history and details). None of it depends on another
customer, so a changed customer's rows are replaced by freshly read ones and the rest stay right.
What depends on several customers (tiers are per row, but the shortlist, the cut, the ranks and
the order are not) is never kept: :func:`commands.calllist.build.finish` works it out again on the
whole portfolio every time.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from commands.calllist.cutoffs import Cutoffs
from commands.calllist.policy import Policy
from commands.calllist.table import Table
from storage.open_items import OpenItems

if TYPE_CHECKING:
    from commands.calllist import CallListRow


@dataclass(frozen=True)
class Setup:
    """What a list is ranked with besides the ledger: a list ranked with other settings is ranked
    afresh, never patched."""

    policy: Policy
    capacity: int
    collector_id: int | None
    cut: Cutoffs


NO_HISTORY = pd.DataFrame(
    {"avg_days_late": pd.Series(dtype="float64"), "paid_invoices": pd.Series(dtype="float64")},
    index=pd.Index([], dtype="int64", name="customer_id"),
)


@dataclass(frozen=True)
class Portfolio:
    """The per-customer inputs of one list. Frames are never changed in place: each step makes
    new ones, so a portfolio kept by one thread can be read by another."""

    setup: Setup
    features: Table  # one row per account with open items, before scoring (load_features_and_items)
    collectible: OpenItems  # their collectible items, which details are worked out from
    history: pd.DataFrame  # avg_days_late, paid_invoices of the accounts read so far (NaN: no history)
    rows: Mapping[int, CallListRow] = field(default_factory=dict)  # the accounts listed so far (any rank)
    emails: Mapping[int, str] = field(default_factory=dict)  # the members' emails the rows name

    @classmethod
    def start(cls, setup: Setup, features: Table, collectible: OpenItems) -> Portfolio:
        return cls(setup, features, collectible, NO_HISTORY)

    def lacking_history(self, ids: Sequence[int]) -> list[int]:
        return _lacking(self.history.index, ids)

    def lacking_rows(self, ids: Sequence[int], emails: Mapping[int, str]) -> list[int]:
        """The listed accounts without a row yet (all of them once a member's email changed)."""
        return list(ids) if emails != self.emails else [i for i in ids if i not in self.rows]

    def with_history(self, read: pd.DataFrame) -> Portfolio:
        return replace(self, history=_appended(self.history, read))

    def with_rows(self, made: Mapping[int, CallListRow], emails: Mapping[int, str]) -> Portfolio:
        rows = {**self.rows, **made} if emails == self.emails else dict(made)
        return replace(self, rows=rows, emails=emails)

    def with_changed(self, changed: Collection[int], features: Table, collectible: OpenItems) -> Portfolio:
        """The ``changed`` customers' rows replaced by ``features`` and ``collectible``, freshly
        read for them (a changed customer missing from those has left the list's accounts or has
        nothing open); their history and rows are made again when needed."""
        gone = np.asarray(sorted(changed), dtype=np.int64)
        kept = self.features.take(~np.isin(self.features.ids, gone))
        merged = kept if len(features) == 0 else _by_id(Table.concat([kept, features]))
        return Portfolio(
            self.setup,
            merged,
            merged_items(self.collectible, gone, collectible),
            self.history[~self.history.index.isin(gone)],
            {c: row for c, row in self.rows.items() if c not in changed},
            self.emails,
        )


@dataclass(frozen=True)
class Ranked:
    """A ranked list and the portfolio it was ranked from."""

    rows: list[CallListRow]
    portfolio: Portfolio


def merged_items(kept: OpenItems, gone: np.ndarray, added: OpenItems) -> OpenItems:
    """``kept``'s items less the ``gone`` customers', with ``added``'s, customers ascending."""
    keep = ~np.isin(kept.customer_ids, gone)
    ids = np.concatenate([kept.customer_ids[keep], added.customer_ids])
    counts = np.concatenate([kept.counts[keep], added.counts])
    items = np.concatenate([kept.items[np.repeat(keep, kept.counts)], added.items])
    order = np.argsort(ids, kind="stable")
    if np.array_equal(order, np.arange(len(ids))):
        return OpenItems(ids, counts, items)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    sorted_counts = counts[order]
    # each item's position in the old layout: its customer's old start plus its place within
    within = np.arange(int(sorted_counts.sum())) - np.repeat(np.cumsum(sorted_counts) - sorted_counts, sorted_counts)
    positions = np.repeat(starts[order], sorted_counts) + within
    return OpenItems(ids[order], sorted_counts, items[positions])


def _by_id(table: Table) -> Table:
    """The rows in customer id order, as the features are read."""
    return table.take(np.argsort(table.ids, kind="stable"))


def _lacking(known: pd.Index, ids: Sequence[int]) -> list[int]:
    wanted = np.asarray(ids, dtype=np.int64)
    return [int(i) for i in wanted[~np.isin(wanted, known.to_numpy())]]


def _appended(kept: pd.DataFrame, read: pd.DataFrame) -> pd.DataFrame:
    if read.empty:
        return kept
    if kept.empty:
        return read
    return pd.concat([kept, read])
