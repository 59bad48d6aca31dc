"""Socket Mode connects in the background: while Slack cannot be reached the server still starts
at once, ``/healthz`` answers ``"slack": "connecting"``, the attempts back off (1 s, 2 s, ...),
and stopping the server cancels the attempts and closes everything. Once Slack answers, the
socket opens and ``/healthz`` says ``"socket"``. Only 127.0.0.1 is contacted: a closed port, or a
local stand-in for ``apps.connections.open`` and the socket it hands out."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from bot.server import ServerSettings, build_web_app
from bot.slack.app import SocketConnection, build_app, build_runtime
from bot.slack.settings import SlackSettings
from commands.context import AppContext
from tests.support.world import row_counts

CONNECT_WARNING = "could not reach Slack for Socket Mode"


@pytest.fixture(autouse=True)
def _teams_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MICROSOFT_APP_ID", raising=False)


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def socket_settings(api_url: str) -> ServerSettings:
    return ServerSettings(slack=SlackSettings(bot_token="xoxb-test", app_token="xapp-1-test", api_url=api_url))


def run_watching_leaks(scenario: Callable[[], Awaitable[None]]) -> list[str]:
    """Run ``scenario`` on a fresh loop; return what the loop complained about (unclosed
    sessions, tasks destroyed while pending) once everything is collected."""
    complaints: list[str] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, context: complaints.append(context["message"]))
        await scenario()
        for _ in range(5):  # let cancelled tasks finish unwinding
            await asyncio.sleep(0)
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert left == [], left
        gc.collect()

    asyncio.run(main())
    gc.collect()
    return complaints


async def eventually(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def health(client: TestClient) -> dict[str, Any]:
    response = await client.get("/healthz")
    assert response.status == 200
    return dict(await response.json())


def test_the_server_serves_while_slack_cannot_be_reached(ctx: AppContext, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    before = row_counts(ctx)
    settings = socket_settings(f"http://127.0.0.1:{closed_port()}/api/")

    def retries() -> list[str]:
        return [r.getMessage() for r in caplog.records if CONNECT_WARNING in r.getMessage()]

    async def scenario() -> None:
        client = TestClient(TestServer(build_web_app(ctx, settings), host="127.0.0.1"))
        await client.start_server()
        try:
            # Slack is a closed port, so a start-up that waited for the socket would never answer.
            assert await health(client) == {"ok": True, "database": "reachable", "slack": "connecting", "teams": "off"}
            await eventually(lambda: len(retries()) >= 2)
            assert (await health(client))["slack"] == "connecting"
        finally:
            stopping = time.monotonic()
            await client.close()
            assert time.monotonic() - stopping < 3, "a pending retry does not hold the shutdown"

    assert run_watching_leaks(scenario) == []
    first, second = retries()[:2]
    assert "attempt 1" in first and "retrying in 1 s" in first
    assert "attempt 2" in second and "retrying in 2 s" in second
    assert "ClientConnectorError" in first
    warnings = [r for r in caplog.records if CONNECT_WARNING in r.getMessage()]
    assert all(r.levelno == logging.WARNING and not r.exc_info for r in warnings)
    assert row_counts(ctx) == before


class SocketModeSlack:
    """``apps.connections.open`` answering ``ok: false`` ``refusals`` times, then with
    ``dead_addresses`` addresses where nothing listens, then with the address of a local socket
    that greets like Slack's (``hello``) and stays open."""

    def __init__(self, refusals: int = 0, dead_addresses: int = 0) -> None:
        self.refusals = refusals
        self.dead_addresses = dead_addresses
        self.opens = 0
        self.sockets_open = 0
        self.server = TestServer(self._app(), host="127.0.0.1")

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/apps.connections.open", self._open)
        app.router.add_get("/link", self._socket)
        return app

    async def _open(self, request: web.Request) -> web.Response:
        self.opens += 1
        if self.opens <= self.refusals:
            return web.json_response({"ok": False, "error": "internal_error"})
        assert request.headers["Authorization"] == "Bearer xapp-1-test"
        if self.opens <= self.refusals + self.dead_addresses:
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{closed_port()}/link"})
        url = str(self.server.make_url("/link")).replace("http://", "ws://")
        return web.json_response({"ok": True, "url": url})

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets_open += 1
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0ARBOT"}})
        async for message in ws:
            if message.type == WSMsgType.ERROR:
                break
        self.sockets_open -= 1
        return ws


def test_the_socket_opens_once_slack_answers_and_closes_with_the_server(
    ctx: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    slack = SocketModeSlack(refusals=1)

    async def scenario() -> None:
        await slack.server.start_server()
        client = TestClient(
            TestServer(build_web_app(ctx, socket_settings(str(slack.server.make_url("/api/")))), host="127.0.0.1")
        )
        await client.start_server()
        try:
            assert (await health(client))["slack"] == "connecting"
            await eventually(lambda: slack.sockets_open == 1)
            await eventually(lambda: _last_status(client) == "socket")
            assert (await health(client))["slack"] == "socket"
        finally:
            await client.close()
        await eventually(lambda: slack.sockets_open == 0)
        await slack.server.close()

    assert run_watching_leaks(scenario) == []
    assert slack.opens == 2, "one refusal, then one address"
    [refusal] = [r.getMessage() for r in caplog.records if CONNECT_WARNING in r.getMessage()]
    assert re.search(
        r"attempt 1: SlackApiError: Slack answered 'internal_error' \(HTTP 200\)\); "
        r"retrying in 1 s$",
        refusal,
    )
    assert any("connected to Slack over Socket Mode after 2 attempt(s)" in r.getMessage() for r in caplog.records)


def _last_status(client: TestClient) -> str:
    from bot.server import MOUNTED

    status = client.app[MOUNTED]["slack"].status if client.app is not None else None
    return status() if status is not None else ""


def test_a_socket_that_will_not_open_is_abandoned_for_a_fresh_address(
    ctx: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack hands out an address where the socket cannot be opened: instead of retrying that
    address for ever (the SDK's way), the attempt times out and the next asks for a new one."""
    caplog.set_level(logging.INFO)
    slack = SocketModeSlack(dead_addresses=1)

    async def scenario() -> None:
        await slack.server.start_server()
        settings = SlackSettings(
            bot_token="xoxb-test", app_token="xapp-1-test", api_url=str(slack.server.make_url("/api/"))
        )
        bolt = build_app(settings, build_runtime(ctx, settings))
        connection = SocketConnection(bolt, settings.app_token, first_delay=0.05, socket_timeout=0.5)
        connect = connection.cleanup_context(web.Application())
        await anext(connect)
        try:
            await eventually(lambda: connection.status() == "socket")
            assert (slack.opens, slack.sockets_open, connection.attempts) == (2, 1, 2)
        finally:
            with pytest.raises(StopAsyncIteration):
                await anext(connect)
        assert connection.status() == "connecting"
        await eventually(lambda: slack.sockets_open == 0)
        await slack.server.close()

    assert run_watching_leaks(scenario) == []
    [abandoned] = [r.getMessage() for r in caplog.records if CONNECT_WARNING in r.getMessage()]
    assert "attempt 1: TimeoutError: the socket did not open in time" in abandoned
