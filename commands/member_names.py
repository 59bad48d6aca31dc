"""Team members named on cards and in messages by the id a row keeps (requested_by_id,
decided_by_id, collector_id...). A member removed from the team file stays in ``team_members``,
so a missing name means a row that never had one, or a member deleted by hand."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.models import TeamMember

GONE = "someone no longer on the team"


def member_name(session: Session, member_id: int | None) -> str | None:
    """The member's name; None when there is no id or no such member. ``session.get`` answers
    from the session's identity map when the member was loaded already."""
    member = session.get(TeamMember, member_id) if member_id is not None else None
    return member.name if member is not None else None


def named(session: Session, member_id: int | None) -> str:
    """The member's name, or :data:`GONE`: for sentences that must name somebody."""
    return member_name(session, member_id) or GONE
