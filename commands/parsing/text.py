"""Cleaning chat text and splitting it into words, keeping quoted names whole.

Words remember where they sit in the original text, so a note can be taken verbatim from the
message (spacing and markup as typed) rather than re-joined from words."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Quote pairs people (and phones, which "smarten" quotes) type around names.
_QUOTES = {'"': '"', "\u201c": "\u201d", "\u201e": "\u201d", "\u00ab": "\u00bb"}
# Bidirectional overrides can make a stored note read differently from what was typed.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(text: str) -> str:
    """Drop control characters (keeping newlines and tabs), lone surrogates and bidi overrides.

    They cannot be shown safely, PostgreSQL refuses NUL in text, and nobody types them on
    purpose; everything else, markup included, is kept as typed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if _keep(ch))


def _keep(ch: str) -> bool:
    if ch in "\n\t":
        return True
    if ch in _BIDI:
        return False
    return unicodedata.category(ch) not in ("Cc", "Cs")


@dataclass(frozen=True)
class Token:
    """One word, or one quoted phrase without its quotes. ``start``/``end`` index the text."""

    text: str
    start: int
    end: int
    quoted: bool = False

    @property
    def lower(self) -> str:
        return self.text.lower()


def tokenize(text: str) -> list[Token]:
    """Whitespace-separated words; a quote at the start of a word runs to its closing quote.

    An unclosed quote is read as an ordinary character: refusing the whole message over a
    stray quote in a note would be unkind."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        closing = _QUOTES.get(text[i])
        end = text.find(closing, i + 1) if closing else -1
        if end > i + 1:
            tokens.append(Token(text[i + 1 : end].strip(), i, end + 1, quoted=True))
            i = end + 1
            continue
        j = i
        while j < n and not text[j].isspace():
            j += 1
        tokens.append(Token(text[i:j], i, j))
        i = j
    return tokens


def phrase(tokens: list[Token]) -> str:
    """The words as one phrase, single-spaced (how a customer name is looked up)."""
    return " ".join(t.text for t in tokens)


def remainder(text: str, tokens: list[Token], index: int) -> str:
    """The original text from token ``index`` on, verbatim (empty when there is none)."""
    if index >= len(tokens):
        return ""
    return text[tokens[index].start :].strip()


def quote(value: str, limit: int = 60) -> str:
    """A user's words echoed back in a message, shortened so a long paste stays readable."""
    value = " ".join(value.split())
    return f"'{value}'" if len(value) <= limit else f"'{value[: limit - 1]}…'"


def name_ends(tokens: list[Token], max_length: int) -> range:
    """Every ``i`` (at least 1, leaving a word after) where ``tokens[:i]`` could be a name of at
    most ``max_length`` characters. Bounding the split search keeps a pasted essay linear."""
    length = -1
    for k, token in enumerate(tokens):
        length += len(token.text) + 1
        if length > max_length:
            return range(1, min(k + 1, len(tokens)))
    return range(1, len(tokens))
