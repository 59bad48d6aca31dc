"""The acknowledging front: a small process in front of ``arbot serve`` that answers Slack at once.

Slack waits at most 3 seconds for an acknowledgement and measures every app by it. In one
process the acknowledgement shares Python's interpreter lock with the worker threads doing the
commands (writing a promise, ranking a list): each time the event loop gives the lock up for a
system call it may wait a whole switch interval to get it back, and a request waits several
times. Measured at 100 promises a second on two cores, that put the acknowledgement's p99 at
2.6-3.4 times a bare Bolt app's, whatever the garbage collector, switch interval or pool size.

The front imports neither Bolt, the Slack SDK nor the database. It owns the public port, checks
Slack's signature on the raw bytes (bot.slack.signature, the same check the server makes), and:

- acknowledges at once, with the empty answer Bolt would give, what Slack expects an empty
  acknowledgement for (slash commands, button presses, event callbacks), then hands the
  request, bytes and headers unchanged, to the server behind it over a local socket; the server
  checks the signature again and does the work as it always does;
- passes everything else through and answers with the server's own answer: a submitted form
  (whose acknowledgement may carry the form's errors), Slack's URL check, Teams, ``/healthz``.

It never acknowledges what it cannot hand over: until the server behind has answered once, and
again after a hand-over found it unreachable, Slack requests are passed through, so a server
that is down or starting gets Slack a 503 (Slack shows the command failed, retries events)
instead of a command acknowledged and lost. A hand-over whose connection could not be opened
is tried again for up to :data:`HAND_OVER_PATIENCE_SECONDS` (the signature stays valid for five
minutes); one that reached the server is never sent twice."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web

from bot.slack.signature import REFUSED_BODY, signature_problem

log = logging.getLogger("bot.slack.front")  # also when run as __main__

SLACK_PATH = "/slack/events"
SECRET_VARIABLE = "SLACK_SIGNING_SECRET"  # passed in the environment, never on the command line
HAND_OVER_PATIENCE_SECONDS = 120.0
CONNECT_PATIENCE_SECONDS = 5.0  # a pass-through waits this long for a server that is starting
# Interactive payloads Slack wants an empty acknowledgement for; a submitted form is not one.
EMPTY_ACK_PAYLOADS = frozenset({"block_actions"})
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host", "upgrade"}
)


def acknowledged_at_once(content_type: str, body: bytes) -> bool:
    """Whether Slack expects only an empty acknowledgement for this (signed) request: a slash
    command, a button press or an event callback. Anything unreadable is passed through, and the
    server behind says what it says about it."""
    try:
        if content_type.startswith("application/json"):
            return bool(json.loads(body).get("type") == "event_callback")
        form = parse_qs(body.decode(), keep_blank_values=True)
        if "command" in form:
            return "ssl_check" not in form
        if "payload" in form:
            return bool(json.loads(form["payload"][0]).get("type") in EMPTY_ACK_PAYLOADS)
    except (ValueError, AttributeError, UnicodeDecodeError):
        return False
    return False


@dataclass
class Upstream:
    """The server behind the front, on a Unix socket (``path``) or at ``url``."""

    url: str
    path: str | None = None

    def connector(self) -> aiohttp.BaseConnector:
        return aiohttp.UnixConnector(path=self.path) if self.path else aiohttp.TCPConnector()


class Front:
    """The front's request handling: acknowledge and hand over, or pass through."""

    def __init__(self, upstream: Upstream, signing_secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self.upstream = upstream
        self.secret = signing_secret.encode()
        self.clock = clock
        self.reachable = False  # until the server behind has answered once
        self.handed_over = 0
        self.lost = 0
        self._session: aiohttp.ClientSession | None = None
        self._hand_overs: set[asyncio.Task[None]] = set()

    def application(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post(SLACK_PATH, self.slack)
        app.router.add_route("*", "/{tail:.*}", self.pass_through)
        app.cleanup_ctx.append(self._client)
        return app

    async def _client(self, _app: web.Application) -> AsyncIterator[None]:
        self._session = aiohttp.ClientSession(
            connector=self.upstream.connector(), timeout=aiohttp.ClientTimeout(total=60), auto_decompress=False
        )
        yield
        await self.finish()

    async def finish(self) -> None:
        """Wait for hand-overs under way (each bounded by its patience), then close the client."""
        while self._hand_overs:
            await asyncio.gather(*list(self._hand_overs), return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def slack(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        problem = signature_problem(self.secret, body, request.headers, now=self.clock())
        if problem is not None:
            log.warning("refused a Slack request from %s: %s", request.remote, problem)
            return web.json_response(REFUSED_BODY, status=401)
        if self.reachable and acknowledged_at_once(request.content_type, body):
            task = asyncio.get_running_loop().create_task(self._hand_over(request.path_qs, request.headers, body))
            self._hand_overs.add(task)
            task.add_done_callback(self._hand_overs.discard)
            return web.Response(status=200)
        return await self._forward(request.method, request.path_qs, request.headers, body)

    async def pass_through(self, request: web.Request) -> web.StreamResponse:
        return await self._forward(request.method, request.path_qs, request.headers, await request.read())

    async def _forward(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> web.StreamResponse:
        """Send the request to the server behind and answer with its answer; 503 when it cannot
        be reached within :data:`CONNECT_PATIENCE_SECONDS`, 502 when it did not answer."""
        try:
            status, answer_headers, content = await self._send(
                method, path, headers, body, patience=CONNECT_PATIENCE_SECONDS, longest_wait=1.0
            )
        except aiohttp.ClientConnectorError as exc:
            log.error("the server behind the front cannot be reached (%s); answered 503", exc)
            return web.json_response({"error": "arbot is not running"}, status=503)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.error("the server behind the front did not answer (%s); answered 502", exc)
            return web.json_response({"error": "arbot did not answer"}, status=502)
        return web.Response(status=status, body=content, headers=_kept(answer_headers))

    async def _hand_over(self, path: str, headers: Mapping[str, str], body: bytes) -> None:
        """Give an acknowledged request to the server behind (within
        :data:`HAND_OVER_PATIENCE_SECONDS` of connection attempts)."""
        try:
            status, _, _ = await self._send(
                "POST", path, headers, body, patience=HAND_OVER_PATIENCE_SECONDS, longest_wait=5.0
            )
        except aiohttp.ClientConnectorError as exc:
            self.lost += 1
            log.error("an acknowledged Slack request was lost: the server cannot be reached (%s)", exc)
            return
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.lost += 1
            log.error("an acknowledged Slack request may not have been handled: %s", exc)
            return
        self.handed_over += 1
        if status >= 400:
            log.warning("the server behind answered %d to an acknowledged Slack request", status)

    async def _send(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes, *, patience: float, longest_wait: float
    ) -> tuple[int, Mapping[str, str], bytes]:
        """The server's answer (status, headers, body). A connection that could not be opened
        (nothing was sent) is tried again, waiting 50 ms, then twice as long each time up to
        ``longest_wait``, until ``patience`` runs out; the last ClientConnectorError is raised
        then. Any other failure is raised at once: the request may have reached the server, and
        is never sent twice."""
        assert self._session is not None, "the front's client is opened when its application starts"
        deadline = self.clock() + patience
        delay = 0.05
        while True:
            try:
                url = self.upstream.url + path
                async with self._session.request(method, url, headers=_kept(headers), data=body) as answer:
                    content = await answer.read()
                    self.reachable = True
                    return answer.status, answer.headers, content
            except aiohttp.ClientConnectorError:
                self.reachable = False
                if self.clock() + delay > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, longest_wait)


def _kept(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers worth passing on: all but the connection's own."""
    return {name: value for name, value in headers.items() if name.lower() not in HOP_BY_HOP}


# -- the front's process ------------------------------------------------------------------------


def run(host: str, port: int, socket_path: str, signing_secret: str, log_level: str) -> None:
    """The front process: serve until SIGTERM or until the server that started it is gone. Says
    ``listening <port>`` (or why it cannot) on its standard output once, for the server."""
    from bot.log_setup import configure

    configure(log_level)
    asyncio.run(_serve(host, port, Front(Upstream("http://arbot", socket_path), signing_secret)))


async def _serve(host: str, port: int, front: Front) -> None:
    runner = web.AppRunner(front.application(), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        print(f"cannot listen on {host}:{port}: {exc}", flush=True)
        await runner.cleanup()
        return
    print(f"listening {runner.addresses[0][1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    parent = os.getppid()
    while not stop.is_set() and os.getppid() == parent:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.slack.front", description=__doc__.split("\n")[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--socket", required=True, help="the Unix socket the server behind listens on")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    secret = os.environ.get(SECRET_VARIABLE, "")
    if not secret:
        print(f"{SECRET_VARIABLE} is not set", flush=True)
        return 2
    run(args.host, args.port, args.socket, secret, args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
