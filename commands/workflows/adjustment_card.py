"""The finance task for an approved credit memo or write-off: what to book in the ERP, for which
invoice and account, who asked and who approved, with Done / Not doing while it is open; once
closed (by finance, or by an import that shows it) the same card says how, without buttons."""

from __future__ import annotations

from dataclasses import dataclass

from commands.context import AppContext
from commands.messages import Button, ButtonStyle, Field, Reply, Tone
from commands.parsing.customers import describe
from commands.wording import local_moment, money
from storage.models import AdjustmentStatus, AdjustmentTask, ApprovalKind, Customer

DONE_ACTION = "adjustment.done"
NOT_DOING_ACTION = "adjustment.not_doing"
KEY_PREFIX = "adjustment:"
_ASK = (
    "Press Done once it is booked in the ERP, or Not doing with the reason. It also closes by "
    "itself when an aging import shows it."
)


@dataclass(frozen=True)
class TaskFacts:
    """What the card names besides the task: the customer, the invoice and the people."""

    task: AdjustmentTask
    customer: Customer
    invoice_number: str | None
    requester: str
    approver: str
    reason: str
    closer: str | None = None


def task_key(task_id: int) -> str:
    """The tracked post of a task's card (``adjustment:4``)."""
    return f"{KEY_PREFIX}{task_id}"


def task_id_of(key: str | None) -> int | None:
    """The task a tracked-post key names, or None for any other kind of post."""
    number = (key or "").removeprefix(KEY_PREFIX)
    return int(number) if key and key.startswith(KEY_PREFIX) and number.isdigit() else None


def what_to_do(task: AdjustmentTask, customer: Customer, invoice_number: str | None) -> str:
    """``Issue a credit memo of $400.00 for INV-1001, Acme Dental`` / ``Write off $120.00 on Acme Dental``."""
    amount = money(customer, task.amount)
    if task.kind is ApprovalKind.CREDIT:
        return f"Issue a credit memo of {amount} for {invoice_number}, {customer.name}"
    return f"Write off {amount} on {customer.name}"


def closed_line(ctx: AppContext, facts: TaskFacts) -> str:
    """How the task ended, as the card and a late clicker see it."""
    task = facts.task
    when = local_moment(ctx, task.closed_at) if task.closed_at else "an unknown time"
    who = facts.closer or "finance"
    if task.status is AdjustmentStatus.DONE:
        return f"Done by {who} at {when}; set aside until an aging import shows it."
    if task.status is AdjustmentStatus.NOT_DOING:
        return (
            f"Not doing, said {who} at {when}: {task.close_note}. "
            f"{money(facts.customer, task.amount)} is back in collection."
        )
    if task.status is AdjustmentStatus.SHOWN:
        return f"Closed at {when}: an aging import shows it."
    return _ASK


def task_card(ctx: AppContext, facts: TaskFacts) -> Reply:
    """The task as it stands: open with its buttons, or closed with how."""
    task, customer = facts.task, facts.customer
    is_open = task.status is AdjustmentStatus.OPEN
    kind = "Credit memo" if task.kind is ApprovalKind.CREDIT else "Write-off"
    title = f"{kind} to book: {describe(customer)}" if is_open else f"{kind} {_closed_word(task)}: {describe(customer)}"
    fields = [
        Field("Do", what_to_do(task, customer, facts.invoice_number)),
        Field("Amount", money(customer, task.amount)),
    ]
    if facts.invoice_number:
        fields.append(Field("Invoice", facts.invoice_number))
    fields += [
        Field("Reason", facts.reason),
        Field("Requested by", facts.requester),
        Field("Approved by", f"{facts.approver}, {local_moment(ctx, task.created_at)}"),
        Field("Task", f"#{task.id}"),
    ]
    buttons = (
        (
            Button("Done", DONE_ACTION, {"id": task.id}, ButtonStyle.PRIMARY),
            Button("Not doing", NOT_DOING_ACTION, {"id": task.id, "needs": "reason"}, ButtonStyle.DANGER),
        )
        if is_open
        else ()
    )
    tone = Tone.WARNING if is_open else Tone.SUCCESS
    return Reply(title=title, text=closed_line(ctx, facts), fields=tuple(fields), buttons=buttons, tone=tone)


def _closed_word(task: AdjustmentTask) -> str:
    return {
        AdjustmentStatus.DONE: "booked",
        AdjustmentStatus.SHOWN: "in the ERP",
        AdjustmentStatus.NOT_DOING: "not booked",
    }.get(task.status, "to book")
