"""Neutral replies drawn as Adaptive Cards 1.5 (plain JSON; nothing here imports the SDK).

Buttons become ``Action.Execute`` (Universal Actions: the click is an ``adaptiveCard/action``
invoke whose response redraws the card in place), each with an ``Action.Submit`` fallback for
clients that predate Universal Actions. A button whose value ``needs`` an amount or a reason gets
an ``Input.Text`` right above it, and says which input is its own, because a card sends every
input with every click.

All text in a reply is plain. Teams renders a markdown subset in TextBlocks, so a customer called
``*Acme* [click](http://x)`` would turn into formatting and a link: every markdown character is
escaped.

A Teams message carries at most about 40 KB of JSON (:data:`MAX_ACTIVITY_BYTES`); a longer
reply, such as a full call list, is drawn by :func:`render_pages` as several cards.

Forms the core defines are drawn by :mod:`bot.teams.form_cards`.

A file that goes with a reply (commands.messages.Attachment) is shown in the card when it is a
picture small enough to travel inside the message (a chart, drawn in 32 colours, is about 11 KB):
an ``Image`` with a ``data:`` URI, since a bot's card cannot point at a file Teams would fetch
from the bot. Any other file (a workbook) is named with where to get it instead: a bot can only
hand a file over in Teams through the personal-chat file-consent exchange.

People a reply ``mentions`` are named on its first card as ``<at>Name</at>`` with a mention entity
in the card's ``msteams.entities``: that is what makes Teams notify them (a name typed in plain
text notifies nobody)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from commands.messages import Attachment, Button, ButtonStyle, Field, Reply, Row, Tone

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"
REFRESH_VERB = "arbot.refresh"
DATA_KEY = "arbot"  # action data lives under one key, away from the ids of inputs merged beside it

_MARKDOWN = re.compile(r"([\\`*_\[\]<>~])")
_BULLET = re.compile(r"^(\s*)([-+])(?=\s)", re.MULTILINE)  # "- x" would become a list
_NUMBERED = re.compile(r"^(\s*)(\d+)\.(?=\s)", re.MULTILINE)  # and so would "1. x"
_COLORS = {Tone.ERROR: "Attention", Tone.WARNING: "Warning", Tone.SUCCESS: "Good", Tone.INFO: "Default"}
_STYLES = {ButtonStyle.PRIMARY: "positive", ButtonStyle.DANGER: "destructive"}
_NEEDS_LABELS = {"amount": "Amount received", "reason": "Reason"}
_NOT_IN_A_NAME = re.compile(r"[\\`*_\[\]<>~]")  # would break the <at> tag or its match with the entity

# Teams answers 413 (MessageSizeTooBig) above this. The connector sends JSON with non-ASCII
# escaped, so these are bytes on the wire. Microsoft counts the payload as UTF-16: 40,000 bytes
# of JSON is 80 KB there, the size Microsoft recommends staying under (100 KB is refused); a
# tenant still on the older 40 KB-of-UTF-16 rule needs ``limit=20_000``.
MAX_ACTIVITY_BYTES = 40_000
# What the SDK adds around the card before sending (ids, serviceUrl, conversation, from,
# recipient, channelData, replyToId, the summary line): about 1.1 KB for a reply in a channel
# thread. Mentions travel inside the card and are measured with it.
ENVELOPE_HEADROOM = 4_000
MAX_INLINE_IMAGE_BYTES = 20_000  # a picture inside a card: 27 KB once base64-encoded, within one message
TITLE_CHARS = 300  # a paged title is repeated on every page; the text carries the rest
ELLIPSIS = "\u2026"
_PAGE_MARK = " (999 of 999)"  # the widest "(2 of 4)" a title can get, reserved while packing


def escape(text: str) -> str:
    """Plain text safe for a TextBlock: markdown characters are backslash-escaped, and control
    characters other than newlines and tabs are dropped."""
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())
    text = _MARKDOWN.sub(r"\\\1", text)
    return _NUMBERED.sub(r"\1\2\\.", _BULLET.sub(r"\1\\\2", text))


def render(reply: Reply, *, refreshable: bool = True, downloads: bool = False) -> dict[str, Any]:
    """The whole card for one reply. Cards with buttons carry a ``refresh`` action, so a client
    showing a stale copy asks the bot for the card as it stands. ``downloads``: files that cannot
    be shown in the card follow it as downloads to accept (personal chats only)."""
    inputs = _InputIds()
    body: list[dict[str, Any]] = [
        text_block(reply.title, weight="Bolder", size="Medium", color=_COLORS[reply.tone], style="heading")
    ]
    body += [text_block(paragraph) for paragraph in _paragraphs(reply.text)]
    if reply.fields:
        body.append(_facts(reply.fields))
    body += [_file(f, downloads) for f in reply.files]
    for row in reply.rows:
        body.append(_row(row, inputs))
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if reply.buttons:
        body += _needed_inputs(reply.buttons, inputs)
        card["actions"] = [_action(button, inputs) for button in reply.buttons]
    if refreshable and has_buttons(reply):
        card["refresh"] = _refresh()
    return card


def shown_inline(file: Attachment) -> bool:
    """A picture small enough to travel inside the card; any other file is a download."""
    return file.mime.startswith("image/") and len(file.data) <= MAX_INLINE_IMAGE_BYTES


def _file(file: Attachment, downloads: bool) -> dict[str, Any]:
    """A small picture inline; anything else named, with where to get it."""
    if shown_inline(file):
        uri = f"data:{file.mime};base64,{base64.b64encode(file.data).decode('ascii')}"
        return {"type": "Image", "url": uri, "altText": file.title or file.name, "size": "Stretch"}
    size = f"{max(1, round(len(file.data) / 1024))} KB"
    where = (
        "accept the download below to save it to your OneDrive"
        if downloads
        else "Teams delivers files only in a personal chat with arbot: ask me there"
    )
    return text_block(f"{file.title or file.name} ({file.name}, {size}): {where}.", is_subtle=True)


@dataclass(frozen=True)
class Mention:
    """Someone a message must notify: their name as shown, and the id Teams knows them by (a
    ``29:`` user id or their Azure AD object id); without an id they are only named."""

    name: str
    user_id: str | None = None


def render_pages(
    reply: Reply, *, limit: int = MAX_ACTIVITY_BYTES, mentions: Sequence[Mention] = (), downloads: bool = False
) -> list[dict[str, Any]]:
    """The reply as cards that Teams will take: exactly :func:`render` when that fits in one
    message of ``limit`` bytes, else several pages.

    The title, text, fields and the reply's own buttons go on the first page. That is the message
    the bot tracks (a decided card replaces it, a refresh redraws it, replies go in its thread),
    and a collector reads a list from the top: what it is first, then the accounts in rank order.
    Rows are numbered across pages ("1." ... "75.") and every title says which page it is
    ("Your call list for Mon 23 Nov 2026 (75 accounts) (2 of 4)"), so a page read on its own
    still says where it stands. Text too long for one message is cut with a visible "…": a
    shortened reason is better than a list that never arrives. ``mentions`` go on the first page,
    and the pages are packed smaller by what they take."""
    empty = render(Reply(title=""))
    budget = limit - ENVELOPE_HEADROOM - (activity_bytes(mentioning(empty, mentions)) - activity_bytes(empty))
    whole = render(reply, downloads=downloads)
    if activity_bytes(whole) <= budget:
        return [mentioning(whole, mentions)]
    pages = [part for page in _pack(reply, budget) for part in _split_to_fit(page, budget)]
    cards = [
        render(replace(page, title=_page_title(reply.title, number, len(pages))), downloads=downloads)
        for number, page in enumerate(pages, start=1)
    ]
    return [mentioning(cards[0], mentions), *cards[1:]]


def mentioning(card: dict[str, Any], mentions: Sequence[Mention]) -> dict[str, Any]:
    """``card`` with a line under its title naming ``mentions``: ``<at>Name</at>`` and a mention
    entity for each person with a known Teams id, the plain name for anyone else."""
    if not mentions:
        return card
    names, entities = [], []
    for mention in mentions:
        name = _mention_name(mention.name)
        if mention.user_id:
            tag = f"<at>{name}</at>"
            entities.append({"type": "mention", "text": tag, "mentioned": {"id": mention.user_id, "name": name}})
            names.append(tag)
        else:
            names.append(escape(name))
    line = {"type": "TextBlock", "text": " ".join(names), "wrap": True}
    drawn = {**card, "body": [*card["body"][:1], line, *card["body"][1:]]}
    if entities:
        drawn["msteams"] = {**card.get("msteams", {}), "entities": entities}
    return drawn


def activity_bytes(card: dict[str, Any]) -> int:
    """Bytes of a message activity carrying only ``card``, serialized as the connector sends it
    (JSON with non-ASCII as ``\\u`` escapes). A real activity also carries ids and addresses:
    leave :data:`ENVELOPE_HEADROOM` for them."""
    envelope = {"type": "message", "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}]}
    return len(json.dumps(envelope))


def _mention_name(name: str) -> str:
    """A name Teams matches between the card's ``<at>`` tag and the entity: one line, no markup."""
    printable = "".join(ch if ch.isprintable() else " " for ch in name)
    return " ".join(_NOT_IN_A_NAME.sub("", printable).split()) or "someone"


def has_buttons(reply: Reply) -> bool:
    return bool(reply.buttons) or any(row.buttons for row in reply.rows)


def summary(reply: Reply) -> str:
    """One line for notifications and the chat list, where a card shows only as "sent a card"."""
    return " ".join(reply.title.split())[:200]


def read_action(data: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The action name and button value from the data of a click (Execute or Submit), with the
    typed input put where the button said it ``needs`` it; None when the data is not ours."""
    ours = data.get(DATA_KEY)
    if not isinstance(ours, dict) or not isinstance(ours.get("action"), str):
        return None
    value = dict(ours.get("value") or {})
    input_id, needs = ours.get("input"), value.get("needs")
    typed = data.get(input_id) if isinstance(input_id, str) else None
    if isinstance(needs, str) and isinstance(typed, str) and typed.strip():
        value[needs] = typed.strip()
    return ours["action"], value


def _refresh() -> dict[str, Any]:
    return {
        "action": {
            "type": "Action.Execute",
            "verb": REFRESH_VERB,
            "title": "Refresh",
            "data": {DATA_KEY: {"action": REFRESH_VERB}},
        }
    }


def _pack(reply: Reply, budget: int) -> list[Reply]:
    """Pages by adding up the measured size of each row: the head (title, text, fields, buttons)
    and as many rows as fit, then continuation pages of rows. Titles carry the widest page mark
    while packing, so the real "(2 of 4)" only makes a page smaller."""
    title = _cut(reply.title, TITLE_CHARS) + _PAGE_MARK
    if has_buttons(reply):  # a page of rows with buttons gains a refresh the head did not have
        budget -= _bytes_of({"refresh": _refresh()})
    first = _fit_head(replace(reply, title=title, rows=()), budget)
    more = Reply(title=title, tone=reply.tone)
    pages: list[Reply] = []
    page, rows, used = first, [], _bytes(first)
    for rank, original in enumerate(reply.rows, start=1):
        row = _fit_row(original, rank, more, budget)
        cost = _bytes_of(_row(row, _InputIds())) + len(", ")
        if used + cost > budget and (rows or page is first):
            pages.append(replace(page, rows=tuple(rows)))
            page, rows, used = more, [], _bytes(more)
        rows.append(row)
        used += cost
    return pages + [replace(page, rows=tuple(rows))]


def _split_to_fit(page: Reply, budget: int) -> list[Reply]:
    """The page measured whole, and halved until each part fits (packing adds sizes up; this
    checks them)."""
    if len(page.rows) < 2 or _bytes(page) <= budget:
        return [page]
    half = len(page.rows) // 2
    rest = Reply(title=page.title, tone=page.tone, rows=page.rows[half:])
    return _split_to_fit(replace(page, rows=page.rows[:half]), budget) + _split_to_fit(rest, budget)


def _fit_head(head: Reply, budget: int) -> Reply:
    """The head with its text and fields cut just enough to fit a page on its own."""
    longest = max([len(head.text)] + [len(part) for f in head.fields for part in (f.label, f.value)])
    return _largest_fitting(
        lambda n: replace(head, text=_cut(head.text, n), fields=_cut_fields(head.fields, n)), longest, budget
    )


def _fit_row(row: Row, rank: int, page: Reply, budget: int) -> Row:
    """The row numbered with its rank, its texts cut just enough to fit a page of its own."""
    longest = max([len(row.title), len(row.detail)] + [len(p) for f in row.fields for p in (f.label, f.value)])

    def alone(n: int) -> Reply:
        cut = replace(
            row, title=f"{rank}. {_cut(row.title, n)}", detail=_cut(row.detail, n), fields=_cut_fields(row.fields, n)
        )
        return replace(page, rows=(cut,))

    return _largest_fitting(alone, longest, budget).rows[0]


def _largest_fitting(make: Callable[[int], Reply], longest: int, budget: int) -> Reply:
    """``make(n)`` for the largest cut ``n`` (up to ``longest`` characters) that fits; ``make(0)``
    when nothing does (a button value is never cut)."""
    if _bytes(make(longest)) <= budget:
        return make(longest)
    low, high = 0, longest - 1
    while low < high:
        middle = (low + high + 1) // 2
        if _bytes(make(middle)) <= budget:
            low = middle
        else:
            high = middle - 1
    return make(low)


def _page_title(title: str, number: int, total: int) -> str:
    title = _cut(title, TITLE_CHARS)
    return f"{title} ({number} of {total})" if total > 1 else title


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + ELLIPSIS


def _cut_fields(fields: tuple[Field, ...], limit: int) -> tuple[Field, ...]:
    return tuple(Field(_cut(f.label, limit), _cut(f.value, limit)) for f in fields)


def _bytes(page: Reply) -> int:
    return activity_bytes(render(page))


def _bytes_of(node: dict[str, Any]) -> int:
    return len(json.dumps(node))


class _InputIds:
    """Input ids unique within one card (``amount_1``, ``reason_2``)."""

    def __init__(self) -> None:
        self._count = 0
        self._by_button: dict[int, str] = {}

    def for_button(self, button: Button) -> str | None:
        needs = button.value.get("needs")
        if not isinstance(needs, str):
            return None
        if id(button) not in self._by_button:
            self._count += 1
            self._by_button[id(button)] = f"{re.sub(r'[^a-z]', '', needs.lower()) or 'value'}_{self._count}"
        return self._by_button[id(button)]


def _row(row: Row, inputs: _InputIds) -> dict[str, Any]:
    items = [text_block(row.title, weight="Bolder")]
    items += [text_block(part, is_subtle=True) for part in _paragraphs(row.detail)]
    if row.fields:
        items.append(_facts(row.fields))
    if row.buttons:
        items += _needed_inputs(row.buttons, inputs)
        items.append({"type": "ActionSet", "actions": [_action(b, inputs) for b in row.buttons]})
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}


def _needed_inputs(buttons: tuple[Button, ...], inputs: _InputIds) -> list[dict[str, Any]]:
    fields = []
    for button in buttons:
        input_id = inputs.for_button(button)
        if input_id is not None:
            needs = str(button.value["needs"])
            label = _NEEDS_LABELS.get(needs, needs.capitalize())
            fields.append(
                {
                    "type": "Input.Text",
                    "id": input_id,
                    "label": f"{label} (for {button.label})",
                    "placeholder": label,
                    "maxLength": 500,
                }
            )
    return fields


def _action(button: Button, inputs: _InputIds) -> dict[str, Any]:
    data = {DATA_KEY: {"action": button.action, "value": dict(button.value)}}
    input_id = inputs.for_button(button)
    if input_id is not None:
        data[DATA_KEY]["input"] = input_id
    action: dict[str, Any] = {"type": "Action.Execute", "title": button.label, "verb": button.action, "data": data}
    if button.style in _STYLES:
        action["style"] = _STYLES[button.style]
    action["fallback"] = {"type": "Action.Submit", "title": button.label, "data": data}
    return action


def _facts(fields: tuple[Any, ...]) -> dict[str, Any]:
    return {"type": "FactSet", "facts": [{"title": escape(f.label), "value": escape(f.value)} for f in fields]}


def text_block(text: str, **style: Any) -> dict[str, Any]:
    """A wrapped TextBlock of escaped plain text, with Adaptive Card styles given in snake case."""
    block: dict[str, Any] = {"type": "TextBlock", "text": escape(text), "wrap": True}
    for key, value in style.items():
        name = "isSubtle" if key == "is_subtle" else key
        if value not in (None, "Default"):
            block[name] = value
    return block


def _paragraphs(text: str) -> list[str]:
    return [line for line in (text or "").splitlines() if line.strip()]
