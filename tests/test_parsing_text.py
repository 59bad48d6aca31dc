"""Splitting chat text into words and quoted names, cleaning it, and notes."""

from __future__ import annotations

from commands.parsing.notes import read_note
from commands.parsing.text import clean_text, name_ends, quote, remainder, tokenize
from commands.refusal import Refusal


def test_quoted_names_are_one_word_and_positions_point_into_the_text() -> None:
    text = 'promise "Summit Ortho, P.C." 1,200  fri   wire *today*'
    tokens = tokenize(text)
    assert [t.text for t in tokens] == ["promise", "Summit Ortho, P.C.", "1,200", "fri", "wire", "*today*"]
    assert [t.quoted for t in tokens][:3] == [False, True, False]
    assert remainder(text, tokens, 4) == "wire *today*"
    assert remainder(text, tokens, 6) == ""


def test_curly_quotes_work_and_an_unclosed_quote_is_an_ordinary_character() -> None:
    assert [t.text for t in tokenize("status \u201cAcme Dental\u201d")] == ["status", "Acme Dental"]
    assert [t.text for t in tokenize('note said "maybe')] == ["note", "said", '"maybe']
    assert [t.text for t in tokenize('a "" b')] == ["a", '""', "b"]


def test_control_characters_and_bidi_overrides_are_dropped_but_markup_is_kept() -> None:
    assert clean_text("a\x00b\x1b[2Jc\u202ed\r\ne\tf") == "ab[2Jcd\ne\tf"
    assert clean_text("<!channel> *bold* _it_ `code`") == "<!channel> *bold* _it_ `code`"


def test_notes_are_plain_text_up_to_two_thousand_characters() -> None:
    assert read_note("  <!channel> *bold*\x07 ") == "<!channel> *bold*"
    assert read_note("   ") is None
    assert read_note("x" * 2000) == "x" * 2000
    refusal = read_note("x" * 40_000)
    assert isinstance(refusal, Refusal)
    assert refusal.message.startswith("notes can be at most 2,000 characters and yours has 40,000")


def test_long_input_is_echoed_shortened() -> None:
    assert quote("a   b") == "'a b'"
    assert quote("y" * 500) == "'" + "y" * 59 + "…'"


def test_name_splits_stop_at_the_longest_possible_name() -> None:
    tokens = tokenize("a bb ccc dddd")
    assert list(name_ends(tokens, 4)) == [1, 2]
    assert list(name_ends(tokens, 100)) == [1, 2, 3]
    assert list(name_ends(tokenize("x" * 300 + " 5 fri"), 200)) == []
