"""Row validation, column-wise: every check is one vectorised test over all items, so a clean
million-row file costs a few array passes. Only when something is wrong are rows formatted,
as "row N: reason" with N the line a person sees in the file (title lines counted)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from storage.aging.arrow_text import arrow_strings
from storage.aging.items import ParsedItems, map_distinct
from storage.aging.source import RawTable

MAX_LISTED = 50
# Invoices of a live ledger: a date before this, or more than a year past the snapshot, is a
# typo or a placeholder (1900-01-01), not a date to age money by.
FIRST_PLAUSIBLE = np.datetime64("2000-01-01", "D")
DAYS_AHEAD = 366
LIMITS = {
    "erp_id": ("customer ID", 64),
    "name": ("customer name", 200),
    "number": ("invoice number", 64),
    "segment": ("segment", 64),
}


@dataclass(frozen=True)
class CheckedItems:
    """The valid items (owner resolved to an email), and the rows refused with their reasons."""

    items: pd.DataFrame
    problems: list[tuple[int, str]]  # (line, reasons), in file order
    refused_customers: frozenset[str]  # customer keys of refused rows (ERP id, else name)
    # pandas' hash of each item's invoice number, computed once for the duplicate check and
    # reused by the content digest (commands.import_file)
    number_hashes: np.ndarray | None = None


Reason = Callable[[np.ndarray], "pd.Series | np.ndarray | list[str]"]


def check_items(
    parsed: ParsedItems, table: RawTable, *, owners: Mapping[str, str], as_of: date | None = None
) -> CheckedItems:
    """``owners`` maps a lower-cased email or member name to the member's email; ``as_of`` (the
    snapshot date) bounds how far ahead a date may lie."""
    frame = parsed.frame
    key = frame["erp_id"] if "erp_id" in parsed.fields else frame["name"]
    found: list[tuple[np.ndarray, np.ndarray]] = []

    def flag(mask: np.ndarray | pd.Series, reason: str | Reason) -> None:
        """Reasons are built only for the flagged rows: a clean file formats nothing."""
        rows = np.flatnonzero(np.asarray(mask, dtype=bool))
        if rows.size:
            text = np.full(rows.size, reason, dtype=object) if isinstance(reason, str) else reason(rows)
            found.append((rows, np.asarray(text, dtype=object)))

    flag(key == "", "missing customer ID" if "erp_id" in parsed.fields else "missing customer")
    flag(frame["number"] == "", "missing invoice number")
    flag(parsed.due.blank, "missing due date")
    flag(parsed.due.invalid, _quoted(parsed.raw["due_date"], "due date ", " is not a date"))
    if parsed.issue is not None:
        flag(parsed.issue.invalid, _quoted(parsed.raw["issue_date"], "invoice date ", " is not a date"))
    _check_dates(frame, parsed, as_of, flag)
    _check_money(frame, parsed, flag)
    _check_text(frame, parsed.fields, owners, flag)
    number_hashes = pd.util.hash_array(frame["number"].array, categorize=False)
    duplicated = _duplicated(key, frame["number"], number_hashes)
    lines = None
    if found or duplicated.any() or table.shape_problems:
        lines = table.line_numbers()[frame.index.to_numpy()]
        flag(duplicated, lambda rows: _duplicate_reasons(frame, key, lines, rows))
    problems, bad = _collect(found, lines, frame.index, table)
    ok = ~frame.index.isin(bad)
    if "owner" in parsed.fields:
        frame = frame.assign(owner=resolve_owners(frame["owner"], owners))
    return CheckedItems(
        items=frame if ok.all() else frame[ok],
        problems=problems,
        refused_customers=frozenset(key[~ok & (key != "")].tolist()),
        number_hashes=number_hashes if ok.all() else number_hashes[ok],
    )


def _quoted(raw: pd.Series, before: str, after: str) -> Reason:
    return lambda rows: before + "'" + raw.iloc[rows] + "'" + after


def _check_dates(frame: pd.DataFrame, parsed: ParsedItems, as_of: date | None, flag: Callable[..., None]) -> None:
    """Dates that parse but cannot be an open item's: before 2000, over a year past the
    snapshot, or an invoice dated after it falls due."""
    ahead = (
        (np.datetime64(as_of, "D") + DAYS_AHEAD, f" is more than a year after {as_of.isoformat()}") if as_of else None
    )
    columns = [("due_date", "due date ", parsed.due)]
    if parsed.issue is not None:
        columns.append(("issue_date", "invoice date ", parsed.issue))
    for field, label, _column in columns:
        days, raw = frame[field].to_numpy(dtype="datetime64[D]"), parsed.raw[field]
        known = ~np.isnat(days)
        flag(known & (days < FIRST_PLAUSIBLE), _quoted(raw, label, " is before 2000"))
        if ahead is not None:
            latest, after = ahead
            flag(known & (days > latest), _quoted(raw, label, after))
    if parsed.issue is not None:
        issue = frame["issue_date"].to_numpy(dtype="datetime64[D]")
        due = frame["due_date"].to_numpy(dtype="datetime64[D]")
        raw_issue, raw_due = parsed.raw["issue_date"], parsed.raw["due_date"]
        flag(
            ~np.isnat(issue) & ~np.isnat(due) & (issue > due),
            lambda rows: (
                "invoice date '" + raw_issue.iloc[rows] + "' is after the due date '" + raw_due.iloc[rows] + "'"
            ),
        )


def _check_money(frame: pd.DataFrame, parsed: ParsedItems, flag: Callable[..., None]) -> None:
    """Each amount must parse; an open balance is what is left of the amount: same sign, never larger."""
    label = "open balance" if "open_balance" in parsed.fields else "amount"
    balance_col, amount_col = parsed.open_balance, parsed.amount
    flag(balance_col.blank, f"missing {label}")
    flag(balance_col.reason != "", lambda rows: f"{label} " + balance_col.reason.iloc[rows])
    if amount_col is None:
        return
    flag(amount_col.reason != "", lambda rows: "amount " + amount_col.reason.iloc[rows])
    parsed_ok = ~balance_col.blank & (balance_col.reason == "").to_numpy() & (amount_col.reason == "").to_numpy()
    amount, balance = frame["amount"].to_numpy(), frame["open_balance"].to_numpy()
    raw_balance, raw_amount = parsed.raw["open_balance"], parsed.raw["amount"]
    flag(
        parsed_ok & (amount != 0) & (balance != 0) & (np.sign(amount) != np.sign(balance)),
        lambda rows: (
            "open balance '"
            + raw_balance.iloc[rows]
            + "' and amount '"
            + raw_amount.iloc[rows]
            + "' have different signs"
        ),
    )
    flag(
        parsed_ok & (np.sign(amount) * np.sign(balance) >= 0) & (np.abs(balance) > np.abs(amount)),
        lambda rows: (
            "open balance '" + raw_balance.iloc[rows] + "' is larger than the amount '" + raw_amount.iloc[rows] + "'"
        ),
    )


def _check_text(
    frame: pd.DataFrame, fields: frozenset[str], owners: Mapping[str, str], flag: Callable[..., None]
) -> None:
    currency, owner = frame["currency"], frame["owner"]
    if "currency" in fields:
        flag(
            (currency != "") & ~currency.str.fullmatch(r"[A-Z]{3}"),
            lambda rows: "currency '" + currency.iloc[rows] + "' is not a 3-letter code",
        )
    if "owner" in fields:
        flag(
            (owner != "") & (resolve_owners(owner, owners) == ""),
            lambda rows: "owner '" + owner.iloc[rows] + "' is not a collector in the team file",
        )
    for field, (label, limit) in LIMITS.items():
        flag(frame[field].str.len() > limit, f"{label} is longer than {limit} characters")


def resolve_owners(owner: pd.Series, owners: Mapping[str, str]) -> pd.Series:
    return map_distinct(owner, lambda text: owners.get(text.lower(), ""))


def _duplicated(key: pd.Series, number: pd.Series, number_hashes: np.ndarray) -> np.ndarray:
    """Rows whose (customer, invoice number) pair occurs more than once. Invoice numbers rarely
    repeat within a file, so the rows that could be copies are found from the hashes of the
    numbers (one sort of integers: equal numbers have equal hashes), and only those rows are
    compared exactly, by customer and number."""
    ordered = np.sort(number_hashes)
    repeated_hashes = ordered[1:][ordered[1:] == ordered[:-1]]
    rows = np.flatnonzero(np.isin(number_hashes, repeated_hashes) & (number != "").to_numpy(dtype=bool))
    duplicated = np.zeros(len(number), dtype=bool)
    if rows.size:
        indices = pa.array(rows)
        numbers = _codes(arrow_strings(number).take(indices))
        customers = _codes(arrow_strings(key).take(indices))
        pairs = numbers * (int(customers.max()) + 1) + customers  # < 1e6 * 1e6: fits int64
        _distinct, inverse, counts = np.unique(pairs, return_inverse=True, return_counts=True)
        duplicated[rows] = counts[inverse] > 1
    return duplicated


def _codes(values: pa.Array) -> np.ndarray:
    """Dense int64 codes, equal for equal strings."""
    return np.asarray(pc.dictionary_encode(values).indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def _duplicate_reasons(frame: pd.DataFrame, key: pd.Series, lines: np.ndarray, rows: np.ndarray) -> list[str]:
    """ "invoice 5001 for Acme is listed more than once (also row 12)" for each copy."""
    groups: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        groups.setdefault((str(key.iat[row]), str(frame["number"].iat[row])), []).append(int(lines[row]))
    reasons = []
    for row in rows:
        customer, number = str(key.iat[row]), str(frame["number"].iat[row])
        others = ", ".join(str(line) for line in groups[customer, number] if line != lines[row])
        reasons.append(f"invoice {number} for {customer} is listed more than once (also row {others})")
    return reasons


def _collect(
    found: list[tuple[np.ndarray, np.ndarray]], lines: np.ndarray | None, index: pd.Index, table: RawTable
) -> tuple[list[tuple[int, str]], np.ndarray]:
    """(line, "reason; reason") per refused row in file order, and the refused records."""
    if lines is None:
        return [], np.empty(0, dtype=np.int64)
    parts = [
        pd.DataFrame({"line": lines[rows], "record": index.to_numpy()[rows], "reason": reason})
        for rows, reason in found
    ]
    if table.shape_problems:
        records = np.asarray([record for record, _reason in table.shape_problems])
        parts.append(
            pd.DataFrame(
                {
                    "line": table.line_numbers()[records],
                    "record": records,
                    "reason": [reason for _record, reason in table.shape_problems],
                }
            )
        )
    if not parts:
        return [], np.empty(0, dtype=np.int64)
    every = pd.concat(parts, ignore_index=True)
    joined = every.groupby("line", sort=True)["reason"].agg("; ".join)
    pairs = zip(joined.index.to_numpy(dtype=np.int64), joined.to_numpy(dtype=object), strict=True)
    return [(int(line), str(reason)) for line, reason in pairs], every["record"].unique()


def format_problems(problems: list[tuple[int, str]], limit: int = MAX_LISTED) -> list[str]:
    """ "row N: reason" for the first ``limit`` rows, then "and N more rows"."""
    shown = [f"row {line}: {reason}" for line, reason in problems[:limit]]
    if len(problems) > limit:
        shown.append(f"and {len(problems) - limit} more rows")
    return shown
