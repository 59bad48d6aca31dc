"""The core's forms (commands.forms) drawn as Slack modals, and a submission read back into the
core's :class:`~commands.messages.Action`.

Which buttons open a form, what each form asks and how its answers are checked is the core's;
this module only draws a :class:`~commands.forms.Form` in Block Kit (one input block per field,
its ``block_id`` the field's name) and reads ``view.state`` back into values by field name. A
form remembers what opened it and where to answer in its ``private_metadata``. The checks that
need no ledger run when the form is submitted, so a typo is shown under its field (Slack's
``response_action: errors``) instead of closing the form and losing what was typed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.slack.messenger import AnswerTo
from bot.slack.render import ButtonData, escape
from commands import forms
from commands.forms import Form, FormField, Kind
from commands.messages import Action, Where

CALLBACK_PREFIX = "arbot.form."
_VALUE = "value"  # the action_id of every input; its block_id names the field
_TEXT_LIMIT = 3000  # Slack's most for a plain-text input


@dataclass(frozen=True)
class Origin:
    """What opened a form: the button, where it was pressed, where to answer."""

    button: ButtonData
    where: Where
    to: AnswerTo
    from_home: bool = False
    pressed: str = ""  # the button's label, which titles a one-field form

    def to_json(self) -> str:
        return json.dumps(
            {
                "a": self.button.action,
                "v": self.button.value,
                "l": self.button.label,
                "w": [self.where.channel, self.where.thread],
                "to": self.to.to_dict(),
                "h": self.from_home,
                "p": self.pressed,
            },
            separators=(",", ":"),
            default=str,
        )

    @classmethod
    def from_json(cls, raw: str) -> Origin:
        data = json.loads(raw)
        channel, thread = data["w"]
        return cls(
            ButtonData(str(data["a"]), dict(data["v"]), str(data.get("l", ""))),
            Where(str(channel), thread),
            AnswerTo.from_dict(data["to"]),
            bool(data.get("h")),
            str(data.get("p", "")),
        )

    def form(self) -> Form:
        """The core's form for the button that opened this one."""
        found = forms.form_for_button(self.button.action, self.button.value, pressed=self.pressed)
        if found is None:
            raise ValueError(f"button {self.button.action!r} opens no form")
        return found


@dataclass(frozen=True)
class Submission:
    """A submitted form as the core's input: the action it stands for."""

    origin: Origin
    action: Action


def wants_form(button: ButtonData) -> bool:
    """Whether pressing this button opens a form instead of acting at once (the core says)."""
    return forms.form_for_button(button.action, button.value) is not None


def form_for(origin: Origin, *, pressed: str, today: date) -> View:
    """The modal a button opens (see :func:`wants_form`); ``pressed`` is the button's label."""
    if origin.pressed != pressed:
        origin = Origin(origin.button, origin.where, origin.to, origin.from_home, pressed)
    form = origin.form()
    initial = form.initial(today, origin.button.value)
    about = ContextBlock(elements=[MarkdownTextObject(text=escape(origin.button.label or pressed)[:2000])])
    return View(
        type="modal",
        callback_id=CALLBACK_PREFIX + origin.button.action,
        title=PlainTextObject(text=form.title[:24]),
        submit=PlainTextObject(text=form.submit[:24]),
        close=PlainTextObject(text="Cancel"),
        private_metadata=origin.to_json(),
        blocks=[about, *(_input(spec, initial.get(spec.name)) for spec in form.fields)],
    )


def _input(spec: FormField, initial: str | None) -> InputBlock:
    return InputBlock(
        block_id=spec.name,
        label=PlainTextObject(text=spec.label),
        element=_element(spec, initial),
        optional=spec.optional or spec.kind is Kind.FLAG,
    )


def _element(spec: FormField, initial: str | None) -> Any:
    if spec.kind is Kind.DATE:
        return DatePickerElement(action_id=_VALUE, initial_date=initial)
    if spec.kind is Kind.CHOICE:
        options = [Option(value=c.value, label=c.label) for c in spec.options]
        chosen = next((o for o in options if o.value == initial), None)
        return StaticSelectElement(action_id=_VALUE, options=options, initial_option=chosen)
    if spec.kind is Kind.FLAG:
        box = Option(value=spec.name, label=(spec.detail or spec.label)[:75])
        return CheckboxesElement(action_id=_VALUE, options=[box])
    limit = min(spec.max_length or 200, _TEXT_LIMIT)
    return PlainTextInputElement(
        action_id=_VALUE,
        multiline=spec.kind is Kind.MULTILINE,
        max_length=limit,
        placeholder=spec.placeholder,
        initial_value=initial,
    )


def read_submission(view: dict[str, Any], *, today: date) -> Submission | dict[str, str]:
    """The submission as the core's input, or errors by field for Slack to show in the form."""
    origin = Origin.from_json(view["private_metadata"])
    form = origin.form()
    values = _values(view)
    errors = forms.check(form, values, today)
    if errors:
        return errors
    return Submission(origin, forms.submission(form, Action(origin.button.action, origin.button.value), values))


def _values(view: dict[str, Any]) -> dict[str, str]:
    """Field name -> what was entered, as text ("" when left empty; "true" for a ticked box)."""
    out = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        state = actions.get(_VALUE) or {}
        if state.get("type") == "datepicker":
            out[block_id] = state.get("selected_date") or ""
        elif state.get("type") == "static_select":
            out[block_id] = (state.get("selected_option") or {}).get("value", "")
        elif state.get("type") == "checkboxes":
            out[block_id] = "true" if state.get("selected_options") else ""
        else:
            out[block_id] = str(state.get("value") or "").strip()
    return out
