"""The column-at-a-time helpers of the import: trimming, exact cents, duplicate pairs and the
content digest, on the spellings where a shortcut could go wrong."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from commands.import_file import _content_digest
from storage.aging.arrow_text import stripped
from storage.aging.checks import CheckedItems, _duplicated
from storage.aging.money import parse_money
from storage.aging.source import read_table

SPACES = [" ", "\t", "\r", "\x1f", "\xa0", "\u2003", "\u3000"]


@pytest.mark.parametrize("space", SPACES)
def test_stripped_trims_every_kind_of_space_at_either_end(space: str) -> None:
    column = pd.Series(["INV-1", f"{space}INV-2", f"INV-3{space}", "", "Ünïcode"], dtype="str")
    assert stripped(column).tolist() == ["INV-1", "INV-2", "INV-3", "", "Ünïcode"]


def test_stripped_keeps_inner_spaces_and_returns_a_clean_column_as_it_is() -> None:
    clean = pd.Series(["Acme Dental", "Beta Co", ""], dtype="str")
    assert stripped(clean) is clean
    accented = pd.Series(["Acme Dental", "Beta\u00a0Co", "", "é"], dtype="str")
    assert stripped(accented.iloc[1:]).tolist() == ["Beta\u00a0Co", "", "é"]


def test_cents_are_exact_for_every_plain_spelling() -> None:
    spellings = ["0", "-0", "007", "1.5", "-1.5", ".5", "0.10", "-0.01", "9999999999999.99", "-9999999999999.99"]
    parsed = parse_money(pd.Series(spellings, dtype="str"))
    assert parsed.cents.tolist() == [0, 0, 700, 150, -150, 50, 10, -1, 999999999999999, -999999999999999]
    assert parsed.reason.tolist() == [""] * len(spellings)


def test_cents_of_a_slice_start_at_the_slice() -> None:
    column = pd.Series(["1.00", "2.00", "3.01", "-4"], dtype="str")
    assert parse_money(column.iloc[2:]).cents.tolist() == [301, -400]


def test_a_number_repeated_for_other_customers_is_no_duplicate() -> None:
    key = pd.Series(["A", "B", "A", "C", "A", "B"], dtype="str")
    number = pd.Series(["1", "1", "2", "1", "1", ""], dtype="str")
    found = _duplicated(key, number, pd.util.hash_array(number.array, categorize=False))
    assert found.tolist() == [True, False, False, False, True, False]


def test_many_repeated_numbers_are_told_apart_by_customer() -> None:
    rng = np.random.default_rng(3)
    key = pd.Series(rng.integers(0, 3, 5_000).astype(str), dtype="str")
    number = pd.Series(rng.integers(0, 4_000, 5_000).astype(str), dtype="str")
    pairs = pd.DataFrame({"key": key, "number": number})
    expected = pairs.duplicated(keep=False).to_numpy()
    assert (_duplicated(key, number, pd.util.hash_array(number.array, categorize=False)) == expected).all()


def test_content_digest_is_pandas_hash_of_the_items() -> None:
    """Digests are kept in the audit trail and compared with later imports: the column-wise
    computation must give what hashing the whole frame gives."""
    items = pd.DataFrame(
        {
            "erp_id": pd.Series(["C1", "C2", "C2"], dtype="str"),
            "number": pd.Series(["1", "2", "2b"], dtype="str"),
            "due_date": np.array(["2026-11-01", "2026-12-01", "NaT"], dtype="datetime64[D]"),
            "open_balance": np.array([100, -5, 0], dtype=np.int64),
        }
    )
    fields = frozenset({"erp_id", "number", "due_date", "open_balance"})
    hashes = pd.util.hash_array(items["number"].array, categorize=False)
    by_frame = hashlib.sha256(np.sort(pd.util.hash_pandas_object(items, index=False).to_numpy()).tobytes())
    by_frame.update("\x1f".join(sorted(fields)).encode())
    by_frame.update(b"")
    for given in (hashes, None):
        checked = CheckedItems(items=items, problems=[], refused_customers=frozenset(), number_hashes=given)
        assert _content_digest(checked, fields) == by_frame.hexdigest()


@pytest.mark.parametrize("encoding", ["ascii", "utf-8", "cp1252"])
def test_text_reads_the_same_whatever_the_encoding(encoding: str) -> None:
    name = "Acme" if encoding == "ascii" else "Café Noël"
    text = f"Customer,Invoice No.,Due Date,Open Balance\n{name},1,2026-11-01,5.00\n"
    table = read_table(text.encode(encoding))
    assert table.cells.iloc[0].tolist() == [name, "1", "2026-11-01", "5.00"]
