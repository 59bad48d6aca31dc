"""Portable column types for money and instants.

Money is stored as an integer count of cents. SQLite has no exact decimal type (NUMERIC
columns hold binary floats there), so integer minor units are the only representation that
is exact on both SQLite and PostgreSQL; they also make the call-list aggregates integer sums.
Python code only ever sees ``Decimal``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> int:
    """Exact cents for a Decimal; refuses sub-cent amounts rather than rounding money silently."""
    quantized = amount.quantize(CENT, rounding=ROUND_HALF_EVEN)
    if quantized != amount:
        raise ValueError(f"amount {amount} has more than two decimal places")
    return int(quantized.scaleb(2))


def from_cents(cents: int) -> Decimal:
    return Decimal(int(cents)).scaleb(-2).quantize(CENT)


class Money(TypeDecorator[Decimal]):
    """Decimal in Python, BIGINT cents in the database."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = Decimal(value)
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be Decimal, got {type(value).__name__}")
        return to_cents(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_cents(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware instants, stored as UTC; SQLite gives them back aware too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("instants must be timezone-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value  # what the driver hands back for this column
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
