"""Exact money from export text, a column at a time: "$1,234.56", "(1,234.56)", "-1,234.56", "1234.5".

Amounts become integer cents (the database's own unit, see storage.types) through string and
integer arithmetic only; no value ever passes through a float, so "0.10" is ten cents exactly and
"1.005" is refused as sub-cent rather than rounded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from storage.aging.arrow_text import arrow_chunks, stripped

# At most 13 integer digits: ten trillion in any currency is a typo, and 15 digits of cents
# always fit an int64.
_PLAIN = r"-?\d{1,13}(?:\.\d{1,2})?"
_GROUPED = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"


@dataclass(frozen=True)
class MoneyColumn:
    """``cents`` is valid where ``reason`` is empty and ``blank`` is false. A reason reads after
    the column's name: "'1,23.4' is not an amount"."""

    cents: np.ndarray
    blank: np.ndarray
    reason: pd.Series


def parse_money(values: pd.Series) -> MoneyColumn:
    """Parse a column of money text. The common plain spelling ("-1234.56") takes a fast path; only
    the other rows go through the slower normalisation of $, thousands separators and parentheses."""
    text = stripped(values.astype("str"))
    plain = text.str.fullmatch(_PLAIN).to_numpy(dtype=bool)
    reason = pd.Series("", index=values.index, dtype="str")
    if plain.all():
        return MoneyColumn(cents=_to_cents(text), blank=np.zeros(len(text), dtype=bool), reason=reason)
    blank = (text == "").to_numpy()
    normal = text.where(plain, "")
    rest = ~plain & ~blank
    if rest.any():
        fixed, why = _normalise(text[rest])
        normal.loc[fixed.index] = fixed
        reason.loc[why.index] = why
    ok = ~blank & (reason == "").to_numpy()
    cents = np.zeros(len(values), dtype=np.int64)
    if ok.any():
        cents[ok] = _to_cents(normal[ok])
    return MoneyColumn(cents=cents, blank=blank, reason=reason)


def _normalise(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Spellings other than plain: strip currency signs and spaces, read (x) and trailing minus as
    negative, check thousands grouping, then the plain pattern must hold."""
    raw = text
    body = text.str.replace(r"[\s$€£]|USD|EUR|GBP|CAD", "", regex=True)
    parens = body.str.fullmatch(r"\(.*\)")
    body = body.where(~parens, body.str.slice(1, -1))
    trailing = body.str.endswith("-")
    body = body.where(~trailing, "-" + body.str.slice(0, -1))
    negative = parens | body.str.startswith("-")
    digits = body.str.lstrip("-")
    grouped = digits.str.fullmatch(_GROUPED)
    digits = digits.str.replace(",", "", regex=False)
    digits = digits.where(~digits.str.startswith("."), "0" + digits)
    fixed = digits.where(~negative, "-" + digits)
    valid = grouped & ~(parens & body.str.startswith("-")) & fixed.str.fullmatch(_PLAIN)
    sub_cent = grouped & fixed.str.fullmatch(r"-?\d+\.\d{3,}")
    reason = pd.Series("", index=text.index, dtype="str")
    reason[~valid] = "'" + raw[~valid] + "' is not an amount"
    reason[sub_cent] = "'" + raw[sub_cent] + "' has fractions of a cent"
    return fixed.where(valid, ""), reason


def _to_cents(plain: pd.Series) -> np.ndarray:
    """Plain "-?digits[.d[d]]" text to int64 cents in one Arrow cast: read as a decimal of scale 2
    (at most 15 digits, exact), each value's unscaled integer *is* its cents, and it sits in the
    low 64 bits of the 128-bit decimal (little-endian, as on every platform arbot runs on), so
    the cents are every other word of the cast's buffer, with no string rewriting per row."""
    parts = [np.zeros(0, dtype=np.int64)]
    for chunk in arrow_chunks(plain):
        decimals = pc.cast(chunk, pa.decimal128(15, 2))
        if len(decimals):
            words = np.frombuffer(decimals.buffers()[1], dtype=np.int64)
            parts.append(words[2 * decimals.offset :: 2][: len(decimals)])
    return np.concatenate(parts)
