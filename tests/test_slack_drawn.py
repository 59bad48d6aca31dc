"""A reply equal to one drawn lately is answered with the same messages (bot.slack.drawn); any
difference, however small, is drawn afresh."""

from __future__ import annotations

from dataclasses import replace

from bot.slack.drawn import DrawnReplies
from bot.slack.render import render
from commands.messages import Button, Field, Reply, Row


def _list(balance: str = "$1,000.00") -> Reply:
    rows = tuple(
        Row(
            title=f"Customer {n} (C{n})",
            detail="past due",
            fields=(Field("Balance", balance),),
            buttons=(Button("Log call", "log_call", {"customer": f"C{n}"}),),
        )
        for n in range(60)
    )
    return Reply(title="Your call list for Monday 23 November (60 accounts)", rows=rows, private=True)


def test_an_equal_reply_is_not_drawn_again() -> None:
    drawn = DrawnReplies()
    first = drawn.render(_list())
    again = drawn.render(_list())  # another object, equal field by field
    assert again is first and (drawn.drawn, drawn.reused) == (1, 1)
    assert [m.blocks for m in first] == [m.blocks for m in render(_list())]


def test_a_reply_that_differs_anywhere_is_drawn_afresh() -> None:
    drawn = DrawnReplies()
    first = drawn.render(_list())
    moved = _list("$999.00")
    changed = drawn.render(moved)
    assert changed is not first and drawn.drawn == 2
    assert [m.blocks for m in changed] == [m.blocks for m in render(moved)]
    button = replace(moved.rows[5].buttons[0], value={"customer": "C999"})
    other = replace(moved, rows=(*moved.rows[:5], replace(moved.rows[5], buttons=(button,)), *moved.rows[6:]))
    assert drawn.render(other) is not changed and drawn.drawn == 3


def test_only_the_latest_replies_are_kept() -> None:
    drawn = DrawnReplies(kept=2)
    for n in range(5):
        drawn.render(Reply(title=f"reply {n}"))
    drawn.render(Reply(title="reply 0"))
    assert (drawn.drawn, drawn.reused) == (6, 0)
