"""Slack on the shared server (bot.platforms): over HTTP at :data:`SLACK_PATH`, or over Socket
Mode with an app token (connected in the background: ``/healthz`` says ``connecting`` until the
socket is open). Bolt and the Slack SDK are imported only when Slack is configured."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.platforms import FrontFactory, Mounted
from bot.slack.settings import SlackSettings

if TYPE_CHECKING:
    from aiohttp import web

    from commands.context import AppContext

SLACK_PATH = "/slack/events"


def settings_of(settings: Any) -> SlackSettings:
    """The Slack part of the server's settings: ``.slack`` when it carries one, else the
    environment."""
    nested = getattr(settings, "slack", None)
    return nested if isinstance(nested, SlackSettings) else SlackSettings.from_env()


def mount(app: web.Application, ctx: AppContext, settings: Any) -> Mounted:
    slack = settings_of(settings)
    if slack.mode == "off":
        return Mounted("off")
    from bot.slack.app import build_app, build_runtime, http_handler, socket_mode

    runtime = build_runtime(ctx, slack)
    bolt = build_app(slack, runtime)
    if slack.mode == "http":
        app.router.add_post(SLACK_PATH, http_handler(bolt, slack.signing_secret))
        return Mounted(slack.mode, runtime.messenger, runtime, front=_front(slack))
    connection = socket_mode(bolt, slack.app_token)
    app.cleanup_ctx.append(connection.cleanup_context)
    return Mounted(slack.mode, runtime.messenger, runtime, status=connection.status)


def _front(slack: SlackSettings) -> FrontFactory | None:
    """The acknowledging front (bot.slack.front) unless ``ARBOT_SLACK_FRONT=off``."""
    if not slack.front:
        return None
    from bot.slack.front_process import FrontProcess

    def front(host: str, port: int, socket_path: str) -> FrontProcess:
        return FrontProcess(host, port, socket_path, slack.signing_secret)

    return front
