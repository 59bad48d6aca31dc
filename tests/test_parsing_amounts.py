"""Amounts as collectors type them: read exactly as Decimal, or refused with what was read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from commands.parsing.amounts import Amount, format_money, parse_amount, read_amount
from commands.refusal import Refusal


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("1200", "1200.00", None),
        ("1,200", "1200.00", None),
        ("1200.50", "1200.50", None),
        ("1,200.5", "1200.50", None),
        ("1,234,567.89", "1234567.89", None),
        ("$1,200", "1200.00", None),
        ("$1.2k", "1200.00", None),
        ("2k", "2000.00", None),
        ("2K", "2000.00", None),
        ("1.5m", "1500000.00", None),
        ("1.23456k", "1234.56", None),
        ("USD 300", "300.00", "USD"),
        ("300 usd", "300.00", "USD"),
        ("usd300", "300.00", "USD"),
        ("US$40", "40.00", "USD"),
        ("€20", "20.00", "EUR"),
        ("EUR 19.99", "19.99", "EUR"),
        (".5", "0.50", None),
        ("0.01", "0.01", None),
        ("10000000000", "10000000000.00", None),
    ],
)
def test_amounts_read_as_exact_decimals(text: str, value: str, currency: str | None) -> None:
    amount = parse_amount(text)
    assert amount == Amount(Decimal(value), currency)
    assert isinstance(amount.value, Decimal) and amount.value.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("-5", "amounts must be positive; I read '-5' as -$5.00"),
        ("(1,200)", "amounts must be positive; I read '(1,200)' as -$1,200.00"),
        ("-$5", "must be positive"),
        ("0", "amounts must be more than zero"),
        ("$0.00", "amounts must be more than zero"),
        ("1.005", "'1.005' has three decimals and amounts are whole cents; if you meant $1,005.00"),
        ("1.200", "if you meant $1,200.00, write it without the point or with a comma"),
        ("12.3456", "fractions of a cent"),
        ("1.234567k", "fractions of a cent"),
        ("1.200,50", "I can't tell how to read '1.200,50'"),
        ("1,20", "I can't tell how to read '1,20'"),
        ("12,00,000", "I can't tell how to read"),
        ("1.2.3", "more than one decimal point"),
        ("10000000000.01", "is more than $10,000,000,000.00"),
        ("20000m", "is more than $10,000,000,000.00"),
        ("9" * 5000, "is more than $10,000,000,000.00"),
    ],
)
def test_unusable_amounts_are_refused_with_what_was_read(text: str, says: str) -> None:
    refusal = parse_amount(text)
    assert isinstance(refusal, Refusal)
    assert says in refusal.message


@pytest.mark.parametrize("text", ["acme", "fri", "12/1", "2026-12-01", "k", "$", "USD", "1e5", "in", ""])
def test_words_that_are_not_amounts_are_not_read_as_one(text: str) -> None:
    assert read_amount(text) is None
    assert isinstance(parse_amount(text), Refusal)


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("1234.5", "USD", "$1,234.50"),
        ("-250", "USD", "-$250.00"),
        ("0", "USD", "$0.00"),
        ("900", "EUR", "900.00 EUR"),
    ],
)
def test_money_is_shown_with_two_decimals_and_its_currency(amount: str, currency: str, shown: str) -> None:
    assert format_money(Decimal(amount), currency) == shown
