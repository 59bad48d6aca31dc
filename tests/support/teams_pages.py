"""A demo team for the Teams paging tests, and the check that a list shows every account once."""

from __future__ import annotations

import re
from typing import Any

from commands.context import AppContext
from demo import load_demo

DANA = "dana.reyes@example.com"


_RANKED = re.compile(r"^(\d+)\\\. (.*)$", re.DOTALL)


def rows_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [block for block in card["body"] if block["type"] == "Container"]


def ranked(card: dict[str, Any]) -> list[tuple[int, str]]:
    """(rank, title as drawn) of each row on a page."""
    found = []
    for row in rows_of(card):
        match = _RANKED.match(row["items"][0]["text"])
        assert match, row["items"][0]["text"]
        found.append((int(match[1]), match[2]))
    return found


def verbs(container: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    [actions] = [item for item in container["items"] if item["type"] == "ActionSet"]
    return [(a["verb"], a["data"]["arbot"]["value"]) for a in actions["actions"]]


def demo_team(ctx: AppContext) -> AppContext:
    """The example team known to Teams, with 500 demo customers: 75 of them on Dana's list."""
    from tests.support.teams import teams_ctx

    base = teams_ctx(ctx)
    with base.sessions.begin() as session:
        load_demo(session, base, customers=500)
    return base


def every_account_once(cards: list[dict[str, Any]]) -> None:
    """Ranks 1 to 75 across the pages, in order, each a different account (its buttons name it)."""
    drawn = [entry for card in cards for entry in ranked(card)]
    assert [rank for rank, _ in drawn] == list(range(1, 76))
    customers = [verbs(row)[0][1]["customer"] for card in cards for row in rows_of(card)]
    assert len(set(customers)) == 75 and len({title for _, title in drawn}) == 75
    assert [card["body"][0]["text"].rsplit(" (", 1)[1] for card in cards] == [
        f"{n} of {len(cards)})" for n in range(1, len(cards) + 1)
    ]
