"""What the ranking needs to know about every account's open items, worked out with numpy.

The items come packed, one short array per customer (:mod:`storage.open_items`), so a million of
them are read as 100,000 values and every column below is one vectorised pass: a sum, count or
minimum per customer over the items a condition picks, comparing due days with the constants
from :mod:`commands.calllist.cutoffs`. Money stays integer cents (exact, and fast to sum); it
becomes ``Decimal`` only on listed rows.

Disputed money leaves collection: every column but the balance is worked out on the items less
their open disputes (:mod:`commands.calllist.disputed`). The amounts and dates that only reasons
name are worked out the same way, for the accounts that make the list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from commands.calllist.account_facts import COUNTS, account_facts, promise_dates, suspension_steps
from commands.calllist.confirmed import less_confirmed
from commands.calllist.cutoffs import BUCKETS, Cutoffs
from commands.calllist.disputed import less_disputes
from commands.calllist.packs import read_owned_packs
from commands.calllist.sql import Statement, customer_ids_param, number_frame, scoped, typed_frame
from commands.calllist.table import Table
from commands.team import Team
from storage.models import Customer, InvoiceKind
from storage.open_items import EPOCH, KIND_CODE, OpenItems, day_number, read_packs

_NONE = np.iinfo(np.int32).max  # "no such item" while taking a minimum of due days


def load_features(session: Session, cut: Cutoffs, *, collector_id: int | None) -> pd.DataFrame:
    """One row per customer with open items (of one collector, or everyone's), indexed by
    customer id. Payment history is left empty: it is read later, and only for the accounts it
    can still move (:func:`commands.calllist.account_facts.load_history`). A pandas frame, for
    looking at the features; the ranking itself works on :func:`load_features_and_items`'s table."""
    return load_features_and_items(session, cut, collector_id=collector_id)[0].frame()


def load_features_and_items(
    session: Session, cut: Cutoffs, *, collector_id: int | None, customer_ids: Sequence[int] | None = None
) -> tuple[Table, OpenItems]:
    """:func:`load_features` as a :class:`Table`, and the collectible items they were worked out from, which
    :func:`load_details` takes the listed accounts' from instead of reading and adjusting them
    again. With ``customer_ids``, only those of the given customers (every column is worked out
    per customer, so these are the same rows as everyone's)."""
    features, items = _open_item_features(session, cut, collector_id=collector_id, customer_ids=customer_ids)
    return with_account_facts(session, cut, features, collector_id=collector_id, customer_ids=customer_ids), items


def open_item_features(session: Session, cut: Cutoffs, *, collector_id: int | None) -> Table:
    """The open-item columns per customer, less what is in dispute and less the confirmed money
    the ERP does not show yet (:func:`collectible_items`). The balance stays the ledger's:
    collectible() takes every open dispute and that money off it, once."""
    return _open_item_features(session, cut, collector_id=collector_id)[0]


def _open_item_features(
    session: Session, cut: Cutoffs, *, collector_id: int | None, customer_ids: Sequence[int] | None = None
) -> tuple[Table, OpenItems]:
    connection = session.connection()
    packed, collectors = read_owned_packs(connection, collector_id=collector_id, customer_ids=customer_ids)
    collectible = collectible_items(connection, packed)
    columns = score_columns(collectible, cut)
    features = {"balance": _PerCustomer(packed).total(), **{n: columns[n] for n in columns}, "collector_id": collectors}
    return Table(columns.ids, features), collectible


def collectible_items(connection: Connection, packed: OpenItems) -> OpenItems:
    """The items as collectors can still collect them: disputed money off its invoice first, then
    confirmed payments on what is left, oldest first (a payment does not pay a disputed amount)."""
    return less_confirmed(connection, less_disputes(connection, packed))


def of_customers(open_items: OpenItems, customer_ids: Sequence[int]) -> OpenItems:
    """The items of the given customers only (those among them that have items). Disputes,
    write-offs and confirmed payments are taken off each customer's own items, so the collectible
    items of a few customers are these same rows of everyone's."""
    wanted = np.isin(open_items.customer_ids, np.asarray(customer_ids, dtype=np.int64))
    return OpenItems(
        open_items.customer_ids[wanted],
        open_items.counts[wanted],
        open_items.items[np.repeat(wanted, open_items.counts)],
    )


def with_account_facts(
    session: Session,
    cut: Cutoffs,
    items: Table,
    *,
    collector_id: int | None,
    customer_ids: Sequence[int] | None = None,
) -> Table:
    """The facts from the smaller tables, and the collector unless the open-item columns came
    with it (:func:`commands.calllist.packs.read_owned_packs`), joined onto those columns (the
    facts read for the given customers only, when given)."""
    facts = account_facts(session, cut, collector_id=collector_id, customer_ids=customer_ids)
    if "collector_id" not in items:
        facts.insert(0, _owners_of(session, collector_id=collector_id, customer_ids=customer_ids))
    columns = _left_join(pd.Index(items.ids), facts)
    columns.update(avg_days_late=np.full(len(items), np.nan), paid_invoices=np.zeros(len(items), dtype=np.int64))
    return items.assign(**columns)


def _left_join(index: pd.Index, parts: Sequence[pd.DataFrame]) -> dict[str, np.ndarray]:
    """The parts' columns lined up with ``index``: the counts 0 and anything else NaN where a
    part has no row. The same as joining the parts one by one and filling the counts with 0, in
    one numpy pass per column instead of a pandas join per part (a dozen joins cost more than
    the queries for one collector's accounts)."""
    columns: dict[str, np.ndarray] = {}
    for part in parts:
        at = index.get_indexer(part.index)  # -1 for a customer without open items
        found = at >= 0
        for name in part.columns:
            values = part[name].to_numpy()
            column = np.zeros(len(index), dtype=np.int64) if name in COUNTS else np.full(len(index), np.nan)
            column[at[found]] = values[found]
            columns[str(name)] = column
    return columns


def _owners_of(session: Session, *, collector_id: int | None, customer_ids: Sequence[int] | None) -> pd.DataFrame:
    params: dict[str, object] = {"collector_id": collector_id}
    if customer_ids is not None:
        params["customer_ids"] = list(customer_ids)
    stmt = _owners(collector_id is not None, customer_ids is not None)
    return number_frame(session, stmt, ["collector_id"], floats={"collector_id"}, params=params)


@cache
def _owners(by_collector: bool, by_customers: bool) -> Statement:
    return scoped(select(Customer.id, Customer.collector_id), Customer.id, by_collector, by_customers)


class _PerCustomer:
    """Sums, counts and earliest due days of the items a condition picks, per customer."""

    def __init__(self, open_items: OpenItems) -> None:
        self.open_items = open_items
        self.starts = open_items.starts
        items = open_items.items
        self.due, self.cents = items["due"], items["cents"]
        self.kind = items["kind"]
        self.positive = self.cents > 0

    def is_kind(self, kind: InvoiceKind) -> np.ndarray:
        return np.asarray(self.kind == KIND_CODE[kind.value])

    def between(self, first: date, last: date) -> np.ndarray:
        return (self.due >= day_number(first)) & (self.due <= day_number(last))

    def before(self, day: date) -> np.ndarray:
        return self.due < day_number(day)

    def on_or_before(self, day: date) -> np.ndarray:
        return self.due <= day_number(day)

    def total(self, picked: np.ndarray | None = None) -> np.ndarray:
        return self._reduce(np.add, self.cents if picked is None else np.where(picked, self.cents, 0))

    def count(self, picked: np.ndarray) -> np.ndarray:
        return self._reduce(np.add, picked.astype(np.int64))

    def earliest(self, picked: np.ndarray) -> np.ndarray:
        """The earliest due day picked, or ``_NONE``."""
        return self._reduce(np.minimum, np.where(picked, self.due, _NONE))

    def _reduce(self, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        if len(self.open_items) == 0:
            return np.zeros(0, dtype=values.dtype)
        return ufunc.reduceat(values, self.starts)

    def frame(self, columns: Mapping[str, np.ndarray | list[date | None]]) -> pd.DataFrame:
        return pd.DataFrame(columns, index=pd.Index(self.open_items.customer_ids, name="customer_id"))

    def table(self, columns: Mapping[str, np.ndarray]) -> Table:
        return Table(self.open_items.customer_ids, columns)


def score_columns(open_items: OpenItems, cut: Cutoffs) -> Table:
    """What scoring and tiers read. The age buckets an account reaches all follow from its oldest
    positive item, so one minimum stands in for four sums. The ``amount_<rule>`` columns are the
    cents behind each tier's fact, which the tier floor compares (:mod:`commands.calllist.tiers`)."""
    at = _PerCustomer(open_items)
    positive, past = at.positive, at.positive & at.before(cut.day)
    oldest = at.earliest(positive)
    final = positive & at.is_kind(InvoiceKind.FINAL) & at.between(cut.final_from, cut.final_until)
    mrr = past & at.is_kind(InvoiceKind.RECURRING)
    crossing = positive & np.isin(at.due, day_number(cut.crossing_due_dates))
    return at.table(
        {
            "past_due": at.total(past),
            "oldest_dpd": np.where(oldest == _NONE, np.nan, day_number(cut.day) - oldest.astype(np.float64)),
            "window": at.count(positive & at.between(cut.window_from, cut.window_until)),
            "finals": at.count(final),
            "mrr_months": at.count(mrr),
            "crossing": at.count(crossing),
            "amount_final_invoice": at.total(final),
            "amount_unpaid_mrr": at.total(mrr),
            "amount_over_30_days": at.total(positive & at.on_or_before(cut.over[30])),
            "amount_crossing_soon": at.total(crossing),
        }
    )


def detail_columns(open_items: OpenItems, cut: Cutoffs) -> pd.DataFrame:
    """The amounts and dates reasons name."""
    at = _PerCustomer(open_items)
    positive = at.positive
    window = positive & at.between(cut.window_from, cut.window_until)
    final = positive & at.is_kind(InvoiceKind.FINAL) & at.between(cut.final_from, cut.final_until)
    return at.frame(
        {
            "oldest_due": _dates(at.earliest(positive & at.before(cut.day))),
            "final_due": _dates(at.earliest(final)),
            **{f"over_{n}": at.total(positive & at.on_or_before(cut.over[n])) for n in BUCKETS},
            "window_cents": at.total(window),
            **{
                f"crossing_due_{c.threshold}": _dates(
                    at.earliest(positive & ~at.on_or_before(c.due_after) & at.on_or_before(c.due_until))
                )
                for c in cut.crossings
            },
        }
    )


def load_details(
    session: Session, cut: Cutoffs, customer_ids: Sequence[int], team: Team, collectible: OpenItems | None = None
) -> pd.DataFrame:
    """Names and the amounts and dates behind the reasons, for the accounts on the list only.
    ``collectible``: items already made collectible (:func:`load_features_and_items`) that hold
    these customers'; without them, theirs are read and adjusted here."""
    names = typed_frame(session, _names(), ["erp_id", "name"], {"customer_ids": list(customer_ids)})
    if collectible is None:
        connection = session.connection()
        collectible = collectible_items(connection, read_packs(connection, customer_ids=customer_ids))
    details = detail_columns(of_customers(collectible, customer_ids), cut)
    return (
        names.join(details, how="left")
        .join(promise_dates(session, cut, customer_ids), how="left")
        .join(suspension_steps(session, cut, team, customer_ids), how="left")
    )


@cache
def _names() -> Statement:
    return select(Customer.id, Customer.erp_id, Customer.name).where(Customer.id.in_(customer_ids_param()))


def _dates(days: np.ndarray) -> list[date | None]:
    """Due days back as dates (None where no item was picked)."""
    return [None if d == _NONE else (EPOCH + int(d)).astype(date) for d in days.tolist()]
