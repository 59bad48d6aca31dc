"""Customers named in an export: found by ERP id (or, for exports without ids, by exact name),
created when new, and renamed, re-segmented or reassigned when the file says so.

QuickBooks reports carry no customer id, so a name stands in: an existing customer with exactly
that name is the one meant; otherwise the customer gets an id derived from the name alone, so the
same name maps to the same id on every import.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from storage.aging.bulk import Bulk
from storage.models import Customer

Assign = Callable[[str, str], str | None]  # (erp_id, name) -> collector email


@dataclass(frozen=True)
class CustomerChanges:
    ids: np.ndarray  # customer id for each row of the file's customer table
    created: int
    changed: list[dict[str, object]]  # one entry per existing customer the file changed


NAMED = "name:"  # prefix of ids derived from a name


def derived_erp_id(name: str) -> str:
    """Stable id for a customer known only by name: readable slug plus a hash of the exact name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    return f"{NAMED}{slug}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def existing_customers(bulk: Bulk) -> pd.DataFrame:
    return bulk.frame(
        "SELECT id, erp_id, name, collector_id, segment, currency FROM customers ORDER BY id",
        {
            "id": "int64",
            "erp_id": "object",
            "name": "object",
            "collector_id": "Int64",
            "segment": "object",
            "currency": "object",
        },
    )


def erp_ids_for_names(names: pd.Series, existing: pd.DataFrame) -> pd.Series:
    """ERP ids for customers known by name: the oldest customer with exactly that name, else derived."""
    by_name = existing.drop_duplicates("name").set_index("name")["erp_id"]
    known = names.map(by_name)
    return known.where(known.notna(), names.map(derived_erp_id)).astype("str")


def file_customers(items: pd.DataFrame, codes: np.ndarray, keys: np.ndarray, members: dict[str, int]) -> pd.DataFrame:
    """One row per customer key (``codes``/``keys`` from factorising the items' ERP ids): name and
    currency from its first line, owner, segment, billing email and retainer required from the first
    line that gives one."""
    found = {"erp_id": pd.Series(np.asarray(keys, dtype=object), dtype=object)}
    for field in ("name", "currency", "owner", "segment", "billing_email", "retainer_required"):
        values = items[field]
        given = field in ("owner", "segment", "billing_email", "retainer_required")
        rows = np.flatnonzero((values != "").to_numpy()) if given else np.arange(len(values))
        first = np.full(len(keys), -1)
        first[codes[rows][::-1]] = rows[::-1]  # reversed, so the earliest row per customer wins
        column = np.full(len(keys), "", dtype=object)
        column[first >= 0] = values.iloc[first[first >= 0]].to_numpy(dtype=object)
        found[field] = pd.Series(column, dtype=object)
    frame = pd.DataFrame(found)
    frame["collector_id"] = frame["owner"].map(members).astype("Int64")
    return frame


def upsert_customers(
    bulk: Bulk,
    found: pd.DataFrame,
    existing: pd.DataFrame,
    *,
    members: dict[str, int],
    assign: Assign,
    now: datetime,
    currency_given: bool,
    adopt: bool,
) -> CustomerChanges:
    """Insert new customers (owner from the file, else ``assign``), update changed ones. ``adopt``:
    the file has real ERP ids, which customers created from a name-only report take over."""
    adopted = _adopt_named(bulk, found, existing) if adopt else []
    merged = found.merge(existing, on="erp_id", how="left", suffixes=("", "_db"))
    is_new = merged["id"].isna().to_numpy()
    new = merged[is_new].copy()
    if not new.empty:
        pairs = zip(new["erp_id"].to_numpy(dtype=object), new["name"].to_numpy(dtype=object), strict=True)
        assigned = [members.get(assign(erp_id, name) or "") for erp_id, name in pairs]
        new["collector_id"] = new["collector_id"].fillna(pd.Series(assigned, index=new.index, dtype="Int64"))
        new["currency"] = new["currency"].where(new["currency"] != "", "USD")
        new["segment"] = new["segment"].where(new["segment"] != "", None)
        new["created_at"] = bulk.instant(Customer.__table__.c.created_at, now)
        with bulk.loading("customers", len(new), held=len(existing)):
            bulk.insert(
                "customers",
                ["erp_id", "name", "collector_id", "segment", "currency", "created_at"],
                new,
                stage="adding customers",
            )
        last = int(existing["id"].max()) if len(existing) else 0
        created = bulk.frame(f"SELECT erp_id, id FROM customers WHERE id > {last}", {"erp_id": "object", "id": "int64"})
        merged["id"] = merged["id"].fillna(merged["erp_id"].map(created.set_index("erp_id")["id"]))
    changed = adopted + _apply_changes(bulk, merged[~is_new], currency_given)
    return CustomerChanges(ids=merged["id"].to_numpy(dtype=np.int64), created=len(new), changed=changed)


def _adopt_named(bulk: Bulk, found: pd.DataFrame, existing: pd.DataFrame) -> list[dict[str, object]]:
    """A customer first seen in a report without ids (QuickBooks) takes the real ERP id when a
    file with ids names it exactly, instead of being created twice. Updates ``existing`` in place."""
    named = existing[existing["erp_id"].str.startswith(NAMED)].drop_duplicates("name")
    if named.empty:
        return []
    unmatched = found[~found["erp_id"].isin(existing["erp_id"])]
    adopt = unmatched.merge(named[["id", "name", "erp_id"]], on="name", suffixes=("", "_db")).drop_duplicates("id")
    if adopt.empty:
        return []
    bulk.execute_many(
        "UPDATE customers SET erp_id = ? WHERE id = ?", adopt[["erp_id", "id"]], stage="matching customers by name"
    )
    existing.loc[existing["id"].isin(adopt["id"]), "erp_id"] = existing["id"].map(adopt.set_index("id")["erp_id"])
    pairs = zip(
        adopt["id"].to_numpy(dtype=np.int64),
        adopt["erp_id_db"].to_numpy(dtype=object),
        adopt["erp_id"].to_numpy(dtype=object),
        strict=True,
    )
    return [
        {"customer_id": int(customer_id), "erp_id": {"from": before, "to": after}}
        for customer_id, before, after in pairs
    ]


def _apply_changes(bulk: Bulk, both: pd.DataFrame, currency_given: bool) -> list[dict[str, object]]:
    """Renames always (the ERP is the source of truth for names); segment, currency and owner
    only where the file states them."""
    before = {
        "name": both["name_db"],
        "segment": both["segment_db"],
        "currency": both["currency_db"],
        "collector_id": both["collector_id_db"],
    }
    after = {
        "name": both["name"],
        "segment": both["segment"].where(both["segment"] != "", both["segment_db"]),
        "currency": both["currency"].where((both["currency"] != "") & currency_given, both["currency_db"]),
        "collector_id": both["collector_id"].fillna(both["collector_id_db"]),
    }
    differs = {field: _differs(before[field], after[field]) for field in before}
    changed = np.logical_or.reduce(list(differs.values())) if len(both) else np.zeros(0, dtype=bool)
    if not changed.any():
        return []
    rows = pd.DataFrame({**after, "id": both["id"].astype("int64")})[changed]
    bulk.execute_many(
        "UPDATE customers SET name = ?, segment = ?, currency = ?, collector_id = ? WHERE id = ?",
        rows,
        stage="updating customers",
    )
    ids = both["id"].to_numpy(dtype=np.int64)
    return [
        {
            "customer_id": int(ids[i]),
            **{
                field: {"from": _py(before[field].iat[i]), "to": _py(after[field].iat[i])}
                for field in before
                if differs[field][i]
            },
        }
        for i in map(int, np.flatnonzero(changed))
    ]


def _differs(before: pd.Series, after: pd.Series) -> np.ndarray:
    """Elementwise "changed", treating two missing values as equal."""
    left, right = before.astype(object), after.astype(object)
    missing_left, missing_right = left.isna().to_numpy(dtype=bool), right.isna().to_numpy(dtype=bool)
    unequal = (left.where(~missing_left, "") != right.where(~missing_right, "")).to_numpy(dtype=bool)
    return (missing_left ^ missing_right) | (~missing_left & ~missing_right & unequal)


def _py(value: object) -> object:
    """numpy/pandas scalars as plain Python values for the audit log (None for a missing one)."""
    if isinstance(value, np.generic):
        value = value.item()  # a numpy NaT becomes None, a NaN a float
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
