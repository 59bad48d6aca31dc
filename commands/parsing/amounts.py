"""Reading and showing money: ``1,200``, ``1200.50``, ``$1.2k``, ``2k``, ``1.5m``, ``USD 300``.

Amounts are Decimal from the first character read; nothing passes through float. Anything a
reader could take two ways (``1.200,50``, ``1,20``) is refused with both readings spelled out,
because a wrong amount on a promise is worse than asking again."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from commands.parsing.text import Token, quote
from commands.refusal import Refusal

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1e10")
# Codes a collector might type next to an amount. "$" alone asserts no currency: it is also
# how Canadian and Australian dollars are written.
CURRENCY_CODES = frozenset({"USD", "CAD", "AUD", "NZD", "EUR", "GBP", "CHF", "MXN"})
_SYMBOLS = {"US$": "USD", "$": None, "€": "EUR", "£": "GBP"}
_SUFFIX_DIGITS = {"": 0, "k": 3, "m": 6}
_SHAPE = re.compile(r"(?P<body>[\d.,]*\d[\d.,]*)(?P<suffix>[km]?)", re.IGNORECASE | re.ASCII)
_GROUPED = re.compile(r"\d{1,3}(,\d{3})+", re.ASCII)


@dataclass(frozen=True)
class Amount:
    value: Decimal
    currency: str | None = None  # only when the user wrote a currency code or symbol


def parse_amount(text: str) -> Amount | Refusal:
    """An amount, or a refusal saying what was read and how to write it."""
    read = read_amount(text)
    if read is None:
        return Refusal(f"I couldn't read {quote(text)} as an amount; write it like 1200, 1,200.50 or $1.2k")
    return read


def read_amount(text: str) -> Amount | Refusal | None:
    """None when ``text`` does not look like an amount at all (so a caller can try the word as
    part of a name); a refusal when it looks like one but cannot be taken as written."""
    rest, currency = _split_currency(text.strip())
    negative = rest.startswith(("-", "\u2212")) or (rest.startswith("(") and rest.endswith(")"))
    rest = rest.strip("()").lstrip("-\u2212+").strip()
    match = _SHAPE.fullmatch(rest)
    if match is None:
        return None
    number = _read_number(match["body"], text)
    if isinstance(number, Refusal):
        return number
    scale = _SUFFIX_DIGITS[match["suffix"].lower()]
    checked = _check(number, scale, text, negative)
    return checked if isinstance(checked, Refusal) else Amount(checked, currency)


def _split_currency(text: str) -> tuple[str, str | None]:
    """Take off a currency code (``USD 300``, ``300usd``) or symbol (``$300``, ``300 €``)."""
    upper = text.upper()
    for code in CURRENCY_CODES:
        if upper.startswith(code):
            return text[len(code) :].strip(), code
        if upper.endswith(code):
            return text[: -len(code)].strip(), code
    for symbol, symbol_code in _SYMBOLS.items():
        if text.lstrip("-\u2212(").startswith(symbol):  # "$5", "-$5", "($5)"
            return text.replace(symbol, "", 1).strip(), symbol_code
        if text.endswith(symbol):
            return text[: -len(symbol)].strip(), symbol_code
    return text, None


def _read_number(body: str, original: str) -> Decimal | Refusal:
    """Digits with thousands commas and one decimal point, the way US invoices print them."""
    if "," in body:
        whole, dot, fraction = body.partition(".")
        if "," in fraction or not _GROUPED.fullmatch(whole):
            return Refusal(
                f"I can't tell how to read {quote(original)}: I take ',' as a thousands separator and "
                "'.' as the decimal point; write it like 1,200.50 or 1200.50"
            )
        body = whole.replace(",", "") + dot + fraction
    if body.count(".") > 1:
        return Refusal(f"{quote(original)} has more than one decimal point; write it like 1200.50")
    return Decimal(body)


def _check(number: Decimal, scale: int, original: str, negative: bool) -> Decimal | Refusal:
    """Positive, whole cents and believable, read after the k/m suffix is applied."""
    fraction_digits = max(0, -int(number.as_tuple().exponent))
    if fraction_digits > 2 + scale:
        if fraction_digits == 3 and scale == 0:
            thousands = format_money(number.scaleb(3))
            return Refusal(
                f"{quote(original)} has three decimals and amounts are whole cents; "
                f"if you meant {thousands}, write it without the point or with a comma"
            )
        return Refusal(f"{quote(original)} has fractions of a cent; amounts are whole cents, like 1200.50")
    if number.adjusted() + scale >= 11:
        return Refusal(f"{quote(original)} is more than {format_money(MAX_AMOUNT)}; please check the amount")
    value = number.scaleb(scale).quantize(CENT)
    if negative:
        return Refusal(f"amounts must be positive; I read {quote(original)} as {format_money(-value)}")
    if value == 0:
        return Refusal(f"amounts must be more than zero; I read {quote(original)} as {format_money(value)}")
    if value > MAX_AMOUNT:
        return Refusal(f"{quote(original)} is more than {format_money(MAX_AMOUNT)}; please check the amount")
    return value


def format_money(amount: Decimal, currency: str = "USD") -> str:
    """``$1,234.56`` for dollars, ``1,234.56 EUR`` otherwise; always two decimals."""
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount).quantize(CENT):,.2f}"
    return f"{sign}${digits}" if currency == "USD" else f"{sign}{digits} {currency}"


_CURRENCY_WORDS = CURRENCY_CODES | {"$", "US$", "€", "£"}


def amount_widths(tokens: list[Token], i: int) -> tuple[int, ...]:
    """How many words the amount starting at ``tokens[i]`` may take, longest first: ``USD 300``
    and ``300 USD`` are one amount in two words; anything else is one word; a quoted word is a
    name, never an amount."""
    if tokens[i].quoted:
        return ()
    pair = tokens[i : i + 2]
    if len(pair) == 2 and not pair[1].quoted and any(t.text.upper() in _CURRENCY_WORDS for t in pair):
        return (2, 1)
    return (1,)
