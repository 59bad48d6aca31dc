"""Replies as Adaptive Cards 1.5: what a Teams user sees, what a click sends back, and why a
customer name full of markdown stays plain text."""

from __future__ import annotations

from bot.teams.cards import CARD_VERSION, DATA_KEY, REFRESH_VERB, escape, read_action, render
from commands.messages import Button, ButtonStyle, Field, Reply, Row, Tone


def _blocks(card: dict, kind: str) -> list[dict]:
    found = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == kind:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def test_markdown_in_ledger_text_is_escaped() -> None:
    assert (
        escape("*Acme* [click](http://evil) <at>all</at> _x_ `y` ~z~")
        == r"\*Acme\* \[click\](http://evil) \<at\>all\</at\> \_x\_ \`y\` \~z\~"
    )
    assert escape("- not a list\n1. nor this\n$1,234.56 -5") == "\\- not a list\n1\\. nor this\n$1,234.56 -5"
    assert escape("bell\x07 and\ttab") == "bell and\ttab"


def test_a_reply_becomes_title_text_facts_and_rows() -> None:
    reply = Reply(
        title="Acme *Dental*",
        text="Line one\n\nLine two",
        tone=Tone.WARNING,
        fields=(Field("Balance", "$3,350.10"),),
        rows=(Row(title="INV-1", detail="53 days", fields=(Field("Open", "$1,000.00"),)),),
    )
    card = render(reply)
    assert (card["type"], card["version"]) == ("AdaptiveCard", CARD_VERSION) == ("AdaptiveCard", "1.5")
    title, *texts = _blocks(card, "TextBlock")
    assert (title["text"], title["color"], title["weight"]) == (r"Acme \*Dental\*", "Warning", "Bolder")
    assert [t["text"] for t in texts] == ["Line one", "Line two", "INV-1", "53 days"]
    facts = [f for block in _blocks(card, "FactSet") for f in block["facts"]]
    assert facts == [{"title": "Balance", "value": "$3,350.10"}, {"title": "Open", "value": "$1,000.00"}]
    assert "actions" not in card and "refresh" not in card


def test_buttons_are_universal_actions_with_a_submit_fallback_and_a_refresh() -> None:
    reply = Reply(
        title="Approval needed",
        buttons=(
            Button("Approve", "approval.approve", {"id": 7}, ButtonStyle.PRIMARY),
            Button("Reject", "approval.reject", {"id": 7, "needs": "reason"}, ButtonStyle.DANGER),
        ),
    )
    card = render(reply)
    approve, reject = card["actions"]
    assert (approve["type"], approve["verb"], approve["style"]) == ("Action.Execute", "approval.approve", "positive")
    assert approve["data"] == {DATA_KEY: {"action": "approval.approve", "value": {"id": 7}}}
    assert approve["fallback"] == {"type": "Action.Submit", "title": "Approve", "data": approve["data"]}
    assert reject["style"] == "destructive" and reject["data"][DATA_KEY]["input"] == "reason_1"
    [reason] = _blocks(card, "Input.Text")
    assert (reason["id"], reason["label"]) == ("reason_1", "Reason (for Reject)")
    assert card["refresh"]["action"] == {
        "type": "Action.Execute",
        "verb": REFRESH_VERB,
        "title": "Refresh",
        "data": {DATA_KEY: {"action": REFRESH_VERB}},
    }


def test_every_row_button_needing_a_value_gets_its_own_input() -> None:
    rows = tuple(
        Row(
            title=f"Payment {n}",
            buttons=(
                Button("Confirm", "confirmation.confirm", {"id": n}),
                Button("Partial", "confirmation.partial", {"id": n, "needs": "amount"}),
            ),
        )
        for n in (1, 2)
    )
    card = render(Reply(title="Payments", rows=rows))
    assert [i["id"] for i in _blocks(card, "Input.Text")] == ["amount_1", "amount_2"]
    partials = [a for a in _blocks(card, "Action.Execute") if a["verb"] == "confirmation.partial"]
    assert [a["data"][DATA_KEY]["input"] for a in partials] == ["amount_1", "amount_2"]


def test_a_click_reads_back_its_own_typed_value_only() -> None:
    card = render(
        Reply(
            title="Two forms",
            buttons=(
                Button("Partial", "confirmation.partial", {"id": 3, "needs": "amount"}),
                Button("Reject", "approval.reject", {"id": 9, "needs": "reason"}),
            ),
        )
    )
    partial, reject = card["actions"]
    # A card sends every input with every click.
    submitted = {**partial["data"], "amount_1": " 500 ", "reason_2": "not this one"}
    assert read_action(submitted) == ("confirmation.partial", {"id": 3, "needs": "amount", "amount": "500"})
    assert read_action({**reject["data"], "amount_1": "", "reason_2": ""}) == (
        "approval.reject",
        {"id": 9, "needs": "reason"},
    )
    assert read_action({"msteams": {"type": "imBack"}}) is None
    assert read_action({DATA_KEY: {"value": {}}}) is None


def test_a_chart_is_shown_inside_the_card_and_a_workbook_is_named() -> None:
    """The weekly digest's chart (32 colours, about 11 KB) travels inside the card, within one
    Teams message; a workbook cannot: outside a personal chat the card says where to get it
    instead of dropping it silently (in one, it follows as a download: test_teams_files)."""
    import base64
    from datetime import date, timedelta
    from decimal import Decimal

    from bot.teams.cards import MAX_ACTIVITY_BYTES, activity_bytes, render_pages
    from commands.kpi.chart import BUCKETS, Week, aging_chart_png
    from commands.messages import Attachment

    weeks = [
        Week(
            date(2026, 9, 6) + timedelta(weeks=n),
            {label: Decimal(100_000 * (i + 1) + 5_000 * n) for i, (label, _, _) in enumerate(BUCKETS)},
        )
        for n in range(12)
    ]
    png = aging_chart_png(weeks, ceiling=Decimal(2_000_000))
    chart = Attachment(name="aging.png", mime="image/png", data=png, title="Receivables by age")
    book = Attachment(name="weekly.xlsx", mime="application/vnd.ms-excel", data=b"PK" * 10, title="Weekly report")
    reply = Reply(
        title="Weekly digest", text="Last week's figures.", fields=(Field("DSO", "36.1 days"),), files=(chart, book)
    )
    [card] = render_pages(reply)
    [image] = _blocks(card, "Image")
    assert image["url"] == "data:image/png;base64," + base64.b64encode(png).decode()
    assert image["altText"] == "Receivables by age"
    assert any(
        "weekly.xlsx" in b["text"] and "only in a personal chat with arbot" in b["text"]
        for b in _blocks(card, "TextBlock")
    )
    assert activity_bytes(card) < MAX_ACTIVITY_BYTES
