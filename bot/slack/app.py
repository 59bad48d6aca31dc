"""The Bolt app: one ``AsyncApp`` with every listener, served over HTTP at ``/slack/events`` by
the shared aiohttp server or over Socket Mode.

``process_before_response`` is on, and every listener acknowledges first and hands its work to
the runtime: the HTTP answer then leaves as soon as the listener returns. (With it off, Bolt
runs the listener as a task and polls for the acknowledgement every 10 ms, which puts a 10 ms
floor under every answer.) Request verification stays on: a request whose signature, body or
timestamp (more than 5 minutes off) does not check out is refused with 401 before any listener
sees it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler, AsyncRateLimitErrorRetryHandler, AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import actions, events, home, slash, views
from bot.slack.home import publish_home
from bot.slack.identity import SlackIdentity
from bot.slack.messenger import SlackMessenger, web_client
from bot.slack.runtime import SlackRuntime
from bot.slack.settings import SlackSettings
from commands.context import AppContext

log = logging.getLogger(__name__)

REGISTRARS = (slash.register, actions.register, views.register, events.register, home.register)


def async_web_client(settings: SlackSettings) -> AsyncWebClient:
    """Bolt's client (``auth.test``, ``views.open``), with the same retries as the sync one."""
    return AsyncWebClient(token=settings.bot_token, base_url=settings.api_url,
                          retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1),
                                          AsyncRateLimitErrorRetryHandler(max_retry_count=3),
                                          AsyncServerErrorRetryHandler(max_retry_count=2)])


def build_runtime(ctx: AppContext, settings: SlackSettings) -> SlackRuntime:
    client = web_client(settings)
    messenger = SlackMessenger(client, SlackIdentity(client, ctx))
    return SlackRuntime(ctx, messenger, on_home_action=publish_home)


def build_app(settings: SlackSettings, runtime: SlackRuntime) -> AsyncApp:
    app = AsyncApp(name="arbot", client=async_web_client(settings), signing_secret=settings.signing_secret,
                   request_verification_enabled=True, process_before_response=True)
    for register in REGISTRARS:
        register(app, runtime)
    return app


def http_handler(app: AsyncApp) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler for ``POST /slack/events``."""
    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))
    return slack_events


def socket_mode(app: AsyncApp, app_token: str) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context holding the Socket Mode connection while the server runs."""
    async def connection(_web_app: web.Application) -> AsyncIterator[None]:
        handler = AsyncSocketModeHandler(app, app_token)
        await handler.connect_async()
        log.info("connected to Slack over Socket Mode")
        yield
        await handler.close_async()
    return connection
