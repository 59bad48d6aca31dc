"""``log <customer> <outcome> [with <person reached>] [note]``: record a call, voicemail or
email, so the next person on the account sees what was tried and what was said.

Also the "Log call" button on call-list lines: Slack and Teams open the Log call form
(commands.forms) and send its submission as ``form.log_call``; a client without forms (the
terminal) answers the button with the typed command for that customer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from commands.accounts import account_balance
from commands.actor import Actor
from commands.context import AppContext
from commands.forms import LOG_CALL, LogRequest, check_contact, read_log_call
from commands.handlers.account_buttons import form_submission, typing_hint
from commands.handlers.common import money
from commands.handlers.registry import ButtonAction, Command, ParseEnv, Registry
from commands.messages import Field, Reply, Tone
from commands.parsing.customers import MAX_NAME_LENGTH, describe, resolve_first
from commands.parsing.notes import read_note
from commands.parsing.text import Token, clean_text, name_ends, phrase, quote, tokenize
from commands.refusal import Refusal
from commands.suspension.sequence import tick
from storage.audit import record
from storage.models import Activity, ActivityKind, Outcome

USAGE = "log <customer> <outcome> [with <person reached>] [note]"
LOGGABLE = [o for o in Outcome if o is not Outcome.EMAIL_BOUNCED]  # a bounce is the mail's to log
OUTCOMES_TEXT = ", ".join(o.value for o in LOGGABLE)
MAX_CONTACT_WORDS = 4  # "with Jane Doe: ..." reads a name up to the colon, if it is this short
OUTCOME_WORDS: dict[str, Outcome] = {
    **{o.value: o for o in LOGGABLE},
    "no answer": Outcome.NO_ANSWER,
    "noanswer": Outcome.NO_ANSWER,
    "wrong number": Outcome.WRONG_NUMBER,
    "email sent": Outcome.EMAIL_SENT,
    "emailed": Outcome.EMAIL_SENT,
    "vm": Outcome.VOICEMAIL,
}
KIND_OF = {
    Outcome.REACHED: ActivityKind.CALL,
    Outcome.NO_ANSWER: ActivityKind.CALL,
    Outcome.WRONG_NUMBER: ActivityKind.CALL,
    Outcome.REFUSED: ActivityKind.CALL,
    Outcome.VOICEMAIL: ActivityKind.VOICEMAIL,
    Outcome.EMAIL_SENT: ActivityKind.EMAIL,
}


@dataclass(frozen=True)
class _Reading:
    """One way to read the words after the customer: outcome, then contact and note."""

    outcome: Outcome
    after: int  # index of the first token after the outcome word(s)


def parse(args: str, env: ParseEnv) -> LogRequest | Refusal:
    tokens = tokenize(args)
    readings = [(phrase(tokens[:i]), r) for i, r in _outcome_positions(tokens)]
    if not tokens:
        return Refusal(f"which customer, and what happened? Outcomes: {OUTCOMES_TEXT}")
    if not readings:
        return Refusal(
            f"what happened? Put an outcome after the customer: {OUTCOMES_TEXT}", f"customer {quote(phrase(tokens))}"
        )
    found = resolve_first(env.session, readings)
    if isinstance(found, Refusal):
        return found
    customer, reading = found
    understood = f"customer {describe(customer)}, outcome {reading.outcome.value}"
    rest = _contact_and_note(args, tokens, reading.after)
    if isinstance(rest, Refusal):
        return rest.with_understood(understood)
    contact, note_text = rest
    note = read_note(note_text)
    if isinstance(note, Refusal):
        return note.with_understood(understood)
    return LogRequest(customer, reading.outcome, contact, note)


def _outcome_positions(tokens: list[Token]) -> list[tuple[int, _Reading]]:
    """Every place an outcome word could end the customer's name (which needs one word)."""
    found = []
    for i in name_ends(tokens, MAX_NAME_LENGTH):
        for width in (2, 1):
            words = tokens[i : i + width]
            if len(words) < width or any(t.quoted for t in words):
                continue
            key = " ".join(_word(t) for t in words)
            if key in OUTCOME_WORDS:
                found.append((i, _Reading(OUTCOME_WORDS[key], i + width)))
                break
    return found


def _word(token: Token) -> str:
    return token.lower.rstrip(":,;.").replace("_", "-")


def _contact_and_note(text: str, tokens: list[Token], after: int) -> tuple[str | None, str] | Refusal:
    """``with Jane``, ``with "Jane Doe"`` or ``with Jane Doe: note``; the rest is the note."""
    if after >= len(tokens) or _word(tokens[after]) != "with" or tokens[after].quoted:
        return None, _note_text(text, tokens[after - 1].end)
    if after + 1 >= len(tokens):
        return Refusal('with whom? Write `with Jane`, `with "Jane Doe"` or `with Jane Doe: note`')
    start = end = after + 1
    if not tokens[start].quoted:
        window = range(start, min(start + MAX_CONTACT_WORDS, len(tokens)))
        end = next((k for k in window if tokens[k].text.endswith(":")), None) or _name_end(tokens, start)
    contact = clean_text(phrase(tokens[start : end + 1])).strip().rstrip(":,;").strip()
    too_long = check_contact(contact)
    if too_long is not None:
        return too_long
    return (contact or None), _note_text(text, tokens[end].end)


def _name_end(tokens: list[Token], start: int) -> int:
    """Where a name typed without quotes ends: it runs on over capitalised words ("Kim Lee",
    "Dr. Ames", "Mary J. Blige") and stops at a lowercase word, a quote or a comma, so
    ``with Kim Lee will pay fri`` reads Kim Lee and the note "will pay fri"."""
    end = start
    while end + 1 < min(start + MAX_CONTACT_WORDS, len(tokens)):
        here, following = tokens[end], tokens[end + 1]
        if following.quoted or not following.text[:1].isupper() or here.text.endswith((",", ";")):
            break
        if here.text.endswith(".") and not _TITLE_OR_INITIAL.fullmatch(here.text):
            break
        end += 1
    return end


_TITLE_OR_INITIAL = re.compile(r"(?:[A-Z]|Dr|Mr|Mrs|Ms|Mx|Prof|St)\.")


def _note_text(text: str, start: int) -> str:
    return text[start:].strip().removeprefix(":").strip()


def handle(request: LogRequest, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply]:
    customer, now = request.customer, ctx.clock.now()
    kind = KIND_OF[request.outcome]
    activity = Activity(
        customer_id=customer.id,
        member_id=actor.member_id,
        kind=kind,
        outcome=request.outcome,
        contact_name=request.contact_name,
        note=request.note,
        occurred_at=now,
    )
    session.add(activity)
    session.flush()
    record(
        session,
        at=now,
        actor=actor.email,
        action="activity.logged",
        entity_type="activity",
        entity_id=activity.id,
        customer_id=customer.id,
        kind=kind.value,
        outcome=request.outcome.value,
        contact_name=request.contact_name,
        note=request.note,
    )
    fields = [Field("Outcome", request.outcome.value)]
    if request.contact_name:
        fields.append(Field("Spoke with", request.contact_name))
    if request.note:
        fields.append(Field("Note", request.note))
    fields.append(Field("Balance", money(customer, account_balance(session, customer.id))))
    logged = Reply(title=f"Logged {kind.value} for {describe(customer)}", fields=tuple(fields), tone=Tone.SUCCESS)
    return [logged, *tick(session, ctx, activity, actor)]


log_call_button = typing_hint(
    "Log a contact with {customer}",
    (f"Type: {USAGE}", f"Outcomes: {OUTCOMES_TEXT}", 'Example: log <customer> reached with "Jane Doe" will pay Friday'),
    balance=False,
)
log_call_form = form_submission(LOG_CALL, read_log_call, handle)


COMMAND = Command(
    name="log",
    usage=USAGE,
    parse=parse,
    handle=handle,
    summary=f"Record a call, voicemail or email. Outcomes: {OUTCOMES_TEXT}.",
    examples=(
        'log acme reached with "Jane Doe" will pay Friday',
        "log C100 voicemail",
        "log acme email-sent statement resent",
    ),
    try_it='log <customer> reached with "Jane Doe" will pay Friday',
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
    registry.add_action(ButtonAction("log_call", log_call_button))
    registry.add_action(ButtonAction(LOG_CALL.action or "form.log_call", log_call_form))
