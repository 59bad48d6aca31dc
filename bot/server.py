"""``arbot serve``: one aiohttp server for every chat platform, plus the scheduler, in one process.

Each platform is an endpoint function that mounts its routes on the shared application and says
how it runs; adding a platform is adding one entry to :data:`ENDPOINTS`. ``GET /healthz``
answers with whether the database is reachable and each platform's mode, for a load balancer or
a container's health check.

The scheduler runs inside the event loop (APScheduler's asyncio flavour; each tick still runs on
a worker thread) and queues its posts in the outbox; the outbox's dispatcher (bot.delivery)
sends every entry through the platform it is for, so with Slack and Teams in one server each
person gets their messages where they work."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web
from sqlalchemy import text

from bot.delivery import DeliveryService
from bot.slack.settings import SlackSettings
from commands.context import AppContext
from commands.messages import Messenger

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3978  # shared with the Teams endpoint (/api/messages), Bot Framework's usual port
SLACK_PATH = "/slack/events"
HEALTH_TIMEOUT_SECONDS = 5


class Background(Protocol):
    """Work an endpoint runs after answering a request; drained before the server stops."""

    async def drain(self) -> None: ...


@dataclass(frozen=True)
class Mounted:
    """What an endpoint did: its mode (``http``, ``socket``, ``off``), the messenger it offers
    for posts nobody asked for (the scheduler's), its background work, and (when the mode alone
    does not say whether it works yet, as with Socket Mode still connecting) its live status."""

    mode: str
    messenger: Messenger | None = None
    background: Background | None = None
    status: Callable[[], str] | None = None  # the live state /healthz reports instead of the mode


@dataclass(frozen=True)
class ServerSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    dev: bool = False  # no scheduler: a laptop must not post the morning lists to real channels
    slack: SlackSettings = field(default_factory=SlackSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, host: str | None = None,
                 port: int | None = None, dev: bool = False) -> ServerSettings:
        env = os.environ if environ is None else environ
        return cls(host=host or DEFAULT_HOST, port=DEFAULT_PORT if port is None else port, dev=dev,
                   slack=SlackSettings.from_env(env))


Endpoint = Callable[[web.Application, AppContext, ServerSettings], Mounted]

MOUNTED = web.AppKey("arbot.mounted", dict[str, Mounted])
CONTEXT = web.AppKey("arbot.context", AppContext)
DELIVERY = web.AppKey("arbot.delivery", DeliveryService)


def mount_slack(app: web.Application, ctx: AppContext, settings: ServerSettings) -> Mounted:
    """Slack over HTTP at ``/slack/events``, or over Socket Mode with an app token (connected in
    the background: ``/healthz`` says ``connecting`` until the socket is open)."""
    slack = settings.slack
    if slack.mode == "off":
        return Mounted("off")
    from bot.slack.app import build_app, build_runtime, http_handler, socket_mode

    runtime = build_runtime(ctx, slack)
    bolt = build_app(slack, runtime)
    if slack.mode == "http":
        app.router.add_post(SLACK_PATH, http_handler(bolt, slack.signing_secret))
        return Mounted(slack.mode, runtime.messenger, runtime)
    connection = socket_mode(bolt, slack.app_token)
    app.cleanup_ctx.append(connection.cleanup_context)
    return Mounted(slack.mode, runtime.messenger, runtime, status=connection.status)


def mount_teams(app: web.Application, ctx: AppContext, settings: ServerSettings) -> Mounted:
    """Teams at ``/api/messages`` when ``MICROSOFT_APP_ID`` is set, or with ``--dev`` (docs/teams.md).
    botbuilder is imported only when Teams is served, so a Slack-only deployment never loads it."""
    from bot.teams.settings import teams_settings_of

    if not teams_settings_of(settings).served:
        return Mounted("off")
    from bot.teams.web import mount

    return mount(app, ctx, settings)


# One line per platform.
ENDPOINTS: dict[str, Endpoint] = {"slack": mount_slack, "teams": mount_teams}


def build_web_app(ctx: AppContext, settings: ServerSettings, *,
                  endpoints: Mapping[str, Endpoint] | None = None) -> web.Application:
    """The application with ``/healthz`` and every endpoint mounted; no scheduler (see
    :func:`serve`). Background work is drained on shutdown, so nothing half-sent is cut off."""
    app = web.Application()
    app[CONTEXT] = ctx
    app[MOUNTED] = {name: mount(app, ctx, settings) for name, mount in (endpoints or ENDPOINTS).items()}
    senders = {name: m.messenger for name, m in app[MOUNTED].items() if m.messenger is not None}
    # The context is this server's: from here on the core queues for the platforms it serves.
    ctx.platforms = tuple(senders) or ("terminal",)
    delivery = DeliveryService(ctx, senders)
    ctx.on_enqueued = delivery.kick
    app[DELIVERY] = delivery
    app.router.add_get("/healthz", healthz)
    app.on_shutdown.append(_drain)
    if senders:
        app.cleanup_ctx.append(delivery.cleanup_context)
    return app


async def healthz(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    try:
        reachable = await asyncio.wait_for(asyncio.to_thread(_database_answers, ctx), HEALTH_TIMEOUT_SECONDS)
    except Exception:  # any failure to answer SELECT 1 means "not reachable", which is the report
        log.exception("health check: database not reachable")
        reachable = False
    body: dict[str, object] = {"ok": reachable, "database": "reachable" if reachable else "unreachable"}
    body.update({name: _live_mode(mounted) for name, mounted in request.app[MOUNTED].items()})
    return web.json_response(body, status=200 if reachable else 503)


def _live_mode(mounted: Mounted) -> str:
    """What an endpoint is doing now: its status when it has one (Socket Mode: ``connecting`` or
    ``socket``), else the mode it was mounted in."""
    return mounted.status() if mounted.status is not None else mounted.mode


def _database_answers(ctx: AppContext) -> bool:
    with ctx.sessions() as session:
        return session.execute(text("SELECT 1")).scalar() == 1


async def _drain(app: web.Application) -> None:
    for mounted in app[MOUNTED].values():
        if mounted.background is not None:
            await mounted.background.drain()


def with_scheduler(app: web.Application, ctx: AppContext) -> None:
    """Start the scheduler once the endpoints are up, and stop it before they close. Without a
    platform to post on there is nobody to tell: the scheduler does not run (``arbot scheduler
    --once`` previews the morning instead)."""
    from scheduler.service import build_scheduler

    if not any(m.messenger is not None for m in app[MOUNTED].values()):
        log.warning("no chat platform configured: the scheduler does not run in this server")
        return

    async def run(web_app: web.Application) -> AsyncIterator[None]:
        scheduler = build_scheduler(ctx, background=False)
        scheduler.start()
        yield
        scheduler.shutdown(wait=False)

    app.cleanup_ctx.append(run)


def serve(ctx: AppContext, settings: ServerSettings) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM)."""
    app = build_web_app(ctx, settings)
    if not settings.dev:
        with_scheduler(app, ctx)
    web.run_app(app, host=settings.host, port=settings.port, print=None,
                access_log=log if settings.dev else None)
