"""The cheaper ways a list is worked out give exactly what the plain ways give: the list order
by one numpy sort against pandas' five-column sort, the facts lined up in one pass against a
pandas join per part, the history scored again cheaply against a full second scoring, and the
listed accounts' details from the items already made collectible against reading them again.
Generated portfolios, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.calllist import load_policy
from commands.calllist.account_facts import COUNTS, load_history
from commands.calllist.cutoffs import cutoffs_for
from commands.calllist.disputed import _alike_pairs
from commands.calllist.features import _left_join, load_details, load_features_and_items
from commands.calllist.ranking import cut_to_capacity, rescore_history, score
from commands.calllist.table import Table
from commands.context import AppContext
from storage.models import DisputeStatus, InvoiceKind, Payment, PromiseStatus
from tests.support.ledger import CREATED, DANA, LEE, MONDAY, SAM, Ledger, call_list


def pandas_cut(scored: pd.DataFrame, capacity: int) -> pd.DataFrame:
    """The list order and ranks as pandas sorts and counts them."""
    frame = scored.assign(customer=scored.index).sort_values(
        ["band", "score", "past_due", "oldest_dpd", "customer"], ascending=[True, False, False, False, True]
    )
    frame["rank"] = frame.groupby("collector_id", dropna=False, sort=False).cumcount() + 1
    return frame[frame["rank"] <= capacity]


# Few distinct values, so that ties on every key but the customer are common.
_scored_rows = st.lists(
    st.tuples(
        st.integers(0, 3),  # band
        st.sampled_from([0.0, 10.5, 10.5, 33.25, 80.0, float("nan")]),  # score (NaN: pandas' sort takes over)
        st.sampled_from([0, 100, 5_000, 5_000]),  # past_due
        st.sampled_from([1.0, 31.0, 31.0, 95.0]),  # oldest_dpd
        st.sampled_from([1.0, 2.0, 3.0, float("nan")]),  # collector_id (NaN: nobody's)
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(rows=_scored_rows, capacity=st.integers(1, 8), with_nan=st.booleans(), seed=st.integers(0, 2**16))
def test_the_numpy_order_is_pandas_order(
    rows: list[tuple[int, float, int, float, float]], capacity: int, with_nan: bool, seed: int
) -> None:
    if not with_nan:
        rows = [(b, 0.0 if np.isnan(s) else s, p, o, c) for b, s, p, o, c in rows]
    customers = random.Random(seed).sample(range(1, 10_000), len(rows))
    scored = pd.DataFrame(
        rows,
        columns=["band", "score", "past_due", "oldest_dpd", "collector_id"],
        index=pd.Index(customers, dtype="int64"),
    )
    expected = pandas_cut(scored, capacity).drop(columns="customer")
    got = cut_to_capacity(Table.from_frame(scored), capacity).frame()
    pd.testing.assert_frame_equal(got, expected, check_names=False)


_part = st.dictionaries(st.integers(1, 40), st.integers(-(10**12), 10**12), max_size=30)


@settings(max_examples=100, deadline=None)
@given(customers=st.sets(st.integers(1, 40), max_size=30), counts=_part, owners=_part)
def test_lining_up_the_facts_is_joining_them(
    customers: set[int], counts: dict[int, int], owners: dict[int, int]
) -> None:
    index = pd.Index(sorted(customers), name="customer_id", dtype="int64")
    items = pd.DataFrame({"balance": np.arange(len(index), dtype=np.int64)}, index=index)
    owner_part = pd.DataFrame(
        {"collector_id": np.array(list(owners.values()), dtype=np.float64)},
        index=pd.Index(list(owners), dtype="int64"),
    )
    count_part = pd.DataFrame(
        {"disputed": np.array(list(counts.values()), dtype=np.int64)}, index=pd.Index(list(counts), dtype="int64")
    )
    joined = items.join(owner_part, how="left").join(count_part, how="left")
    joined["disputed"] = joined["disputed"].fillna(0).astype("int64")
    assert "disputed" in COUNTS
    lined = _left_join(index, [owner_part, count_part])
    got = pd.concat([items, pd.DataFrame(lined, index=index)], axis=1)
    pd.testing.assert_frame_equal(got, joined)


def _portfolio(ctx: AppContext, seed: int) -> None:
    """Accounts of three collectors and nobody, with disputes on and off invoices, promises kept
    and broken, confirmed payments and payment history."""
    rng = random.Random(seed)
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        for n in range(80):
            customer = ledger.customer(f"G{n:02d}", collector=rng.choice([DANA, SAM, LEE, None]))
            items = []
            for _ in range(rng.randint(1, 5)):
                kind = rng.choice([InvoiceKind.STANDARD, InvoiceKind.RECURRING, InvoiceKind.FINAL])
                amount = str(rng.choice([150, 800, 2000, 2000, 9000]))
                items.append(ledger.invoice(customer, amount, rng.randint(-10, 130), kind))
            for _ in range(rng.randint(0, 3)):
                ledger.paid_invoice(customer, "700", rng.randint(60, 300), rng.randint(0, 45))
            if rng.random() < 0.25:
                ledger.dispute(customer, "300", rng.choice([*items, None]), rng.choice(list(DisputeStatus)))
            if rng.random() < 0.3:
                status = rng.choice([PromiseStatus.BROKEN, PromiseStatus.KEPT, PromiseStatus.OPEN])
                ledger.promise(customer, MONDAY - timedelta(days=rng.randint(-5, 20)), status)
            if rng.random() < 0.15:
                session.add(
                    Payment(
                        customer_id=customer.id,
                        amount=Decimal(rng.choice(["500", "2500"])),
                        source="finance",
                        received_on=MONDAY - timedelta(days=1),
                        created_at=CREATED,
                    )
                )
        session.flush()


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_the_cheap_paths_give_what_the_plain_ones_give(ctx: AppContext, tmp_path: Path, seed: int) -> None:
    ctx.policy_file = tmp_path / "policy.toml"
    ctx.policy_file.write_text("[rules.days_late]\nweight = 700\nmin_paid_invoices = 1\n")
    _portfolio(ctx, seed)
    policy = load_policy(ctx.policy_file)
    cut = cutoffs_for(MONDAY, policy, ctx.calendar, ctx.team.timezone)
    with ctx.sessions() as session:
        features, collectible = load_features_and_items(session, cut, collector_id=None)
        history = load_history(session, cut, None, collector_id=None).reindex(pd.Index(features.ids))
        with_history = features.assign(
            avg_days_late=history["avg_days_late"].to_numpy(),
            paid_invoices=history["paid_invoices"].fillna(0).astype("int64").to_numpy(),
        )
        full = score(with_history, policy)
        cheap = rescore_history(
            score(features, policy).assign(avg_days_late=full["avg_days_late"], paid_invoices=full["paid_invoices"]),
            policy,
        )
        pd.testing.assert_frame_equal(cheap.frame(), full.frame())
        assert (full["points_days_late"] > 0).any(), "the history must weigh for the check to mean anything"
        listed: list[int] = cut_to_capacity(full, 10).ids.tolist()
        read_again = load_details(session, cut, listed, ctx.team)
        taken = load_details(session, cut, listed, ctx.team, collectible)
    pd.testing.assert_frame_equal(taken, read_again)
    assert read_again["oldest_due"].notna().any()
    expected = cut_to_capacity(full, 10)
    rows = call_list(ctx, capacity=10)
    assert {(r.customer_id, r.rank, r.score) for r in rows} == {
        (int(i), int(rank), round(float(points), 1))
        for i, rank, points in zip(expected.ids, expected["rank"], expected["score"], strict=True)
    }
    assert any(r.collector_email == DANA for r in rows) and any(r.collector_email is None for r in rows)


_keyed_rows = st.lists(
    st.tuples(st.integers(1, 3), st.integers(0, 2), st.sampled_from([100, 100, 250, -40])), max_size=25
)


@settings(max_examples=150, deadline=None)
@given(items=_keyed_rows, disputes=_keyed_rows)
def test_pairing_alike_items_with_alike_disputes_is_numbering_and_joining_them(
    items: list[tuple[int, int, int]], disputes: list[tuple[int, int, int]]
) -> None:
    """The n-th item alike in (customer, due day, cents) pairs with the n-th dispute alike in them,
    as pandas numbers alike rows and joins them."""
    columns = ["customer_id", "due", "cents"]
    left = pd.DataFrame(items, columns=columns, dtype="int64")
    right = pd.DataFrame(disputes, columns=columns, dtype="int64")
    numbered = [
        frame.assign(nth=frame.groupby(columns, sort=False).cumcount()).reset_index() for frame in (left, right)
    ]
    joined = numbered[0].merge(numbered[1], on=[*columns, "nth"])
    item_at, dispute_at = _alike_pairs(
        [left[name].to_numpy() for name in columns], [right[name].to_numpy() for name in columns]
    )
    assert sorted(zip(item_at.tolist(), dispute_at.tolist(), strict=True)) == sorted(
        zip(joined["index_x"].tolist(), joined["index_y"].tolist(), strict=True)
    )
