"""Neutral replies drawn as Block Kit. The blocks are written as the plain dicts Slack takes, the
very shapes ``slack_sdk.models.blocks`` produces (tests/test_slack_render_blocks.py builds each
reply both ways and compares), but without building and validating a model object per text and
button: a 75-line call list is answered many times a minute, and the models made drawing it cost
more than finding the list. Slack's limits are kept by construction: titles, labels, sections
and fields are shortened to them here, and a list is split into messages of at most 50 blocks.

Text from data (customer names, notes, reasons) is escaped: ``&``, ``<`` and ``>`` become
entities, so ``<!channel>`` or ``<@U123>`` in a name is shown, never acted on; the mrkdwn marks
``* _ ~ ` `` become look-alike characters, because Slack has no escape for them and a customer
called ``*Best* Dental`` must not turn bold. :func:`from_lookalikes` turns them back when a
person pastes such a name into a command.

A message carries at most 50 blocks and a section at most 3,000 characters, so a long list is
split into several messages; the reply's own buttons always stay on the first one, which is
the message that gets tracked, updated and replied to."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from commands.messages import Button, ButtonStyle, Field, Reply, Row, Tone

MAX_BLOCKS = 50  # blocks in one message
SECTION_CHARS = 3000  # text of one section block
FIELD_CHARS = 2000  # one section field
FIELDS_PER_SECTION = 10
BUTTONS_PER_BLOCK = 25
BUTTON_LABEL_CHARS = 75
BUTTON_VALUE_CHARS = 2000
TITLE_CHARS = 300  # a title is a headline; the text carries the rest
ACTION_ID_PREFIX = "arbot:"

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_LOOKALIKES = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}
_UNLOOK = {v: k for k, v in _LOOKALIKES.items()}
_ESCAPES = str.maketrans({**_ENTITIES, **_LOOKALIKES})
_TONE_MARKS = {Tone.SUCCESS: ":white_check_mark: ", Tone.WARNING: ":warning: ", Tone.ERROR: ":x: "}
_STYLES = {ButtonStyle.PRIMARY: "primary", ButtonStyle.DANGER: "danger"}
# One encoder for every button value: json.dumps with options builds a new encoder per call,
# which took half the time of encoding a small value, and a list has hundreds of buttons.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"), default=str).encode


@dataclass(frozen=True)
class SlackMessage:
    """One Slack message: the notification text and the blocks (as dicts, ready to send)."""

    text: str
    blocks: list[dict[str, Any]]


@dataclass(frozen=True)
class ButtonData:
    """What a Slack button carries: the core's action name and value, and a label saying what it
    acts on (the row's title), so a form opened from it can say which customer it is for."""

    action: str
    value: dict[str, Any]
    label: str


def escape(text: str) -> str:
    """Data text made inert for mrkdwn (see the module)."""
    return text.translate(_ESCAPES)


def from_lookalikes(text: str) -> str:
    """The mrkdwn marks :func:`escape` replaced, back as typed."""
    return "".join(_UNLOOK.get(ch, ch) for ch in text)


def encode_button(button: Button, label: str) -> str:
    """The Slack button value: JSON of action, value and label, within Slack's 2,000 characters
    (the label is shortened first; the core's value is never cut)."""
    data = {"a": button.action, "v": button.value, "l": label[:200]}
    text = _COMPACT_JSON(data)
    if len(text) > BUTTON_VALUE_CHARS:
        text = _COMPACT_JSON({**data, "l": ""})
    if len(text) > BUTTON_VALUE_CHARS:
        raise ValueError(f"button {button.label!r} carries more than {BUTTON_VALUE_CHARS} characters")
    return text


def decode_button(raw: str | None) -> ButtonData | None:
    """A button value as :func:`encode_button` wrote it; None for anything else (a forged or
    foreign value is refused by the caller, never guessed at)."""
    try:
        data = json.loads(raw or "")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    action, value, label = data.get("a"), data.get("v", {}), data.get("l", "")
    if not isinstance(action, str) or not isinstance(value, dict) or not isinstance(label, str):
        return None
    return ButtonData(action, value, label)


def render(reply: Reply) -> list[SlackMessage]:
    """The reply as one or more messages of at most 50 blocks each."""
    chunks, _ = _chunks(reply, spare=0)
    total = len(chunks)
    return [SlackMessage(_fallback(reply, i, total), blocks) for i, blocks in enumerate(chunks, start=1)]


def render_one(reply: Reply) -> SlackMessage:
    """The reply as a single message (``chat.update`` replaces exactly one); lines that do not
    fit are counted in a closing note instead."""
    chunks, hidden = _chunks(reply, spare=1)
    blocks = chunks[0]
    if hidden:
        blocks.append(_context(f"{hidden} more line{'s' if hidden != 1 else ''} not shown here."))
    return SlackMessage(_fallback(reply, 1, 1), blocks)


def blocks_for(reply: Reply, *, ids: Iterator[int] | None = None) -> list[dict[str, Any]]:
    """Every block of the reply in one list, unsplit (for a view, whose caller sets the limit)."""
    ids = ids or itertools.count(1)
    units = _units(reply, ids)
    return [b for unit in units for b in unit.blocks] + _button_blocks(reply.buttons, reply.title, ids)


@dataclass(frozen=True)
class _Unit:
    """Blocks that must stay together in one message; ``row`` counts it as a line of a list."""

    blocks: list[dict[str, Any]]
    row: bool = False


def _chunks(reply: Reply, *, spare: int) -> tuple[list[list[dict[str, Any]]], int]:
    """Pack the reply's units into messages; the first keeps room for the reply's buttons and
    ``spare`` more blocks. Returns the messages and how many rows landed after the first."""
    ids = itertools.count(1)
    units = _units(reply, ids)
    tail = _button_blocks(reply.buttons, reply.title, ids)
    chunks: list[list[dict[str, Any]]] = [[]]
    room, later_rows = MAX_BLOCKS - len(tail) - spare, 0
    for unit in units:
        if len(chunks[-1]) + len(unit.blocks) > room:
            chunks.append([_context(f"{escape(_short(reply.title, TITLE_CHARS))} (continued)")])
            room = MAX_BLOCKS
        chunks[-1].extend(unit.blocks)
        later_rows += unit.row and len(chunks) > 1
    chunks[0].extend(tail)
    return chunks, later_rows


def _units(reply: Reply, ids: Iterator[int]) -> list[_Unit]:
    """The title, each text section, each fields section, and each row with its buttons."""
    units = [_Unit([_section(_TONE_MARKS.get(reply.tone, "") + f"*{escape(_short(reply.title, TITLE_CHARS))}*")])]
    units += [_Unit([_section(part)]) for part in split_text(reply.text)]
    units += [_Unit([_fields_section(group)]) for group in _groups(reply.fields, FIELDS_PER_SECTION)]
    if reply.rows and len(units) > 1:
        units.append(_Unit([{"type": "divider"}]))
    units += [_Unit(_row_blocks(row, ids), row=True) for row in reply.rows]
    return units


def _row_blocks(row: Row, ids: Iterator[int]) -> list[dict[str, Any]]:
    lines = [f"*{escape(_short(row.title, TITLE_CHARS))}*"]
    lines += [escape(line) for line in row.detail.splitlines() if line.strip()]
    if row.fields:
        lines.append(" · ".join(f"{escape(f.label)}: {escape(f.value)}" for f in row.fields))
    return [_section(_fit("\n".join(lines), SECTION_CHARS))] + _button_blocks(row.buttons, row.title, ids)


def _button_blocks(buttons: Iterable[Button], label: str, ids: Iterator[int]) -> list[dict[str, Any]]:
    elements = [_button(b, label, next(ids)) for b in buttons]
    return [{"type": "actions", "elements": group} for group in _groups(elements, BUTTONS_PER_BLOCK)]


def _button(button: Button, label: str, number: int) -> dict[str, Any]:
    element = {
        "type": "button",
        "text": _text("plain_text", _short(button.label, BUTTON_LABEL_CHARS) or "…", emoji=False),  # never empty
        "action_id": f"{ACTION_ID_PREFIX}{number}",
        "value": encode_button(button, label),
    }
    style = _STYLES.get(button.style)
    return {**element, "style": style} if style else element


def _fields_section(fields: list[Field]) -> dict[str, Any]:
    texts = [_text("mrkdwn", _fit(f"*{escape(f.label)}*\n{escape(f.value)}", FIELD_CHARS)) for f in fields]
    return {"type": "section", "fields": texts}


def split_text(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """Escaped text in pieces of at most ``limit`` characters, cut between lines where it can
    be and never inside an entity such as ``&amp;``."""
    pieces: list[str] = []
    current = ""
    for line in text.strip().splitlines():
        for part in _hard_split(escape(line), limit):
            joined = f"{current}\n{part}" if current else part
            if len(joined) <= limit:
                current = joined
            else:
                pieces.append(current)
                current = part
    if current.strip():
        pieces.append(current)
    return [p for p in pieces if p.strip()]


def _hard_split(escaped: str, limit: int) -> list[str]:
    parts = []
    while len(escaped) > limit:
        cut = limit
        amp = escaped.rfind("&", cut - 5, cut)  # an entity is at most 5 characters
        if amp != -1 and ";" not in escaped[amp:cut]:
            cut = amp
        parts.append(escaped[:cut])
        escaped = escaped[cut:]
    return parts + [escaped]


def _fit(escaped: str, limit: int) -> str:
    """Escaped text shortened to ``limit`` characters, not cutting an entity in half."""
    if len(escaped) <= limit:
        return escaped
    return _hard_split(escaped, limit - 1)[0] + "…"


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": _text("mrkdwn", mrkdwn)}


def _context(mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_text("mrkdwn", mrkdwn)]}


def _text(kind: str, text: str, **options: Any) -> dict[str, Any]:
    """A text object; an empty text is left out, as slack_sdk leaves it out."""
    return {"type": kind, **({"text": text} if text else {}), **options}


def _fallback(reply: Reply, part: int, total: int) -> str:
    """The notification text (and what screen readers read first)."""
    title = escape(_short(reply.title, TITLE_CHARS))
    return title if total == 1 else f"{title} ({part}/{total})"


def _groups(items: list[Any] | tuple[Any, ...], size: int) -> list[list[Any]]:
    items = list(items)
    return [items[i : i + size] for i in range(0, len(items), size)]
