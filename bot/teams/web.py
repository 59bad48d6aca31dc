"""``/api/messages`` on the shared aiohttp server, next to Slack.

Served only when ``MICROSOFT_APP_ID`` is set (Bot Framework authentication on), or in dev mode
(``arbot serve --dev``: authentication off, said loudly at start and in ``/healthz``). Without
either, the route does not exist and the server answers 404 there, so a Slack-only deployment
never exposes an unauthenticated Teams endpoint by accident."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from botbuilder.core import BotAdapter, InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import AuthenticateRequestResult, ClaimsIdentity, ConnectorFactory, UserTokenClient

from bot.teams.bot import TeamsBot, error_response
from bot.teams.capture import configured_ids
from bot.teams.connectors import KeptClients, KeptConnectorFactory, app_id_of
from bot.teams.identity import mention_of
from bot.teams.messenger import Outbox, TeamsMessenger
from bot.teams.settings import DEV_WARNING, TeamsSettings, teams_settings_of
from commands.context import AppContext

log = logging.getLogger(__name__)
ROUTE = "/api/messages"
_REF_ALPHABET = string.ascii_uppercase + string.digits


@dataclass
class TeamsApp:
    """The adapter, the bot and the messenger, built once per server."""

    settings: TeamsSettings
    adapter: BotAdapter
    bot: TeamsBot
    outbox: Outbox
    messenger: TeamsMessenger

    async def on_startup(self, app: web.Application) -> None:
        self.messenger.bind(asyncio.get_running_loop())

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """One activity from the Bot Connector (or the Agents Playground in dev mode)."""
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _refused("expected an application/json activity", status=415)
        try:
            problem = activity_problem(await request.json())
        except ValueError:
            problem = "the body is not JSON"
        if problem:
            return _refused(problem)
        try:
            response = await self.adapter.process(request, self.bot)
        except web.HTTPUnauthorized as refused:
            # CloudAdapter raises this from the PermissionError that says why; say it on one line.
            reason = refused.__context__ or "no reason given"
            log.warning("refused a Teams request from %s: %s", request.remote, reason)
            return _refused("unauthorized", status=401)
        return response or web.Response(status=201)


def activity_problem(body: object) -> str | None:
    """What makes this body unusable as an activity (checked before authentication and the SDK,
    which would answer a malformed one with a 500 or silently)."""
    if not isinstance(body, dict):
        return "the body is not a Bot Framework activity"
    for name in ("type", "serviceUrl"):
        if not isinstance(body.get(name), str) or not body[name]:
            return f"the activity has no {name}"
    if not body["serviceUrl"].startswith(("https://", "http://")):
        return "the activity's serviceUrl is not an http(s) address"
    conversation = body.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str):
        return "the activity has no conversation id"
    sender = body.get("from")
    if not isinstance(sender, dict) or not isinstance(sender.get("id"), str):
        return "the activity has no sender"
    return None


def _refused(problem: str, *, status: int = 400) -> web.Response:
    return web.json_response({"error": problem}, status=status)


TEAMS_APP = web.AppKey("arbot_teams", TeamsApp)


def build(
    ctx: AppContext, settings: TeamsSettings, *, adapter: BotAdapter | None = None, outbox: Outbox | None = None
) -> TeamsApp:
    """Everything Teams needs; ``adapter`` and ``outbox`` may be given (tests, benchmarks)."""
    _fast_msrest_retry_policy()
    if adapter is None:
        adapter = CloudAdapter(RefusingAuthentication(settings.bot_framework_config()))
    adapter.on_turn_error = _on_turn_error
    outbox = outbox or Outbox(adapter, bot_app_id=settings.app_id)
    messenger = TeamsMessenger(
        outbox,
        sessions=ctx.sessions,
        clock=ctx.clock,
        channel_ids=configured_ids(ctx),
        people=lambda email: mention_of(ctx, email),
    )
    return TeamsApp(
        settings=settings, adapter=adapter, bot=TeamsBot(ctx, outbox, messenger), outbox=outbox, messenger=messenger
    )


class RefusingAuthentication(ConfigurationBotFrameworkAuthentication):
    """Bot Framework authentication where every token that does not check out is a
    PermissionError (hence 401). The SDK raises one for a missing or foreign token, but lets a
    token that is not a JWT at all (``Bearer not-a-jwt``), an unknown signing key or a failed
    endorsement escape as other exceptions, which would be a 500 with a traceback. Network
    failures while fetching Microsoft's signing keys stay what they are: the sender may be
    genuine, and the Bot Connector retries a 5xx."""

    def __init__(self, configuration: Any, **kwargs: Any) -> None:
        super().__init__(configuration, **kwargs)
        self.kept = KeptClients()

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        with _token_refusals():
            result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = self._kept_factory(result.connector_factory, result.claims_identity)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        """Proactive posts (continue_conversation) take their clients from the same cache."""
        return self._kept_factory(super().create_connector_factory(claims_identity), claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        """Made for every activity by CloudAdapter; the bot never signs users in, so one per bot
        app id is plenty (bot.teams.connectors)."""
        key = ("user-token", app_id_of(claims_identity))
        client = self.kept.get(key)
        if client is None:
            client = self.kept.keep(key, await super().create_user_token_client(claims_identity))
        return client  # type: ignore[no-any-return]

    def _kept_factory(self, inner: ConnectorFactory, claims_identity: ClaimsIdentity | None) -> ConnectorFactory:
        return KeptConnectorFactory(inner, app_id_of(claims_identity), self.kept)

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        with _token_refusals():
            return await super().authenticate_streaming_request(auth_header, channel_id_header)


@contextlib.contextmanager
def _token_refusals() -> Iterator[None]:
    try:
        yield
    except (PermissionError, OSError):
        raise
    except Exception as exc:
        raise PermissionError(f"the token does not check out ({type(exc).__name__}: {exc})") from exc


def _fast_msrest_retry_policy() -> None:
    """msrest builds a retry policy for every connector client (two per Teams turn), testing 999
    status codes against a 500-item list: about 10 ms of event-loop time each, which capped the
    endpoint near 30 requests a second. The same codes in a frozenset give the same policy in
    microseconds."""
    from msrest.universal_http.requests import ClientRetryPolicy

    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)


def add_routes(app: web.Application, ctx: AppContext, settings: object) -> TeamsApp | None:
    """Serve ``/api/messages`` when Teams is configured (or in dev mode); returns the Teams app
    (its ``messenger`` is what the scheduler posts through), or None when Teams is off."""
    teams_settings = teams_settings_of(settings)
    if not teams_settings.served:
        log.info("Teams is off: MICROSOFT_APP_ID is not set, so %s is not served", ROUTE)
        return None
    if teams_settings.auth_disabled:
        log.warning("\n%s\n!!! %s\n%s", "!" * 80, DEV_WARNING, "!" * 80)
    teams = build(ctx, teams_settings)
    app[TEAMS_APP] = teams
    app.router.add_post(ROUTE, teams.handle)
    app.on_startup.append(teams.on_startup)
    return teams


def health(app: web.Application) -> dict[str, object]:
    """Teams' part of ``/healthz``: off, on, or dev with authentication OFF."""
    teams = app.get(TEAMS_APP)
    return teams.settings.health() if teams is not None else TeamsSettings().health()


async def _on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    """A bug in the adapter: log it with a reference; the user sees only the reference."""
    ref = "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))
    log.error("Teams turn failed (ref %s)", ref, exc_info=(type(error), error, error.__traceback__))
    text = f"Something went wrong on our side; nothing more was done (ref {ref})"
    try:
        if turn_context.activity.type == ActivityTypes.invoke:
            await turn_context.send_activity(
                Activity(
                    type=ActivityTypes.invoke_response,
                    value=InvokeResponse(status=200, body=error_response("InternalError", text)),
                )
            )
        elif turn_context.activity.type == ActivityTypes.message:
            await turn_context.send_activity(text)
    except Exception:
        log.exception("could not tell the user about ref %s", ref)
