"""Composition root: one engine per process, the team, the calendar and the clock, wired into
an :class:`AppContext` the use cases receive."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.settings import Settings
from commands.calendar import BusinessCalendar
from commands.clock import Clock, SystemClock
from commands.context import AppContext
from commands.team import load_team, sync_members
from storage.db import make_engine, make_session_factory


def build_context(settings: Settings, *, clock: Clock | None = None, engine: Engine | None = None) -> AppContext:
    engine = engine or make_engine(settings.database_url)
    team = load_team(settings.team_file)
    return AppContext(
        sessions=make_session_factory(engine),
        team=team,
        calendar=BusinessCalendar(team.country, team.subdivision),
        clock=clock or SystemClock(),
        policy_file=settings.policy_file,
        mail=settings.mail,
        team_folder=settings.team_file.resolve().parent,
    )


def sync_team(ctx: AppContext) -> None:
    """Mirror the team file into the database (members, roles)."""
    with ctx.sessions.begin() as session:
        sync_members(session, ctx.team)
