"""One call-list line and one set of account buttons, wherever an account is offered for action
(the `list` command, the morning message, a broken promise, the finals-day list), so a line is
acted on the same way everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.messages import Button, ButtonStyle, Field, Row
from commands.parsing.amounts import format_money

if TYPE_CHECKING:
    from commands.calllist import CallListRow


def account_buttons(erp_id: str, *, paid: bool = True) -> tuple[Button, ...]:
    """Log call, Promise and (unless the moment is not about money received) Paid."""
    value = {"customer": erp_id}
    buttons = (Button("Log call", "log_call", value, ButtonStyle.PRIMARY), Button("Promise", "promise", value))
    return buttons + (Button("Paid", "paid", value),) if paid else buttons


def call_row(line: CallListRow, currency: str, *, email: bool = False) -> Row:
    """A ranked account: name and id, the reasons it is on the list, balance and days past due.
    ``email``: today's calls reached nobody, so the line offers the follow-up email too."""
    fields = [Field("Balance", format_money(line.balance_due, currency))]
    if line.days_past_due:
        fields.append(Field("Days past due", str(line.days_past_due)))
    return Row(
        title=f"{line.customer_name} ({line.erp_id})",
        detail="; ".join(line.reasons),
        fields=tuple(fields),
        buttons=account_buttons(line.erp_id) + (email_button(line.erp_id) if email else ()),
    )


def email_button(erp_id: str) -> tuple[Button, ...]:
    """Email: opens the drafted follow-up (commands.handlers.email_cmd)."""
    return (Button("Email", "email", {"customer": erp_id}),)
