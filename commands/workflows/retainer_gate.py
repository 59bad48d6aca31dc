"""The retainer gate: a hold release or a clearance is not approved while the customer's retainer
holds less than its requirement (:mod:`commands.retainers`), unless the approver overrides it
with a reason: ``approve override <reason>`` / ``clear override <reason>`` in the card's thread
(or a reason that starts with "override", as in ``approve because override: CFO agreed``).

An override is audited and said on the decided card; a refused approval is audited by the
workflow that asked, and changes nothing else."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from commands import messages
from commands.actor import Actor
from commands.context import AppContext
from commands.messages import Reply
from commands.retainers import Standing, standing
from commands.wording import money
from storage.audit import record
from storage.models import Customer

# "override", "override retainer", "override the retainer because", then the reason.
_OVERRIDE = re.compile(
    r"^\s*override\b(?:\s+(?:the\s+)?retainer\b)?(?:\s*because\b)?[\s:,;.\-\u2013\u2014]*", re.IGNORECASE
)
# "approve override ..." / "clear override ..." as typed in a card's thread.
TYPED_OVERRIDE = re.compile(r"^\s*(?:approved?|clear(?:ed)?)\s*[,:]?\s+(?=override\b)", re.IGNORECASE)


@dataclass(frozen=True)
class Passed:
    """The gate let the approval through; ``override`` is the approver's reason when the
    retainer was short."""

    standing: Standing | None
    override: str | None = None

    def line(self, customer: Customer, who: str) -> str:
        """What the decided card says about the retainer ("" when it was met or not required)."""
        if self.override is None or self.standing is None:
            return ""
        return f"Retainer short by {money(customer, self.standing.shortfall)}: overridden by {who} ({self.override})."


def override_of(reason: str | None) -> str | None:
    """The reason after "override" ("" when none was given), or None when it is no override."""
    if not reason:
        return None
    lead = _OVERRIDE.match(reason)
    if lead is None:
        return None
    return reason[lead.end() :].strip()


def short_line(customer: Customer, found: Standing) -> str:
    """``retainer short by $3,000.00 (holds $2,000.00 of $5,000.00)``."""
    return (
        f"retainer short by {money(customer, found.shortfall)} "
        f"(holds {money(customer, found.held)} of {money(customer, found.required)})"
    )


def closed(session: Session, customer: Customer) -> Standing | None:
    """The customer's retainer when it keeps the gate shut (a requirement, and less held than
    it), else None. Every release path asks here: an approver's (:func:`check`) and the one a
    confirmed payment makes by itself, which has nobody to override and so just waits."""
    return _shut(standing(session, customer.id))


def _shut(found: Standing | None) -> Standing | None:
    return found if found is not None and found.short else None


def check(session: Session, customer: Customer, *, reason: str | None, what: str, typed: str) -> Passed | Reply:
    """Let an approval of ``what`` through, or say why not (an error reply). ``typed`` is how
    to override in words ("approve override <reason>")."""
    met = standing(session, customer.id)
    found = _shut(met)
    if found is None:
        return Passed(met)
    why = override_of(reason)
    if why:
        return Passed(found, why)
    if why == "":
        return messages.error(
            "Say why you override the retainer",
            f"{customer.name}'s {short_line(customer, found)}. Write: {typed}. Nothing was changed.",
        )
    return messages.error(
        f"{customer.name}'s retainer is short by {money(customer, found.shortfall)}",
        (
            f"It holds {money(customer, found.held)} of the {money(customer, found.required)} required, so the "
            f"{what} waits until it is paid. To go ahead anyway, reply in the card's thread: {typed}. "
            "Nothing was changed."
        ),
    )


def record_override(
    session: Session,
    ctx: AppContext,
    passed: Passed,
    *,
    customer: Customer,
    actor: Actor,
    entity_type: str,
    entity_id: int,
) -> None:
    """The override's audit event, in the decision's transaction."""
    if passed.override is None or passed.standing is None:
        return
    found = passed.standing
    record(
        session,
        at=ctx.clock.now(),
        actor=actor.email,
        action="retainer.overridden",
        entity_type=entity_type,
        entity_id=entity_id,
        customer_id=customer.id,
        reason=passed.override,
        required=found.required,
        held=found.held,
        shortfall=found.shortfall,
    )
