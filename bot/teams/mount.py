"""Teams on the shared server (bot.platforms): ``/api/messages`` when ``MICROSOFT_APP_ID`` is set,
or with ``--dev`` (docs/teams.md). botbuilder is imported only when Teams is served, so a
Slack-only deployment never loads it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.platforms import Mounted
from bot.teams.settings import teams_settings_of

if TYPE_CHECKING:
    from aiohttp import web

    from commands.context import AppContext


def mount(app: web.Application, ctx: AppContext, settings: Any) -> Mounted:
    """Teams mounted, with the mode ``/healthz`` reports (``http``, ``dev (authentication OFF)``
    or ``off``) and the messenger the outbox sends through."""
    if not teams_settings_of(settings).served:
        return Mounted("off")
    from bot.teams.web import add_routes

    teams = add_routes(app, ctx, settings)
    if teams is None:
        return Mounted("off")
    mode = "dev (authentication OFF)" if teams.settings.auth_disabled else "http"
    return Mounted(mode, teams.messenger)
