"""Neutral replies drawn as Adaptive Cards 1.5 (plain JSON; nothing here imports the SDK).

Buttons become ``Action.Execute`` (Universal Actions: the click is an ``adaptiveCard/action``
invoke whose response redraws the card in place), each with an ``Action.Submit`` fallback for
clients that predate Universal Actions. A button whose value ``needs`` an amount or a reason gets
an ``Input.Text`` right above it, and says which input is its own, because a card sends every
input with every click.

All text in a reply is plain. Teams renders a markdown subset in TextBlocks, so a customer called
``*Acme* [click](http://x)`` would turn into formatting and a link: every markdown character is
escaped."""

from __future__ import annotations

import re
from typing import Any

from commands.messages import Button, ButtonStyle, Reply, Row, Tone

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


def escape(text: str) -> str:
    """Plain text safe for a TextBlock: markdown characters are backslash-escaped, and control
    characters other than newlines and tabs are dropped."""
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())
    text = _MARKDOWN.sub(r"\\\1", text)
    return _NUMBERED.sub(r"\1\2\\.", _BULLET.sub(r"\1\\\2", text))


def render(reply: Reply, *, refreshable: bool = True) -> dict[str, Any]:
    """The whole card for one reply. Cards with buttons carry a ``refresh`` action, so a client
    showing a stale copy asks the bot for the card as it stands."""
    inputs = _InputIds()
    body: list[dict[str, Any]] = [_text(reply.title, weight="Bolder", size="Medium",
                                        color=_COLORS[reply.tone], style="heading")]
    body += [_text(paragraph) for paragraph in _paragraphs(reply.text)]
    if reply.fields:
        body.append(_facts(reply.fields))
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
        card["refresh"] = {"action": {"type": "Action.Execute", "verb": REFRESH_VERB, "title": "Refresh",
                                      "data": {DATA_KEY: {"action": REFRESH_VERB}}}}
    return card


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
    items = [_text(row.title, weight="Bolder")]
    items += [_text(part, is_subtle=True) for part in _paragraphs(row.detail)]
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
            fields.append({"type": "Input.Text", "id": input_id, "label": f"{label} (for {button.label})",
                           "placeholder": label, "maxLength": 500})
    return fields


def _action(button: Button, inputs: _InputIds) -> dict[str, Any]:
    data = {DATA_KEY: {"action": button.action, "value": dict(button.value)}}
    input_id = inputs.for_button(button)
    if input_id is not None:
        data[DATA_KEY]["input"] = input_id
    action: dict[str, Any] = {"type": "Action.Execute", "title": button.label, "verb": button.action,
                              "data": data}
    if button.style in _STYLES:
        action["style"] = _STYLES[button.style]
    action["fallback"] = {"type": "Action.Submit", "title": button.label, "data": data}
    return action


def _facts(fields: tuple[Any, ...]) -> dict[str, Any]:
    return {"type": "FactSet", "facts": [{"title": escape(f.label), "value": escape(f.value)} for f in fields]}


def _text(text: str, **style: Any) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "TextBlock", "text": escape(text), "wrap": True}
    for key, value in style.items():
        name = "isSubtle" if key == "is_subtle" else key
        if value not in (None, "Default"):
            block[name] = value
    return block


def _paragraphs(text: str) -> list[str]:
    return [line for line in (text or "").splitlines() if line.strip()]
