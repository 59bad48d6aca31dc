"""Forms, defined once for every chat client: what a button that needs typed input asks for, how
each answer is checked, and the typed request a submission becomes.

Slack draws a :class:`Form` as a modal, Teams as an Adaptive Card with ``Input.*`` fields, and
both hand the submission back as one :class:`~commands.messages.Action`: ``form.log_call``,
``form.promise`` or ``form.paid`` with the customer and the values by field name, or, for a
one-field form (Partial's amount, Reject's reason), the pressed button again with its value
filled in. Nothing is re-encoded into command text, so a note like "with Bob: thanks" stays a note.

Checks come in two steps because of where they can run. :func:`check` needs nothing but the
values and today, so an adapter runs it before closing a form and shows a problem under its field
(Slack wants the answer within three seconds, before the core is reached). The ``read_*``
functions run in the core with the customer found, and make the typed request, repeating those
checks and adding the ones that need the customer (its currency). The typed commands (``promise``,
``paid``, ``log``) use the same checks from here, so a form and a typed line are refused alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import Any

from commands.messages import Action
from commands.parsing.amounts import Amount, parse_amount
from commands.parsing.customers import describe
from commands.parsing.dates import format_day
from commands.parsing.notes import MAX_NOTE_LENGTH, read_note
from commands.parsing.text import clean_text
from commands.refusal import Refusal
from commands.workflows.payments import PaymentClaim
from storage.models import Customer, Outcome

FieldErrors = dict[str, str]
TODAY = "today"  # a date field's default: the day the form is opened

# A promise further out than this is a payment plan in disguise, which needs approval.
MAX_DAYS_AHEAD = 90
# Further back than this is more likely a misread date than news for finance.
MAX_DAYS_BACK = 180
MAX_REFERENCE_LENGTH = 100
MAX_CONTACT_LENGTH = 200  # activities.contact_name
METHODS = ("wire", "ach", "check", "card", "cash", "zelle", "paypal", "other")
TRUE_WORDS = frozenset({"true", "on", "yes", "1"})


class Kind(str, Enum):
    TEXT = "text"
    MULTILINE = "multiline"
    AMOUNT = "amount"
    DATE = "date"
    CHOICE = "choice"
    FLAG = "flag"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    """One input. ``default`` is its initial value (:data:`TODAY` for a date opened on today)."""

    name: str
    label: str
    kind: Kind = Kind.TEXT
    optional: bool = False
    placeholder: str | None = None
    default: str | None = None
    options: tuple[Choice, ...] = ()
    max_length: int | None = None
    detail: str = ""  # a flag's meaning, shown next to its box


@dataclass(frozen=True)
class Form:
    """A form as the core defines it. ``action`` is what its submission is sent as; None means
    the button that opened it is pressed again, with the one value filled in."""

    name: str
    title: str
    submit: str
    fields: tuple[FormField, ...]
    action: str | None = None
    prefilled: bool = False  # starts from the pressed button's values (a draft to edit)

    def initial(self, today: date, pressed: Mapping[str, Any] | None = None) -> dict[str, str]:
        """Each field's starting value, by name (fields without a default are left out). A
        form that edits a draft (the follow-up email) starts from the values the pressed
        button carries under the fields' names."""
        values = {
            f.name: today.isoformat() if f.default == TODAY else f.default for f in self.fields if f.default is not None
        }
        if self.prefilled and pressed is not None:
            values |= {f.name: pressed[f.name] for f in self.fields if isinstance(pressed.get(f.name), str)}
        return values

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class LogRequest:
    """A call, voicemail or email to record, typed or from the Log call form."""

    customer: Customer
    outcome: Outcome
    contact_name: str | None
    note: str | None


@dataclass(frozen=True)
class PromiseRequest:
    """A promise to pay, typed or from the Promise form."""

    customer: Customer
    amount: Amount
    day: date
    note: str | None


OUTCOME_LABELS = {
    Outcome.REACHED: "Reached",
    Outcome.NO_ANSWER: "No answer",
    Outcome.VOICEMAIL: "Voicemail",
    Outcome.WRONG_NUMBER: "Wrong number",
    Outcome.REFUSED: "Refused to pay",
    Outcome.EMAIL_SENT: "Email sent",
}
_NOTE = FormField("note", "Note", Kind.MULTILINE, optional=True, max_length=MAX_NOTE_LENGTH)

LOG_CALL = Form(
    "log_call",
    "Log a call",
    "Log",
    action="form.log_call",
    fields=(
        FormField(
            "outcome",
            "Outcome",
            Kind.CHOICE,
            options=tuple(Choice(o.value, label) for o, label in OUTCOME_LABELS.items()),
        ),
        FormField("contact", "Person reached", optional=True, max_length=MAX_CONTACT_LENGTH),
        _NOTE,
    ),
)
PROMISE = Form(
    "promise",
    "Record a promise",
    "Record",
    action="form.promise",
    fields=(
        FormField("amount", "Amount promised", Kind.AMOUNT, placeholder="1,200"),
        FormField("date", "To be paid by", Kind.DATE),
        _NOTE,
    ),
)
PAID = Form(
    "paid",
    "Customer paid",
    "Ask finance",
    action="form.paid",
    fields=(
        FormField("amount", "Amount paid", Kind.AMOUNT, placeholder="1,200"),
        FormField("date", "Date paid", Kind.DATE, default=TODAY),
        FormField(
            "method",
            "Method",
            Kind.CHOICE,
            optional=True,
            options=tuple(Choice(m, m.upper() if m == "ach" else m.capitalize()) for m in METHODS),
        ),
        FormField("reference", "Reference", optional=True, max_length=MAX_REFERENCE_LENGTH),
        FormField(
            "urgent", "Urgency", Kind.FLAG, optional=True, detail="Urgent: a hold blocks product release or scheduling"
        ),
    ),
)
# The one-field forms of buttons whose value says what they need ("needs": "amount").
NEEDS = {
    "amount": FormField("amount", "Amount received", Kind.AMOUNT, placeholder="1,200"),
    "reason": FormField("reason", "Reason", Kind.MULTILINE, max_length=1000),
}
MAX_EMAIL_SUBJECT, MAX_EMAIL_MESSAGE = 200, 1200  # the draft rides in the button (Slack: under 2,000)
EMAIL = Form(
    "email_edit",
    "Follow-up email",
    "Send",
    action="form.email",
    prefilled=True,
    fields=(
        FormField("to", "To", max_length=254, placeholder="name@customer.example"),
        FormField("subject", "Subject", max_length=MAX_EMAIL_SUBJECT),
        FormField(
            "message", "Message (the open items and how to pay follow it)", Kind.MULTILINE, max_length=MAX_EMAIL_MESSAGE
        ),
    ),
)
BUTTON_FORMS = {form.name: form for form in (LOG_CALL, PROMISE, PAID, EMAIL)}


def form_for_button(action: str, value: Mapping[str, Any], *, pressed: str = "") -> Form | None:
    """The form a button opens instead of acting at once, or None. A list button opens its
    form only when it names a customer (else the core explains); ``pressed`` (the button's
    label) titles a one-field form."""
    if action in BUTTON_FORMS:
        return BUTTON_FORMS[action] if isinstance(value.get("customer"), str) else None
    needs = value.get("needs")
    if isinstance(needs, str) and needs in NEEDS:
        field = NEEDS[needs]
        return Form(f"needs.{needs}", pressed or field.label, "Send", (field,))
    return None


def submission(form: Form, pressed: Action, values: Mapping[str, str]) -> Action:
    """What the core gets: the form's action with the button's data and the values, or for a
    one-field form the pressed button with its value filled in."""
    entered = {f.name: str(values.get(f.name, "")) for f in form.fields}
    return Action(form.action or pressed.name, {**pressed.value, **entered})


def check(form: Form, values: Mapping[str, str], today: date) -> FieldErrors:
    """Every problem that needs no ledger, by field: what an adapter shows before the form closes."""
    errors: FieldErrors = {}
    values = texts(values)
    for spec in form.fields:
        problem = _field_problem(form, spec, str(values.get(spec.name, "")).strip(), today)
        if problem:
            errors[spec.name] = problem
    return errors


def _field_problem(form: Form, spec: FormField, text: str, today: date) -> str | None:
    if not text:
        return None if spec.optional or spec.kind is Kind.FLAG else "Please fill this in."
    if spec.max_length is not None and len(text) > spec.max_length:
        return f"At most {spec.max_length:,} characters; this has {len(text):,}."
    if spec.kind is Kind.CHOICE and text not in {c.value for c in spec.options}:
        return "Pick one of the options."
    reader = _READERS.get((form.name, spec.kind))
    read = reader(text, today) if reader is not None else None
    return read.message if isinstance(read, Refusal) else None


def read_form_amount(text: str, _today: date | None = None) -> Amount | Refusal:
    return parse_amount(text.strip())


def read_picked_day(text: str, _today: date | None = None) -> date | Refusal:
    """A date from a date picker (ISO, as Slack and Teams send it)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return Refusal(f"pick a date; {text[:40]!r} is not one")


def _promise_day(text: str, today: date) -> date | Refusal:
    day = read_picked_day(text)
    if isinstance(day, Refusal):
        return day
    return check_promise_day(day, today, f"you picked {format_day(day)}") or day


def _paid_day(text: str, today: date) -> date | Refusal:
    day = read_picked_day(text)
    if isinstance(day, Refusal):
        return day
    return check_paid_day(day, today, f"you picked {format_day(day)}") or day


_READERS: dict[tuple[str, Kind], Callable[[str, date], Any]] = {
    ("promise", Kind.AMOUNT): read_form_amount,
    ("paid", Kind.AMOUNT): read_form_amount,
    ("needs.amount", Kind.AMOUNT): read_form_amount,
    ("promise", Kind.DATE): _promise_day,
    ("paid", Kind.DATE): _paid_day,
}


# The checks the typed commands share with the forms.


def check_currency(customer: Customer, amount: Amount) -> Refusal | None:
    """An amount written in another currency than the customer is billed in is refused."""
    if amount.currency and amount.currency != customer.currency:
        return Refusal(
            f"{describe(customer)} is billed in {customer.currency}, not {amount.currency}; "
            f"write the amount in {customer.currency}"
        )
    return None


def check_promise_day(day: date, today: date, read_as: str) -> Refusal | None:
    """A promise is for today up to :data:`MAX_DAYS_AHEAD` days out; ``read_as`` says how the
    date was understood ("I read 'fri' as ...")."""
    if day < today:
        return Refusal(f"promise dates can't be in the past; {read_as}")
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    if day > latest:
        return Refusal(f"promises can be at most {MAX_DAYS_AHEAD} days ahead (until {format_day(latest)}); {read_as}")
    return None


def check_paid_day(day: date, today: date, read_as: str) -> Refusal | None:
    """A payment is dated today or up to :data:`MAX_DAYS_BACK` days back."""
    if day > today:
        return Refusal(f"a payment can't be dated in the future; {read_as}")
    if day < today - timedelta(days=MAX_DAYS_BACK):
        return Refusal(f"a payment date can be at most {MAX_DAYS_BACK} days back; {read_as}")
    return None


def check_reference(reference: str | None) -> Refusal | None:
    if reference is not None and len(reference) > MAX_REFERENCE_LENGTH:
        return Refusal(f"a reference can be at most {MAX_REFERENCE_LENGTH} characters and yours has {len(reference)}")
    return None


def check_contact(contact: str | None) -> Refusal | None:
    if contact is not None and len(contact) > MAX_CONTACT_LENGTH:
        return Refusal(f"the name of the person reached can be at most {MAX_CONTACT_LENGTH} characters")
    return None


# Submitted values -> the typed request, in the core, with the customer found.


def texts(value: Mapping[str, Any]) -> dict[str, str]:
    """The text values of a submission; anything else (a forged payload) is left out."""
    return {key: item for key, item in value.items() if isinstance(item, str)}


def read_log_call(values: Mapping[str, str], customer: Customer, today: date) -> LogRequest | FieldErrors:
    values = texts(values)
    errors = check(LOG_CALL, values, today)
    contact = clean_text(values.get("contact", "")).strip() or None
    note = read_note(values.get("note", ""))
    if isinstance(note, Refusal):
        errors.setdefault("note", note.message)
    if errors or isinstance(note, Refusal):
        return errors
    return LogRequest(customer, Outcome(values["outcome"]), contact, note)


def read_promise(values: Mapping[str, str], customer: Customer, today: date) -> PromiseRequest | FieldErrors:
    values = texts(values)
    errors = check(PROMISE, values, today)
    amount, day = read_form_amount(values.get("amount", "")), read_picked_day(values.get("date", ""))
    note = read_note(values.get("note", ""))
    if isinstance(amount, Amount) and (problem := check_currency(customer, amount)):
        errors.setdefault("amount", problem.message)
    if isinstance(note, Refusal):
        errors.setdefault("note", note.message)
    if errors or not isinstance(amount, Amount) or not isinstance(day, date) or isinstance(note, Refusal):
        return errors or {"date": "Please fill this in."}
    return PromiseRequest(customer, amount, day, note)


def read_paid(values: Mapping[str, str], customer: Customer, today: date) -> PaymentClaim | FieldErrors:
    values = texts(values)
    errors = check(PAID, values, today)
    amount = read_form_amount(values.get("amount", ""))
    day = read_picked_day(values.get("date", "")) if values.get("date", "").strip() else today
    if isinstance(amount, Amount) and (problem := check_currency(customer, amount)):
        errors.setdefault("amount", problem.message)
    if errors or not isinstance(amount, Amount) or not isinstance(day, date):
        return errors or {"date": "Please fill this in."}
    reference = clean_text(values.get("reference", "")).strip() or None
    return PaymentClaim(
        customer=customer,
        amount=amount.value,
        paid_on=day,
        method=values.get("method", "").strip() or None,
        reference=reference,
        urgent=is_set(values.get("urgent", "")),
    )


def is_set(flag: str) -> bool:
    """A flag field as adapters send it ("true" / "false" / "")."""
    return flag.strip().lower() in TRUE_WORDS


def refusal_of(errors: FieldErrors, form: Form) -> Refusal:
    """Field errors said as one refusal, for a client that could not show them under the fields."""
    said = "; ".join(f"{_label(form, name)}: {message}" for name, message in errors.items())
    return Refusal(f"the {form.title.lower()} form needs fixing: {said}")


def _label(form: Form, name: str) -> str:
    spec = form.field(name)
    return spec.label if spec is not None else name
