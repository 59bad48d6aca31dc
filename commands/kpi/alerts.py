"""The alert when a figure crosses its target (:mod:`commands.targets`).

After every import (new receivables) and every payment finance confirms (promises kept), the
figures for the last :data:`WINDOW_DAYS` days are worked out again and compared with the targets;
the collections channel is told when a figure goes past its target and when it comes back, once
each way (the side each target was last seen on is kept in ``target_states``), never on every
import while it stays past. A target seen for the first time already met says nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.kpi.report import Period, figures, kpi_report
from commands.messages import Reply, Where
from commands.parsing.amounts import format_money
from commands.targets import Target
from storage.models import TargetState

WINDOW_DAYS = 30


def check_targets(ctx: AppContext, session: Session, day: date) -> list[Reply]:
    """Compare the last 30 days' figures ending ``day`` with the targets; the messages for the
    ones that crossed since they were last checked (their new side is stored in ``session``)."""
    targets = ctx.team.targets
    if not targets:
        return []
    report = kpi_report(ctx, session, Period(day - timedelta(days=WINDOW_DAYS - 1), day))
    values = figures(report)
    states = {s.key: s for s in session.scalars(select(TargetState))}
    lines = []
    for target in targets:
        value = values.get(target.kind.figure)
        if value is None:
            continue
        missed = target.missed_by(value)
        state = states.get(target.key)
        if state is None:
            state = TargetState(key=target.key, missed=False)
            session.add(state)
        if missed != state.missed:
            lines.append(_line(target, value, missed))
        state.missed, state.value, state.checked_on = missed, str(value), day
    if not lines:
        return []
    return [
        Reply(
            title=f"Targets, last {WINDOW_DAYS} days to {day:%-d %b %Y}",
            text="\n".join(lines),
            where=Where(ctx.team.workflow.channels.collections),
        )
    ]


def say(value: Decimal, unit: str, *, as_given: bool = False) -> str:
    """A figure to one decimal, or a limit as the team file gives it ("35 days", "$2,000,000.00")."""
    if unit == "money":
        return format_money(value, "USD")
    shown = format(value.normalize(), "f") if as_given else value.quantize(Decimal("0.1"))
    return f"{shown}%" if unit == "percent" else f"{shown} days"


def _line(target: Target, value: Decimal, missed: bool) -> str:
    kind = target.kind
    now, limit = say(value, kind.unit), say(target.limit, kind.unit, as_given=True)
    if missed:
        side = "above the target of" if kind.ceiling else "below the target of"
        return f"{kind.label} is {now}, {side} {limit}."
    side = "back under" if kind.ceiling else "back at or above"
    return f"{kind.label} is {side} its target: {now} (target {limit})."
