"""Forms for the buttons that need typed input, and what their submission asks of the core.

Three buttons on every call-list line open a form whose submission becomes the command a person
would have typed, so it is parsed, checked and refused exactly like typed text: Log call
(outcome, person reached, note -> ``log``), Promise (amount, date, note -> ``promise``) and Paid
(amount, date, method, reference, urgent -> ``paid``). Any other button whose value says
``"needs": "amount"`` or ``"reason"`` (Partial, Reject) opens a one-field form whose submission
presses that button again with the value filled in.

A form remembers what opened it and where to answer in its ``private_metadata``. Amounts are
checked when the form is submitted, so a typo is shown under the field instead of closing the
form and losing what was typed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement, ContextBlock, DatePickerElement, InputBlock, MarkdownTextObject, Option,
    PlainTextInputElement, PlainTextObject, StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.slack.messenger import AnswerTo
from bot.slack.render import ButtonData, escape
from commands.messages import Action, Where
from commands.parsing.amounts import parse_amount
from commands.refusal import Refusal
from storage.models import Outcome

CALLBACK_PREFIX = "arbot.form."
FORM_COMMANDS = {"log_call": "log", "promise": "promise", "paid": "paid"}
NEEDS_LABELS = {"amount": "Amount received", "reason": "Reason"}
METHODS = ("wire", "ach", "check", "card", "cash", "other")
_OUTCOME_LABELS = {Outcome.REACHED: "Reached", Outcome.NO_ANSWER: "No answer", Outcome.VOICEMAIL: "Voicemail",
                   Outcome.WRONG_NUMBER: "Wrong number", Outcome.REFUSED: "Refused to pay",
                   Outcome.EMAIL_SENT: "Email sent"}
_VALUE = "value"  # the action_id of every input; its block_id names the field


@dataclass(frozen=True)
class Origin:
    """What opened a form: the button, where it was pressed, where to answer."""

    button: ButtonData
    where: Where
    to: AnswerTo
    from_home: bool = False

    def to_json(self) -> str:
        return json.dumps({"a": self.button.action, "v": self.button.value, "l": self.button.label,
                           "w": [self.where.channel, self.where.thread], "to": self.to.to_dict(),
                           "h": self.from_home}, separators=(",", ":"), default=str)

    @classmethod
    def from_json(cls, raw: str) -> Origin:
        data = json.loads(raw)
        channel, thread = data["w"]
        return cls(ButtonData(str(data["a"]), dict(data["v"]), str(data.get("l", ""))),
                   Where(str(channel), thread), AnswerTo.from_dict(data["to"]), bool(data.get("h")))


@dataclass(frozen=True)
class Submission:
    """A submitted form as the core's input: a command's text, or a button press."""

    origin: Origin
    text: str | None = None
    action: Action | None = None


def wants_form(button: ButtonData) -> bool:
    """Whether pressing this button opens a form instead of acting at once."""
    if button.action in FORM_COMMANDS:
        return isinstance(button.value.get("customer"), str)
    return button.value.get("needs") in NEEDS_LABELS


def form_for(origin: Origin, *, pressed: str, today: date) -> View:
    """The form a button opens (see :func:`wants_form`); ``pressed`` is the button's label."""
    builders = {"log_call": _log_call, "promise": _promise, "paid": _paid}
    build = builders.get(origin.button.action)
    if build is not None:
        title, submit, blocks = build(today)
    else:
        needs = str(origin.button.value["needs"])
        title, submit = pressed, "Send"
        blocks = [_input(needs, NEEDS_LABELS[needs], _text_input(multiline=needs == "reason"))]
    about = ContextBlock(elements=[MarkdownTextObject(text=escape(origin.button.label or pressed)[:2000])])
    return View(type="modal", callback_id=CALLBACK_PREFIX + origin.button.action,
                title=PlainTextObject(text=title[:24]), submit=PlainTextObject(text=submit),
                close=PlainTextObject(text="Cancel"), private_metadata=origin.to_json(),
                blocks=[about, *blocks])


def _log_call(today: date) -> tuple[str, str, list[InputBlock]]:
    outcomes = [Option(value=o.value, label=label) for o, label in _OUTCOME_LABELS.items()]
    return "Log a call", "Log", [
        _input("outcome", "Outcome", StaticSelectElement(action_id=_VALUE, options=outcomes)),
        _input("contact", "Person reached", _text_input(), optional=True),
        _input("note", "Note", _text_input(multiline=True), optional=True),
    ]


def _promise(today: date) -> tuple[str, str, list[InputBlock]]:
    return "Record a promise", "Record", [
        _input("amount", "Amount promised", _text_input(placeholder="1,200")),
        _input("date", "To be paid by", DatePickerElement(action_id=_VALUE)),
        _input("note", "Note", _text_input(multiline=True), optional=True),
    ]


def _paid(today: date) -> tuple[str, str, list[InputBlock]]:
    methods = [Option(value=m, label=m.upper() if m == "ach" else m.capitalize()) for m in METHODS]
    urgent = Option(value="urgent", label="Urgent: a hold blocks product release or scheduling")
    return "Customer paid", "Ask finance", [
        _input("amount", "Amount paid", _text_input(placeholder="1,200")),
        _input("date", "Date paid", DatePickerElement(action_id=_VALUE, initial_date=today.isoformat())),
        _input("method", "Method", StaticSelectElement(action_id=_VALUE, options=methods), optional=True),
        _input("reference", "Reference", _text_input(), optional=True),
        _input("urgent", "Urgency", CheckboxesElement(action_id=_VALUE, options=[urgent]), optional=True),
    ]


def _input(block_id: str, label: str, element: Any, *, optional: bool = False) -> InputBlock:
    return InputBlock(block_id=block_id, label=PlainTextObject(text=label), element=element, optional=optional)


def _text_input(*, multiline: bool = False, placeholder: str | None = None) -> PlainTextInputElement:
    return PlainTextInputElement(action_id=_VALUE, multiline=multiline, max_length=1000 if multiline else 200,
                                 placeholder=placeholder)


def read_submission(view: dict[str, Any]) -> Submission | dict[str, str]:
    """The submission as the core's input, or errors by field for Slack to show in the form."""
    origin = Origin.from_json(view["private_metadata"])
    values = _values(view)
    problem = _amount_problem(values["amount"]) if "amount" in values else None
    if problem is not None:
        return {"amount": problem}
    command = FORM_COMMANDS.get(origin.button.action)
    if command is None:
        needs = str(origin.button.value["needs"])
        value = {**origin.button.value, needs: values.get(needs, "")}
        return Submission(origin, action=Action(origin.button.action, value))
    return Submission(origin, text=_command_text(command, _customer(origin), values))


def _values(view: dict[str, Any]) -> dict[str, str]:
    """Field name -> what was entered, as text ("" when left empty)."""
    out = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        state = actions.get(_VALUE) or {}
        if state.get("type") == "datepicker":
            out[block_id] = state.get("selected_date") or ""
        elif state.get("type") == "static_select":
            out[block_id] = (state.get("selected_option") or {}).get("value", "")
        elif state.get("type") == "checkboxes":
            out[block_id] = " ".join(o.get("value", "") for o in state.get("selected_options") or [])
        else:
            out[block_id] = str(state.get("value") or "").strip()
    return out


def _amount_problem(text: str) -> str | None:
    read = parse_amount(text.strip())
    return read.message if isinstance(read, Refusal) else None


def _customer(origin: Origin) -> str:
    """The customer's ERP id as a command word, quoted when it has spaces."""
    erp_id = str(origin.button.value["customer"])
    return f'"{erp_id}"' if any(ch.isspace() for ch in erp_id) else erp_id


def _command_text(command: str, customer: str, values: dict[str, str]) -> str:
    note = values.get("note", "")
    if command == "log":
        contact = values.get("contact", "").replace('"', "'")
        text = f"log {customer} {values['outcome']}" + (f' with "{contact}"' if contact else "")
        # " : " keeps a note that starts with "with" from being read as the person reached.
        return text + (f" : {note}" if note else "")
    if command == "promise":
        return f"promise {customer} {values['amount']} {values['date']}" + (f" {note}" if note else "")
    words = [f"paid {customer} {values['amount']} {values['date']}", values.get("method", ""),
             values.get("reference", ""), "--urgent" if values.get("urgent") else ""]
    return " ".join(w for w in words if w)
