"""The rule promises to pay and payment-plan instalments share: when an unpaid commitment is broken
(see :mod:`commands.promise_checks` for the rule in words and an example), who the system acts as,
and who to tell.

Every state change made under it is a conditional UPDATE on the current status, so the checks can
run every quarter hour, from several schedulers at once, and change each row exactly once."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.calendar import BusinessCalendar
from commands.context import AppContext
from storage.models import TeamMember

SYSTEM_ACTOR = "system:promise_checks"


def broken_from(due: date, *, calendar: BusinessCalendar, grace_days: int) -> date:
    """The first day on which a commitment due on ``due`` and still unpaid is broken: the
    business day after its deadline (see the module)."""
    return calendar.add_business_days(due, grace_days + 1)


def reachable_email(session: Session, ctx: AppContext, member_id: int | None) -> str | None:
    """The email of a member still in the team file, so a direct message reaches someone who
    acts on it; None for nobody, or for someone who has left (their messages go to a channel)."""
    if member_id is None:
        return None
    email = session.scalar(select(TeamMember.email).where(TeamMember.id == member_id, TeamMember.active))
    return email if email is not None and ctx.team.member(email) is not None else None
