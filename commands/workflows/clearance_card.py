"""The clearance card the account's collector (or a manager) sees: what client services wants to
do and when, why it was not cleared at once (money past due, a hold), and the account as
``status`` shows it (past-due buckets, holds, promises), with Clear / Refuse while it waits; once
decided, the same card says who decided, when and why, and has no buttons left."""

from __future__ import annotations

from dataclasses import dataclass

from commands.account_card import status_reply
from commands.accounts import AccountSummary
from commands.context import AppContext
from commands.messages import Button, ButtonStyle, Field, Reply, Tone
from commands.parsing.customers import describe
from commands.parsing.dates import format_day
from commands.wording import local_moment
from storage.models import ClearanceRequest, ClearanceStatus

CLEAR_ACTION = "clearance.clear"
REFUSE_ACTION = "clearance.refuse"
KEY_PREFIX = "clearance:"
THREAD_HINT = 'Decide with the buttons, or reply in this thread: "clear [because ...]" or "refuse because <reason>".'
_TITLES = {
    ClearanceStatus.PENDING: ("Clearance asked", Tone.WARNING),
    ClearanceStatus.CLEARED: ("Cleared", Tone.SUCCESS),
    ClearanceStatus.REFUSED: ("Refused", Tone.WARNING),
}


@dataclass(frozen=True)
class CardFacts:
    """What the card shows, read in the transaction that posts or redraws it."""

    clearance: ClearanceRequest
    summary: AccountSummary
    requester: str
    collector: str | None
    decider: str | None = None


def card_key(clearance_id: int) -> str:
    """The tracked-post key of a clearance card (``clearance:7``); its thread finds it by this."""
    return f"{KEY_PREFIX}{clearance_id}"


def clearance_id_of(key: str | None) -> int | None:
    """The clearance request a tracked key names, or None for any other post."""
    if key is None or not key.startswith(KEY_PREFIX) or not key[len(KEY_PREFIX) :].isdigit():
        return None
    return int(key[len(KEY_PREFIX) :])


def asked(clearance: ClearanceRequest, name: str) -> str:
    """``Acme Ortho (C200) for scheduling on Tue 1 Dec 2026``."""
    when = f" on {format_day(clearance.needed_on)}" if clearance.needed_on else ""
    return f"{name} for {clearance.what}{when}"


def decision_line(ctx: AppContext, clearance: ClearanceRequest, decider: str | None) -> str:
    """``Cleared by Dana Reyes at Mon 23 Nov 2026 10:02 AM CST — paid by wire this morning``."""
    if clearance.status is ClearanceStatus.PENDING:
        return "Waiting for a decision"
    at = local_moment(ctx, clearance.decided_at) if clearance.decided_at else "an unknown time"
    word = _TITLES[clearance.status][0]
    if decider is None and clearance.decided_by_id is None:
        return f"{word} at once at {at}: {clearance.decision_reason or ''}".rstrip(": ")
    line = f"{word} by {decider or 'someone no longer on the team'} at {at}"
    return line + (f" — {clearance.decision_reason}" if clearance.decision_reason else "")


def clearance_card(ctx: AppContext, facts: CardFacts) -> Reply:
    """The card as it stands: pending (with buttons) or decided (with who, when and why)."""
    clearance, customer = facts.clearance, facts.summary.customer
    title, tone = _TITLES[clearance.status]
    pending = clearance.status is ClearanceStatus.PENDING
    account = status_reply(facts.summary, ctx, collector=facts.collector)
    why = "Not cleared at once: " + "; ".join(clearance.blockers) + "." if clearance.blockers else ""
    lead = THREAD_HINT if pending else decision_line(ctx, clearance, facts.decider)
    text = "\n".join(p for p in (lead, why, account.text) if p)
    fields = (
        Field("Asked", asked(clearance, describe(customer))),
        Field("Asked by", f"{facts.requester}, {local_moment(ctx, clearance.created_at)}"),
        Field("Urgent", "yes (needed the same day)" if clearance.urgent else "no"),
        Field("Request", f"#{clearance.id}"),
    )
    buttons = (
        (
            Button("Clear", CLEAR_ACTION, {"id": clearance.id}, ButtonStyle.PRIMARY),
            Button("Refuse", REFUSE_ACTION, {"id": clearance.id, "needs": "reason"}, ButtonStyle.DANGER),
        )
        if pending
        else ()
    )
    return Reply(
        title=f"{title}: {customer.name} for {clearance.what}",
        text=text,
        fields=fields + account.fields,
        rows=account.rows,
        buttons=buttons,
        tone=tone,
    )
