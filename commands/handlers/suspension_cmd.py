"""``suspension [list]``: the accounts in the suspension sequence, their next step and its due
day (a private answer). ``suspension stop <customer> <reason>``: a manager takes an account out
of the sequence; it does not enter again until it is no longer over the threshold."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.approval_rules import role_names
from commands.context import AppContext
from commands.handlers.hold_cmd import read_customer_and_text
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.messages import Reply, Tone
from commands.parsing.customers import describe
from commands.refusal import Refusal
from commands.suspension.report import in_sequence, rows, summary
from commands.suspension.sequence import active_sequence, end
from commands.suspension.steps import next_step
from storage.models import Customer
from storage.models.suspension import STOPPED

USAGE = "suspension [list] | suspension stop <customer> <reason>"
STOPPERS = frozenset({"manager", "controller", "vp_finance"})


@dataclass(frozen=True)
class ListAsk:
    pass


@dataclass(frozen=True)
class StopAsk:
    customer: Customer
    reason: str


def parse(args: str, env: ParseEnv) -> ListAsk | StopAsk | Refusal:
    word, _, rest = args.strip().partition(" ")
    if word.lower() in ("", "list"):
        return ListAsk() if not rest.strip() else Refusal("`suspension list` takes nothing after it")
    if word.lower() != "stop":
        return Refusal(f"say `suspension list` or `suspension stop <customer> <reason>`, not `suspension {word}`")
    read = read_customer_and_text(env, rest)
    if isinstance(read, Refusal):
        return read
    if not read.text:
        return Refusal("say why the sequence stops, after the customer", f"customer {describe(read.customer)}")
    return StopAsk(read.customer, read.text)


def handle(request: ListAsk | StopAsk, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
    day = ctx.today()
    if isinstance(request, ListAsk):
        lines = in_sequence(session, ctx, day)
        return [Reply(title="Suspension sequence", text=summary(lines, day), rows=rows(lines, day), private=True)]
    customer, understood = request.customer, f"customer {describe(request.customer)}"
    if not actor.member.roles & STOPPERS:
        return Refusal(f"only {role_names(set(STOPPERS))} can stop a suspension sequence", understood)
    sequence = active_sequence(session, customer.id)
    if sequence is None:
        return Refusal(f"{describe(customer)} is not in the suspension sequence", understood)
    step = next_step(sequence)
    end(session, ctx, sequence, reason=STOPPED, actor=actor.email, note=request.reason)
    at = f" at step {step.number} of {step.of} ({step.name})" if step is not None else ""
    return [
        Reply(
            title=f"Suspension sequence stopped for {describe(customer)}",
            tone=Tone.SUCCESS,
            text=(
                f"Stopped{at}: {request.reason}. It does not start again until the account is no "
                f"longer over {ctx.team.workflow.suspension.threshold_days} days past due."
            ),
        )
    ]


COMMAND: Command[ListAsk | StopAsk] = Command(
    name="suspension",
    usage=USAGE,
    parse=parse,
    handle=handle,
    summary=(
        "The accounts in the suspension sequence with their next step and its due day; a manager "
        "can stop an account's sequence."
    ),
    examples=("suspension", "suspension stop acme dental paying weekly, agreed with the CFO"),
    try_it="suspension stop <customer> paying weekly, agreed with the CFO",
)


def register(registry: Registry) -> None:
    registry.add(COMMAND)
