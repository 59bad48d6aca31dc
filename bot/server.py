"""``arbot serve``: one aiohttp server for every chat platform, plus the scheduler, in one process.

Each platform package mounts itself (its ``mount`` module, found through the registry in
bot.platforms and imported only when the server is built), so this module imports no platform
code and no platform imports it; adding a platform is adding one line there. ``GET /healthz``
answers with whether the database is reachable and each platform's mode, for a load balancer or
a container's health check.

The scheduler runs inside the event loop (APScheduler's asyncio flavour; each tick still runs on
a worker thread) and queues its posts in the outbox; the outbox's dispatcher (bot.delivery)
sends every entry through the platform it is for, so with Slack and Teams in one server each
person gets their messages where they work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy import text

from bot import platforms
from bot.delivery import DeliveryService
from bot.mail_delivery import MailService
from bot.platforms import Background, FrontFactory, Mount, Mounted
from commands.context import AppContext

if TYPE_CHECKING:
    from bot.slack.settings import SlackSettings

__all__ = ["Background", "Mounted", "ServerSettings", "build_web_app", "listening", "serve", "tuned", "with_scheduler"]

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3978  # shared with the Teams endpoint (/api/messages), Bot Framework's usual port
HEALTH_TIMEOUT_SECONDS = 5


def _slack_off() -> SlackSettings:
    from bot.slack.settings import SlackSettings

    return SlackSettings()


@dataclass(frozen=True)
class ServerSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    dev: bool = False  # no scheduler: a laptop must not post the morning lists to real channels
    slack: SlackSettings = field(default_factory=_slack_off)  # Slack off unless given

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        dev: bool = False,
    ) -> ServerSettings:
        from bot.slack.settings import SlackSettings

        env = os.environ if environ is None else environ
        return cls(
            host=host or DEFAULT_HOST,
            port=DEFAULT_PORT if port is None else port,
            dev=dev,
            slack=SlackSettings.from_env(env),
        )


Endpoint = Mount  # what each platform package's ``mount`` is

MOUNTED = web.AppKey("arbot.mounted", dict[str, Mounted])
CONTEXT = web.AppKey("arbot.context", AppContext)
DELIVERY = web.AppKey("arbot.delivery", DeliveryService)


def build_web_app(
    ctx: AppContext, settings: ServerSettings, *, endpoints: Mapping[str, Endpoint] | None = None
) -> web.Application:
    """The application with ``/healthz`` and every endpoint mounted; no scheduler (see
    :func:`serve`). Background work is drained on shutdown, so nothing half-sent is cut off."""
    app = web.Application()
    app[CONTEXT] = ctx
    app[MOUNTED] = {name: mount(app, ctx, settings) for name, mount in (endpoints or platforms.endpoints()).items()}
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
    if ctx.mail is not None:
        app.cleanup_ctx.append(MailService(ctx, ctx.mail).cleanup_context)
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


def tuned(app: web.Application) -> web.Application:
    """The server's worker pool and garbage collector (bot.tuning), set when it starts."""
    from bot.tuning import Tuning

    app.on_startup.append(Tuning.from_env().on_startup)
    return app


def serve(ctx: AppContext, settings: ServerSettings) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM). When a platform puts a front on the public port
    (Slack over HTTP does, bot.slack.front), the server listens behind it (:func:`listening`)."""
    app = build_web_app(ctx, settings)
    tuned(app)
    if not settings.dev:
        with_scheduler(app, ctx)
    access_log = log if settings.dev else None
    if not _fronts(app):
        web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=access_log)
        return
    asyncio.run(_until_stopped(app, settings.host, settings.port, access_log))


def _fronts(app: web.Application) -> list[FrontFactory]:
    return [m.front for m in app.get(MOUNTED, {}).values() if m.front is not None]


async def _until_stopped(app: web.Application, host: str, port: int, access_log: logging.Logger | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    async with listening(app, host, port, access_log=access_log):
        await stop.wait()


@contextlib.asynccontextmanager
async def listening(
    app: web.Application, host: str, port: int, *, access_log: logging.Logger | None = None
) -> AsyncIterator[int]:
    """``app`` served as ``arbot serve`` serves it while the block runs; gives the public port.

    With a platform's front (bot.platforms.Front) the front owns ``host:port`` and the server
    listens on a Unix socket in a private folder, gone afterwards; without, the server listens
    on ``host:port`` itself. Stopping goes front first: it stops listening and hands what it
    acknowledged to the server, which then stops (draining its background work)."""
    runner = web.AppRunner(app, access_log=access_log, handle_signals=False)
    await runner.setup()
    try:
        fronts = _fronts(app)
        if not fronts:
            await web.TCPSite(runner, host, port).start()
            yield int(runner.addresses[0][1])
            return
        with tempfile.TemporaryDirectory(prefix="arbot-") as folder:
            socket_path = os.path.join(folder, "server.sock")
            await web.UnixSite(runner, socket_path).start()
            front = fronts[0](host, port, socket_path)
            async with front.running():
                yield front.port
    finally:
        await runner.cleanup()
