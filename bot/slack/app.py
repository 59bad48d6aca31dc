"""The Bolt app: one ``AsyncApp`` with every listener, served over HTTP at ``/slack/events`` by
the shared aiohttp server or over Socket Mode.

``process_before_response`` is on, and every listener acknowledges first and hands its work to
the runtime: the HTTP answer then leaves as soon as the listener returns. (With it off, Bolt
runs the listener as a task and polls for the acknowledgement every 10 ms, which puts a 10 ms
floor under every answer.) Request verification stays on: a request whose signature, body or
timestamp (more than 5 minutes off) does not check out is refused with 401 before any listener
sees it.

In front of Bolt, :func:`http_handler` checks the same signature on the raw bytes first: Bolt
parses the body, and reads the timestamp as a number, before it verifies anything, so a stranger's
non-numeric timestamp or non-JSON body would otherwise end in a 500 and a traceback rather than
a plain 401.

Socket Mode connects in the background (:class:`SocketConnection`), so the rest of the server
(``/healthz``, Teams, the scheduler) serves while Slack cannot be reached."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import actions, events, home, slash, views
from bot.slack.home import publish_home
from bot.slack.identity import SlackIdentity
from bot.slack.messenger import SlackMessenger, web_client
from bot.slack.runtime import SlackRuntime
from bot.slack.settings import SlackSettings
from bot.slack.signature import REFUSED_BODY, signature_problem
from commands.context import AppContext

log = logging.getLogger(__name__)

REGISTRARS = (slash.register, actions.register, views.register, events.register, home.register)


def async_web_client(settings: SlackSettings) -> AsyncWebClient:
    """Bolt's client (``auth.test``, ``views.open``), with the same retries as the sync one."""
    return AsyncWebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_runtime(ctx: AppContext, settings: SlackSettings) -> SlackRuntime:
    client = web_client(settings, outbox=True)
    messenger = SlackMessenger(client, SlackIdentity(client, ctx))
    return SlackRuntime(ctx, messenger, on_home_action=publish_home)


def build_app(settings: SlackSettings, runtime: SlackRuntime) -> AsyncApp:
    app = AsyncApp(
        name="arbot",
        client=async_web_client(settings),
        signing_secret=settings.signing_secret,
        request_verification_enabled=True,
        process_before_response=True,
    )
    for register in REGISTRARS:
        register(app, runtime)
    return app


def http_handler(
    app: AsyncApp, signing_secret: str | None = None, *, clock: Callable[[], float] = time.time
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler for ``POST /slack/events``: the signature checked on the raw bytes,
    then Bolt. Without ``signing_secret``, Bolt alone (a bare Bolt app, as the benchmark's
    baseline is)."""
    secret = signing_secret.encode() if signing_secret is not None else None

    async def slack_events(request: web.Request) -> web.Response:
        body = await request.read()
        problem = None if secret is None else signature_problem(secret, body, request.headers, now=clock())
        if problem is not None:
            log.warning("refused a Slack request to %s from %s: %s", request.path, request.remote, problem)
            return web.json_response(REFUSED_BODY, status=401)
        try:
            bolt_request = AsyncBoltRequest(body=body.decode(), query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
        except ValueError as exc:  # signed, yet not UTF-8 / not JSON: only a broken sender does this
            log.warning("a signed Slack request to %s has a body that cannot be read: %s", request.path, exc)
            return web.json_response({"error": "unreadable body"}, status=400)
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    return slack_events


class SocketConnection:
    """The Socket Mode connection, opened in the background so that the server starts (and
    ``/healthz``, Teams and the scheduler serve) while Slack cannot be reached.

    An attempt asks Slack for a socket address (``apps.connections.open``) and opens it; a failed
    attempt is logged on one line and tried again after 1 s, 2 s, 4 s ... up to a minute. Left
    alone, the SDK retries a socket that will not open every 10 s, on the same address for ever;
    so an attempt not finished in ``socket_timeout`` seconds is abandoned and the next one starts
    with a fresh address. Once open, the SDK keeps the socket open (it reconnects by itself);
    :meth:`status` says ``socket`` while it is, ``connecting`` otherwise."""

    def __init__(
        self,
        app: AsyncApp,
        app_token: str,
        *,
        first_delay: float = 1.0,
        max_delay: float = 60.0,
        socket_timeout: float = 30.0,
    ) -> None:
        self.app = app
        self.app_token = app_token
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.socket_timeout = socket_timeout
        self.attempts = 0
        self._handler: AsyncSocketModeHandler | None = None
        self._task: asyncio.Task[None] | None = None

    def status(self) -> str:
        """``socket`` while a session is open and not stale, else ``connecting``."""
        client = self._handler.client if self._handler is not None else None
        session = client.current_session if client is not None else None
        if client is None or session is None or session.closed or client.stale or client.closed:
            return "connecting"
        return "socket"

    async def cleanup_context(self, _web_app: web.Application) -> AsyncIterator[None]:
        """For ``app.cleanup_ctx``: start connecting without waiting for it; stop on shutdown."""
        self._task = asyncio.create_task(self._connect(), name="slack-socket-mode")
        yield
        await self.stop()

    async def stop(self) -> None:
        """Cancel an attempt still under way, then close the socket and the SDK's session."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._handler is not None:
            await self._handler.close_async()

    async def _connect(self) -> None:
        self._handler = AsyncSocketModeHandler(self.app, self.app_token)
        delay = self.first_delay
        while True:
            self.attempts += 1
            try:
                await self._attempt(self._handler.client)
                break
            except Exception as exc:  # network, HTTP, Slack API error or timeout: all mean "not yet"
                log.warning(
                    "could not reach Slack for Socket Mode (attempt %d: %s); retrying in %g s",
                    self.attempts,
                    _failure(exc),
                    delay,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_delay)
        # After warnings, say at the same level that they are over.
        log.log(
            logging.WARNING if self.attempts > 1 else logging.INFO,
            "connected to Slack over Socket Mode after %d attempt(s)",
            self.attempts,
        )

    async def _attempt(self, client: SocketModeClient) -> None:
        client.wss_uri = await client.issue_new_wss_url()
        await asyncio.wait_for(client.connect(), self.socket_timeout)


def _failure(exc: Exception) -> str:
    """One line for a failed attempt: Slack's error code when it answered."""
    if isinstance(exc, SlackApiError):
        return f"SlackApiError: Slack answered {exc.response.get('error')!r} (HTTP {exc.response.status_code})"
    if isinstance(exc, TimeoutError):
        return "TimeoutError: the socket did not open in time"
    return f"{type(exc).__name__}: {exc}"


def socket_mode(app: AsyncApp, app_token: str) -> SocketConnection:
    """The Socket Mode connection; add its :meth:`~SocketConnection.cleanup_context` to the server."""
    return SocketConnection(app, app_token)
