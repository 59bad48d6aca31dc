"""Where an account stands in the suspension sequence, as the status card shows it: the next
step and its due business day, each step done and the activity (or request) that did it, or
"not in sequence". A collector looks before dialling to know which step the call is."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.messages import Field, Row
from commands.parsing.dates import format_day
from commands.suspension.sequence import active_sequence
from commands.suspension.steps import step_words
from commands.wording import local_moment
from storage.models import Activity, SuspensionSequence, TeamMember

NOT_IN_SEQUENCE = "not in sequence"


def suspension_position(session: Session, ctx: AppContext, customer_id: int) -> tuple[Field, list[Row]]:
    """The card's "Suspension" field and one row per step done, oldest first."""
    sequence = active_sequence(session, customer_id)
    if sequence is None:
        return Field("Suspension", NOT_IN_SEQUENCE), []
    return Field("Suspension", _next(sequence, ctx)), _done_rows(session, ctx, sequence)


def _next(sequence: SuspensionSequence, ctx: AppContext) -> str:
    """``step 2 of 5, email, due Wed 25 Nov 2026``; once every step is done, the request."""
    words = step_words(sequence, ctx.team, ctx.today())
    if words is not None:
        return words.removeprefix("suspension ")
    request = f": request #{sequence.request_id}" if sequence.request_id else ""
    return f"every step done since {format_day(sequence.entered_on)}{request}"


def _done_rows(session: Session, ctx: AppContext, sequence: SuspensionSequence) -> list[Row]:
    done = [(number, step) for number, step in enumerate(sequence.steps, 1) if step["done_on"]]
    activity_ids = [int(by["activity"]) for _, s in done if isinstance(by := s["done_by"], dict) and "activity" in by]
    activities = _activities(session, activity_ids)
    rows = []
    for number, step in done:
        when = format_day(date.fromisoformat(str(step["done_on"])))
        title = f"Suspension step {number} of {len(sequence.steps)} done {when}: {step['name']}"
        rows.append(Row(title, detail=_done_by(ctx, step["done_by"], activities)))
    return rows


def _done_by(ctx: AppContext, by: object, activities: dict[int, tuple[Activity, str | None]]) -> str:
    """``by the voicemail Dana Reyes logged Mon 23 Nov 2026 9:00 AM CST`` or ``by request #4``."""
    if not isinstance(by, dict):
        return ""
    if "request" in by:
        return f"by request #{by['request']}"
    found = activities.get(int(by.get("activity", 0)))
    if found is None:
        return f"by activity #{by.get('activity')}"
    activity, who = found
    logged = f" {who}" if who else ""
    return f"by the {activity.kind.value}{logged} logged {local_moment(ctx, activity.occurred_at)}"


def _activities(session: Session, ids: list[int]) -> dict[int, tuple[Activity, str | None]]:
    """Activity id -> (activity, who logged it), in one query."""
    if not ids:
        return {}
    rows = session.execute(
        select(Activity, TeamMember.name)
        .outerjoin(TeamMember, TeamMember.id == Activity.member_id)
        .where(Activity.id.in_(ids))
    )
    return {activity.id: (activity, name) for activity, name in rows}
