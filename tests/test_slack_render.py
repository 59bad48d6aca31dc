"""Block Kit from neutral replies: text from data cannot ping or format, long lists split under
Slack's limits (50 blocks a message, 3,000 characters a section, 2,000 a field), every block
passes slack_sdk's own checks, and buttons carry the core's action back intact."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.slack.render import (
    MAX_BLOCKS,
    SECTION_CHARS,
    decode_button,
    encode_button,
    escape,
    from_lookalikes,
    render,
    render_one,
    split_text,
)
from commands.messages import Button, ButtonStyle, Field, Reply, Row, Tone

NASTY = "<!channel> <@U0ALEX> *Bold* _it_ ~gone~ `code` & Sons"


def texts(blocks: list[dict]) -> list[str]:
    """Every piece of text a reader sees in these blocks."""
    out = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            out.append(block["text"]["text"])
        out += [f["text"] for f in block.get("fields") or []]
        if block["type"] == "context":
            out += [e["text"] for e in block["elements"]]
    return out


def call_list(n: int) -> Reply:
    rows = tuple(
        Row(
            title=f"Customer {i} (C{i:03d})",
            detail="over 60 days; final invoice",
            fields=(Field("Balance", f"${i},000.00"),),
            buttons=(
                Button("Log call", "log_call", {"customer": f"C{i:03d}"}, ButtonStyle.PRIMARY),
                Button("Promise", "promise", {"customer": f"C{i:03d}"}),
                Button("Paid", "paid", {"customer": f"C{i:03d}"}),
            ),
        )
        for i in range(1, n + 1)
    )
    return Reply(
        title=f"Your call list ({n} accounts)",
        text="Most important first.",
        rows=rows,
        buttons=(Button("Refresh", "list.refresh"),),
    )


def test_text_from_data_cannot_ping_or_format() -> None:
    escaped = escape(NASTY)
    assert "<" not in escaped and ">" not in escaped
    assert not set("*_~`") & set(escaped)
    assert escaped.startswith("&lt;!channel&gt; &lt;@U0ALEX&gt; ")
    assert "&amp; Sons" in escaped
    assert from_lookalikes(escaped).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == NASTY


def test_every_part_of_a_reply_is_escaped_but_its_own_markup_is_kept() -> None:
    reply = Reply(
        title=NASTY,
        text=NASTY,
        tone=Tone.WARNING,
        fields=(Field(NASTY, NASTY),),
        rows=(Row(title=NASTY, detail=NASTY, fields=(Field(NASTY, NASTY),)),),
    )
    [message] = render(reply)
    seen = texts(message.blocks) + [message.text]
    for text in seen:
        assert "<!channel>" not in text and "<@U0ALEX>" not in text
    title = message.blocks[0]["text"]["text"]
    assert title.startswith(":warning: *&lt;!channel&gt;") and title.endswith("Sons*")


def test_a_long_list_is_split_into_messages_under_the_block_limit() -> None:
    messages = render(call_list(75))
    assert len(messages) == 4
    assert all(len(m.blocks) <= MAX_BLOCKS for m in messages)
    every = [b for m in messages for b in m.blocks]
    customers = [
        json.loads(e["value"])["v"]["customer"]
        for b in every
        if b["type"] == "actions"
        for e in b["elements"]
        if json.loads(e["value"])["a"] == "log_call"
    ]
    assert customers == [f"C{i:03d}" for i in range(1, 76)], "every line once, in order"
    # The reply's own button stays on the first message, the one that is tracked and updated.
    first_actions = [e["text"]["text"] for b in messages[0].blocks if b["type"] == "actions" for e in b["elements"]]
    assert first_actions[-1] == "Refresh"
    assert all(m.blocks[0]["type"] == "context" for m in messages[1:])
    assert [m.text for m in messages] == [f"Your call list (75 accounts) ({i}/4)" for i in range(1, 5)]
    for message in messages:
        ids = [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
        assert len(ids) == len(set(ids)), "action ids are unique within a message"
        for block in message.blocks:
            assert Block.parse(block).to_dict() == block  # slack_sdk's validation passes


def test_an_update_fits_one_message_and_says_what_it_left_out() -> None:
    message = render_one(call_list(75))
    assert len(message.blocks) <= MAX_BLOCKS
    shown = sum(
        1 for b in message.blocks if b["type"] == "actions" and json.loads(b["elements"][0]["value"])["a"] == "log_call"
    )
    assert message.blocks[-1]["type"] == "context"
    assert message.blocks[-1]["elements"][0]["text"] == f"{75 - shown} more lines not shown here."
    assert shown >= 20


def test_long_text_is_cut_into_sections_without_breaking_an_entity() -> None:
    text = ("Smith & Sons <ltd> " * 400 + "\n") * 3
    pieces = split_text(text)
    assert all(len(p) <= SECTION_CHARS for p in pieces)
    joined = "".join(pieces).replace("\n", "")
    assert joined == escape(text.strip()).replace("\n", "")
    for piece in pieces:
        assert not piece.rstrip().endswith(("&", "&a", "&am", "&amp", "&l", "&lt", "&g", "&gt"))
    [message, *more] = render(Reply(title="Notes", text=text))
    assert not more and all(len(t) <= SECTION_CHARS for t in texts(message.blocks))


def test_a_field_longer_than_slack_allows_is_shortened() -> None:
    [message] = render(Reply(title="Note", fields=(Field("Note", "x" * 5000),)))
    [field] = message.blocks[1]["fields"]
    assert len(field["text"]) == 2000 and field["text"].endswith("…")


def test_buttons_carry_the_action_and_its_value_back() -> None:
    button = Button("Partial", "confirmation.partial", {"id": 7, "needs": "amount"})
    data = decode_button(encode_button(button, "Payment to confirm: Acme"))
    assert data is not None
    assert (data.action, data.value, data.label) == (
        "confirmation.partial",
        {"id": 7, "needs": "amount"},
        "Payment to confirm: Acme",
    )
    for forged in ("", "not json", "[1,2]", '{"a": 5}', '{"a": "x", "v": []}'):
        assert decode_button(forged) is None
    with pytest.raises(ValueError):
        encode_button(Button("Big", "x", {"blob": "y" * 2100}), "label")


_words = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)
_buttons = st.lists(
    st.builds(
        Button,
        label=st.text(max_size=90),
        action=st.sampled_from(["log_call", "paid", "approval.approve"]),
        value=st.fixed_dictionaries({"customer": st.text(max_size=40)}),
        style=st.sampled_from(list(ButtonStyle)),
    ),
    max_size=4,
)
_replies = st.builds(
    Reply,
    title=_words,
    text=st.text(max_size=7000),
    tone=st.sampled_from(list(Tone)),
    fields=st.lists(st.builds(Field, label=st.text(max_size=60), value=_words), max_size=12).map(tuple),
    rows=st.lists(st.builds(Row, title=_words, detail=_words, buttons=_buttons.map(tuple)), max_size=60).map(tuple),
    buttons=_buttons.map(tuple),
)


@settings(max_examples=60, deadline=None)
@given(_replies)
def test_every_block_drawn_is_what_slack_sdk_builds_and_passes_its_checks(reply: Reply) -> None:
    """The blocks are written as plain dicts; read back into slack_sdk's models and written out
    again (which checks Slack's limits on every text, field and button) they are unchanged."""
    for message in [*render(reply), render_one(reply)]:
        assert len(message.blocks) <= MAX_BLOCKS
        for block in message.blocks:
            assert Block.parse(block).to_dict() == block
