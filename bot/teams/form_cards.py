"""Forms the core defines (commands.forms: Log call, Promise, Paid, a Partial amount, a Reject
reason) drawn as Adaptive Cards: :func:`render_form` gives a card of ``Input.*`` fields whose
submit is an ``Action.Execute`` with :data:`FORM_VERB`, carrying the button that opened it (and so
the customer); :func:`read_form` reads the submit back. Errors found in the values are drawn
under their fields when the card comes back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.teams.cards import CARD_VERSION, DATA_KEY, text_block
from commands.forms import Form, FormField, Kind
from commands.messages import Action

FORM_VERB = "arbot.form"


@dataclass(frozen=True)
class FormSubmit:
    """A form card's submit: the button that opened the form, its label, and the values by field."""

    pressed: Action
    label: str
    values: dict[str, str]


def render_form(
    form: Form,
    pressed: Action,
    *,
    label: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
) -> dict[str, Any]:
    """The form as a card: a heading, each field as its ``Input.*`` (kept as typed when the card
    comes back), the core's message for a field right under it, and one submit. ``problem`` is
    an answer from the core that is about no one field."""
    values, errors = values or {}, errors or {}
    body: list[dict[str, Any]] = [text_block(form.title, weight="Bolder", size="Medium", style="heading")]
    about = _form_subject(pressed, label)
    if about:
        body.append(text_block(about, is_subtle=True))
    if problem:
        body.append(text_block(problem, color="Attention"))
    for spec in form.fields:
        body.append(_input(spec, values.get(spec.name)))
        if spec.name in errors:
            body.append({**text_block(errors[spec.name], color="Attention", size="Small"), "spacing": "None"})
    data = {DATA_KEY: {"form": {"action": pressed.name, "value": dict(pressed.value), "label": label}}}
    submit = {
        "type": "Action.Execute",
        "title": form.submit,
        "verb": FORM_VERB,
        "data": data,
        "style": "positive",
        "fallback": {"type": "Action.Submit", "title": form.submit, "data": data},
    }
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "actions": [submit],
        "msteams": {"width": "Full"},
    }


def _form_subject(pressed: Action, label: str) -> str:
    customer = pressed.value.get("customer")
    return f"Customer {customer}" if isinstance(customer, str) else label


def _input(spec: FormField, value: str | None) -> dict[str, Any]:
    """One field as the Adaptive Card input of its kind."""
    field: dict[str, Any] = {
        "id": spec.name,
        "label": spec.label,
        "isRequired": not spec.optional and spec.kind is not Kind.FLAG,
    }
    if spec.kind is Kind.DATE:
        field.update(type="Input.Date")
    elif spec.kind is Kind.CHOICE:
        field.update(
            type="Input.ChoiceSet",
            style="compact",
            choices=[{"title": c.label, "value": c.value} for c in spec.options],
        )
    elif spec.kind is Kind.FLAG:
        field.update(type="Input.Toggle", title=spec.detail or spec.label, valueOn="true", valueOff="false")
    else:
        field.update(type="Input.Text", isMultiline=spec.kind is Kind.MULTILINE)
        if spec.max_length:
            field["maxLength"] = spec.max_length
        if spec.placeholder:
            field["placeholder"] = spec.placeholder
    if field["isRequired"]:
        field["errorMessage"] = f"{spec.label} is needed"
    if value:
        field["value"] = value
    return field


def read_form(data: dict[str, Any]) -> FormSubmit | None:
    """A form card's submit (Execute or Submit): the inputs Teams merged beside our data."""
    ours = data.get(DATA_KEY)
    opened = ours.get("form") if isinstance(ours, dict) else None
    if (
        not isinstance(opened, dict)
        or not isinstance(opened.get("action"), str)
        or not isinstance(opened.get("value"), dict)
    ):
        return None
    values = {key: item for key, item in data.items() if key != DATA_KEY and isinstance(item, str)}
    return FormSubmit(Action(opened["action"], dict(opened["value"])), str(opened.get("label") or ""), values)
