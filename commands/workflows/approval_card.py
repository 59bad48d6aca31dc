"""The approval card: everything an approver needs on one message (what exactly is asked, by
whom, who may decide, and the account as ``status`` shows it), with Approve / Reject buttons
while it waits, and the decision (who, when, why) once it is decided or expired.

The card is rebuilt from the ledger each time it is drawn, so an updated card shows the
account as it is at the decision, not as it was when the request was made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from commands.account_card import status_reply
from commands.accounts import AccountSummary
from commands.context import AppContext
from commands.messages import Button, ButtonStyle, Field, Reply, Row, Tone
from commands.parsing.customers import describe
from commands.parsing.dates import format_day
from commands.wording import local_moment, money
from commands.workflows.plans import from_details
from storage.models import ApprovalKind, ApprovalRequest, ApprovalStatus, Customer

HOLD_KIND = "hold_kind"  # a hold request's details: the kind of hold asked for

APPROVE_ACTION = "approval.approve"
REJECT_ACTION = "approval.reject"
THREAD_HINT = 'Decide with the buttons, or reply in this thread: "approve [because ...]" or "reject because <reason>".'
_SUBJECTS = {
    ApprovalKind.HOLD: "hold on {name}",
    ApprovalKind.RELEASE: "hold release for {name}",
    ApprovalKind.WAIVER: "fee waiver for {name}",
    ApprovalKind.PLAN: "payment plan for {name}",
    ApprovalKind.CREDIT: "credit memo for {name}",
    ApprovalKind.WRITEOFF: "write-off for {name}",
}
_DECIDED = {
    ApprovalStatus.APPROVED: ("Approved", Tone.SUCCESS),
    ApprovalStatus.REJECTED: ("Rejected", Tone.WARNING),
    ApprovalStatus.EXPIRED: ("Expired", Tone.INFO),
}


@dataclass(frozen=True)
class CardFacts:
    """What a card shows besides the request: the account, and people named by name."""

    summary: AccountSummary
    requester: str
    collector: str | None
    record: tuple[Field, ...] = ()  # the account's history, for credits and write-offs
    unapplied_credits: tuple[tuple[str, Decimal], ...] = ()  # a hold's: open credit memos, unapplied cash
    retainer: str = ""  # a release's: the retainer's shortfall, when it is short


def subject(kind: ApprovalKind, customer: Customer) -> str:
    """``hold on Acme Dental Group``: how a request is named in titles and messages."""
    return _SUBJECTS[kind].format(name=customer.name)


def asked(request: ApprovalRequest, customer: Customer) -> str:
    """What exactly the approver is agreeing to, in one sentence."""
    name, reason = describe(customer), request.reason
    if request.kind is ApprovalKind.HOLD:
        return f"Put {name} on hold: {reason}"
    if request.kind is ApprovalKind.RELEASE:
        return f"Release the hold on {name}" + (f": {reason}" if reason else "")
    if request.kind is ApprovalKind.WAIVER:
        fee = request.details["fee"]
        return f"Waive {fee} of {money(customer, asked_amount(request))} for {name}: {reason}"
    if request.kind is ApprovalKind.CREDIT:
        return f"Credit {money(customer, asked_amount(request))} on {request.details['invoice']} of {name}: {reason}"
    if request.kind is ApprovalKind.WRITEOFF:
        return f"Write off {money(customer, asked_amount(request))} of {name}'s balance: {reason}"
    details = request.details
    first = format_day(from_details(details["schedule"])[0].due)
    sentence = (
        f"Let {name} pay {money(customer, asked_amount(request))} in {details['n']} "
        f"{details['cadence']} instalments from {first}"
    )
    return sentence + (f": {reason}" if reason else "")


def pending_card(ctx: AppContext, request: ApprovalRequest, facts: CardFacts) -> Reply:
    """The card as posted: the request, the account, and the two buttons."""
    buttons = (
        Button("Approve", APPROVE_ACTION, {"id": request.id}, ButtonStyle.PRIMARY),
        Button("Reject", REJECT_ACTION, {"id": request.id, "needs": "reason"}, ButtonStyle.DANGER),
    )
    return _card(ctx, request, facts, title="Approval needed", lead=THREAD_HINT, tone=Tone.WARNING, buttons=buttons)


def decided_card(
    ctx: AppContext, request: ApprovalRequest, facts: CardFacts, *, decider: str | None, outcome: str = ""
) -> Reply:
    """The card once decided or expired: who, when and why in place of the buttons."""
    word, tone = _DECIDED[request.status]
    lead = decision_line(ctx, request, decider)
    if outcome:
        lead += f"\n{outcome}"
    return _card(ctx, request, facts, title=word, lead=lead, tone=tone, buttons=())


def decision_line(ctx: AppContext, request: ApprovalRequest, decider: str | None) -> str:
    """``Approved by Chris Wong at Mon 23 Nov 2026 10:02 — looks right``."""
    at = _when(ctx, request.decided_at)
    if request.status is ApprovalStatus.EXPIRED:
        days = ctx.team.workflow.timers.approval_expire_days
        return f"Expired at {at}: no decision after {days} business day{'s' if days != 1 else ''}."
    word = _DECIDED[request.status][0]
    line = f"{word} by {decider or 'someone no longer on the team'} at {at}"
    return line + (f" — {request.decision_reason}" if request.decision_reason else "")


def _card(
    ctx: AppContext,
    request: ApprovalRequest,
    facts: CardFacts,
    *,
    title: str,
    lead: str,
    tone: Tone,
    buttons: tuple[Button, ...],
) -> Reply:
    customer = facts.summary.customer
    account = status_reply(facts.summary, ctx, collector=facts.collector)
    fields = [Field("Asked", asked(request, customer))]
    kind = request.details.get(HOLD_KIND) if request.kind is ApprovalKind.HOLD else None
    if kind is not None:
        fields.append(Field("Hold kind", ctx.team.workflow.holds.label(str(kind))))
    if request.amount is not None:
        fields.append(Field("Amount", money(customer, asked_amount(request))))
    fields += [
        Field("Requested by", f"{facts.requester}, {local_moment(ctx, request.created_at)}"),
        Field("Who may approve", ctx.team.workflow.who_may_approve(request.kind.value, request.amount)),
        Field("Request", f"#{request.id}"),
    ]
    text = "\n".join(
        part
        for part in (lead, credits_warning(customer, facts.unapplied_credits), facts.retainer, account.text)
        if part
    )
    return Reply(
        title=f"{title}: {subject(request.kind, customer)}",
        text=text,
        fields=tuple(fields) + facts.record + account.fields,
        rows=_schedule_rows(request, customer) + account.rows,
        buttons=buttons,
        tone=tone,
    )


def credits_warning(customer: Customer, credits: tuple[tuple[str, Decimal], ...]) -> str:
    """Said before a hold is decided: money the customer already has with us (a credit memo,
    an unapplied payment) may pay what the hold is for once it is applied."""
    if not credits:
        return ""
    total = sum((amount for _, amount in credits), Decimal(0))
    items = ", ".join(f"{number} {money(customer, amount)}" for number, amount in credits)
    return (
        f"Warning: {customer.name} has {money(customer, total)} of unapplied credits ({items}). "
        "Ask finance to apply them before holding the account: what is past due may be paid already."
    )


def _schedule_rows(request: ApprovalRequest, customer: Customer) -> tuple[Row, ...]:
    if request.kind is not ApprovalKind.PLAN:
        return ()
    instalments = from_details(request.details["schedule"])
    return tuple(
        Row(f"Instalment {i.number} of {len(instalments)}: {money(customer, i.amount)} due {format_day(i.due)}")
        for i in instalments
    )


def _when(ctx: AppContext, instant: datetime | None) -> str:
    return local_moment(ctx, instant) if instant is not None else "an unknown time"


def asked_amount(request: ApprovalRequest) -> Decimal:
    """The amount of a fee waiver or payment plan: its request cannot be made without one, and
    the change it approves is that amount."""
    if request.amount is None:
        raise ValueError(f"approval request #{request.id} ({request.kind.value}) carries no amount")
    return request.amount
