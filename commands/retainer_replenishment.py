"""Replenishment requests: when a customer's retainer holds less than its requirement (checked
after each import, each confirmed payment and each change of requirement), the account's
collector is asked once to get it topped up (the collections channel when the account has no
collector). The ask is remembered on the requirement; once the retainer is met again it is
forgotten, so the next shortfall is asked about again."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.messages import Reply, Tone, Where
from commands.parsing.customers import describe
from commands.retainers import Standing, standings
from commands.wording import money, typed_name
from storage.audit import record
from storage.models import Customer, RetainerRequirement, TeamMember
from storage.row_counts import rows_changed


def replenishment_requests(
    session: Session, ctx: AppContext, *, actor: str, customer_ids: Collection[int] | None = None
) -> list[Reply]:
    """Ask for every short retainer not asked about yet (of ``customer_ids``, or of every
    customer with a requirement); forget the ask of every retainer met again."""
    now, replies = ctx.clock.now(), []
    found = standings(session, customer_ids)
    asked = set(
        session.scalars(
            select(RetainerRequirement.customer_id).where(RetainerRequirement.replenish_asked_at.is_not(None))
        )
    )
    for customer_id, retainer in sorted(found.items()):
        if not retainer.short and customer_id in asked:
            _forget(session, customer_id)
        elif retainer.short and customer_id not in asked and _mark_asked(session, customer_id, now):
            customer = session.get_one(Customer, customer_id)
            replies.append(_ask(session, ctx, customer, retainer, actor=actor, at=now))
    return replies


def _mark_asked(session: Session, customer_id: int, now: datetime) -> bool:
    """Stamp the customer's requirements as asked about; False when another writer did a moment ago."""
    return (
        rows_changed(
            session,
            update(RetainerRequirement)
            .where(RetainerRequirement.customer_id == customer_id, RetainerRequirement.replenish_asked_at.is_(None))
            .values(replenish_asked_at=now)
            .execution_options(synchronize_session=False),
        )
        > 0
    )


def _forget(session: Session, customer_id: int) -> None:
    session.execute(
        update(RetainerRequirement)
        .where(RetainerRequirement.customer_id == customer_id, RetainerRequirement.replenish_asked_at.is_not(None))
        .values(replenish_asked_at=None)
        .execution_options(synchronize_session=False)
    )


def _ask(session: Session, ctx: AppContext, customer: Customer, found: Standing, *, actor: str, at: datetime) -> Reply:
    collector = session.get(TeamMember, customer.collector_id) if customer.collector_id else None
    to = collector.email if collector is not None and collector.active and ctx.team.member(collector.email) else None
    record(
        session,
        at=at,
        actor=actor,
        action="retainer.replenishment_requested",
        entity_type="customer",
        entity_id=customer.id,
        customer_id=customer.id,
        required=found.required,
        held=found.held,
        shortfall=found.shortfall,
        to=to or f"#{ctx.team.workflow.channels.collections}",
    )
    reply = Reply(
        title=f"Retainer to replenish: {describe(customer)}",
        text=(
            f"{customer.name} holds {money(customer, found.held)} of the {money(customer, found.required)} "
            f"retainer it must hold: ask for {money(customer, found.shortfall)}. Releases and clearances wait "
            f"until it is met or an approver overrides. Type retainer {typed_name(customer)} to see it."
        ),
        tone=Tone.WARNING,
    )
    if to is not None:
        return replace(reply, to_user=to)
    return replace(reply, where=Where(ctx.team.workflow.channels.collections))
