"""The acknowledging front (bot.slack.front): a process of its own on the public port that
acknowledges slash commands, button presses and events at once and hands them to the server
behind it on a Unix socket, and passes everything else through.

Run for real: the front is started as ``arbot serve`` starts it (``python -m bot.slack.front``)
in front of the arbot server against the fake Slack Web API; what the server does is checked in
the database and in what the fake was asked."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.slack.front import acknowledged_at_once
from bot.slack.front_process import FrontProcess
from commands.context import AppContext
from storage.models import Promise
from tests.support.slack import FRIDAY, SECRET, LoopThread, SlackWorld, fixture, rows_of, seed, sign, text_of
from tests.support.slack_forms import fill, morning_list, open_form

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def fronted(ctx: AppContext, tmp_path: Path) -> Iterator[SlackWorld]:
    """The arbot server on a Unix socket, the front on a TCP port, as ``arbot serve`` runs them."""
    seed(ctx)
    world = SlackWorld(ctx, front=str(tmp_path / "server.sock"))
    try:
        yield world
    finally:
        world.close()


def slash(text: str, **fields: str) -> str:
    return urllib.parse.urlencode({**fixture("slash_command"), "text": text, **fields})


def payload(kind: str) -> str:
    return urllib.parse.urlencode({"payload": json.dumps({**fixture(kind), "type": kind})})


def test_what_is_acknowledged_at_once_and_what_is_passed_through() -> None:
    assert acknowledged_at_once(FORM, slash("status C100").encode())
    assert acknowledged_at_once(FORM, payload("block_actions").encode())
    assert acknowledged_at_once("application/json", json.dumps(fixture("event_app_mention")).encode())
    # A form's acknowledgement may carry its errors; Slack's checks want their own answers.
    assert not acknowledged_at_once(FORM, payload("view_submission").encode())
    assert not acknowledged_at_once("application/json", b'{"type": "url_verification", "challenge": "x"}')
    assert not acknowledged_at_once(FORM, b"ssl_check=1&token=x&command=%2Far")
    assert not acknowledged_at_once(FORM, b"payload=not-json")
    assert not acknowledged_at_once("application/json", b"[1, 2]")
    assert not acknowledged_at_once(FORM, b"\xff\xfe")


def test_a_promise_through_the_front_is_acknowledged_then_written_once_and_answered(fronted: SlackWorld) -> None:
    asked = fronted.command("U0DANA", "promise C200 $600 fri check in the mail")  # asserts the 200
    fronted.settle()
    [promise] = rows_of(fronted, Promise)
    assert (promise.amount, promise.promised_date) == (Decimal("600.00"), FRIDAY)
    [answer] = fronted.answers(asked)
    assert "600" in text_of(answer)


def test_a_form_with_a_bad_amount_gets_the_servers_errors_through_the_front(fronted: SlackWorld) -> None:
    form = open_form(fronted, morning_list(fronted), "Promise", "C100")  # a button press, acknowledged at once
    answer = fill(fronted, form, {"amount": "12OO", "date": FRIDAY})
    assert answer["response_action"] == "errors" and list(answer["errors"]) == ["amount"]
    assert rows_of(fronted, Promise) == []
    fill(fronted, form, {"amount": "1200", "date": FRIDAY})
    [promise] = rows_of(fronted, Promise)
    assert promise.amount == Decimal("1200.00")


def test_the_front_refuses_what_slack_did_not_sign_and_passes_the_rest_through(fronted: SlackWorld) -> None:
    body = slash("status C100")
    assert fronted.post(body, FORM, signature="v0=" + "0" * 64) == (401, '{"error": "invalid request"}')
    assert fronted.post(body, FORM, timestamp=int(time.time()) - 600)[0] == 401
    assert fronted.post(body, FORM, headers={"X-Slack-Request-Timestamp": "12abc"})[0] == 401
    challenge = json.dumps({"token": "x", "challenge": "c-123", "type": "url_verification"})
    assert fronted.post(challenge, "application/json") == (200, '{"challenge": "c-123"}')
    with urllib.request.urlopen(fronted.url + "/healthz", timeout=10) as health:
        assert json.loads(health.read()) == {"ok": True, "database": "reachable", "slack": "http", "teams": "off"}
    assert fronted.arrived == 1, "the URL check reached the server; the refused requests did not"


# -- the server behind unreachable, or restarting ---------------------------------------------


class Behind:
    """A stand-in server behind the front, on a Unix socket, that records what reaches it."""

    def __init__(self, loop: LoopThread, socket_path: str) -> None:
        self.loop, self.socket_path = loop, socket_path
        self.bodies: list[bytes] = []
        self._runner: web.AppRunner | None = None

    async def _record(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.read())
        return web.Response(status=200)

    def start(self) -> None:
        app = web.Application()
        app.router.add_post("/slack/events", self._record)
        self._runner = web.AppRunner(app, access_log=None)
        self.loop.run(self._runner.setup())
        self.loop.run(web.UnixSite(self._runner, self.socket_path).start())

    def stop(self) -> None:
        assert self._runner is not None
        self.loop.run(self._runner.cleanup())
        Path(self.socket_path).unlink(missing_ok=True)


def send(url: str, body: str) -> int:
    stamp = int(time.time())
    headers = {"Content-Type": FORM, "X-Slack-Request-Timestamp": str(stamp), "X-Slack-Signature": sign(body, stamp)}
    request = urllib.request.Request(url + "/slack/events", data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def wait_until(check: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


def test_nothing_is_acknowledged_while_the_server_behind_cannot_be_reached(loop: LoopThread, tmp_path: Path) -> None:
    socket_path = str(tmp_path / "server.sock")
    front = FrontProcess("127.0.0.1", 0, socket_path, SECRET, log_level="CRITICAL")
    front.start()
    try:
        url = f"http://127.0.0.1:{front.port}"
        assert send(url, slash("status C100")) == 503, "Slack tells the person it failed; nothing is lost unseen"
        behind = Behind(loop, socket_path)
        behind.start()
        assert send(url, slash("status C200")) == 200
        assert [b for b in behind.bodies if b"C200" in b], "passed through while the front had not reached it yet"
        assert send(url, slash("status C300")) == 200
        wait_until(lambda: any(b"C300" in b for b in behind.bodies))
        assert not [b for b in behind.bodies if b"C100" in b]
        behind.stop()
    finally:
        front.stop()


def test_a_request_acknowledged_while_the_server_restarts_reaches_it_once(loop: LoopThread, tmp_path: Path) -> None:
    """The server stops right after a request was acknowledged: the front keeps trying to hand
    it over and it arrives, once, when the server is back."""
    socket_path = str(tmp_path / "server.sock")
    behind = Behind(loop, socket_path)
    behind.start()
    front = FrontProcess("127.0.0.1", 0, socket_path, SECRET, log_level="CRITICAL")
    front.start()
    try:
        url = f"http://127.0.0.1:{front.port}"
        assert send(url, slash("status C100")) == 200
        wait_until(lambda: len(behind.bodies) == 1)
        behind.stop()
        assert send(url, slash("promise C200 $600 fri")) == 200, "the front still knows the server as reachable"
        time.sleep(0.5)  # several attempts fail meanwhile
        restarted = Behind(loop, socket_path)
        restarted.start()
        wait_until(lambda: len(restarted.bodies) == 1)
        time.sleep(0.3)
        assert [b"C200" in b for b in restarted.bodies] == [True], "handed over once, not once per attempt"
        restarted.stop()
    finally:
        front.stop()


def test_a_front_that_dies_is_started_again_on_the_same_port(loop: LoopThread, tmp_path: Path) -> None:
    socket_path = str(tmp_path / "server.sock")
    behind = Behind(loop, socket_path)
    behind.start()
    front = FrontProcess("127.0.0.1", 0, socket_path, SECRET, log_level="CRITICAL")

    async def kill_and_wait() -> int:
        async with front.running():
            port = front.port
            assert front._process is not None
            front._process.kill()
            while not (front.alive() and front.restarts == 1):
                await asyncio.sleep(0.05)
            return port

    port = loop.run(kill_and_wait())
    assert port == front.port and not front.alive(), "stopped with the block"
    behind.stop()


def test_arbot_serve_answers_behind_its_front_and_stops_both(tmp_path: Path) -> None:
    """``arbot serve`` with Slack over HTTP: the public port is the front's; /healthz passes
    through; SIGTERM stops the front first, then the server, and both exit."""
    port = free_port()
    database = tmp_path / "arbot.db"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "ARBOT_"))}
    environ.update(
        DATABASE_URL=f"sqlite:///{database}",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL="http://127.0.0.1:9/api/",
        ARBOT_LOG_FILE=str(tmp_path / "arbot.log"),
    )
    arbot = Path(sys.executable).with_name("arbot")
    subprocess.run([str(arbot), "db", "upgrade"], env=environ, check=True, capture_output=True, timeout=120)
    server = subprocess.Popen(
        [str(arbot), "serve", "--dev", "--port", str(port)], env=environ, stdout=subprocess.PIPE, text=True
    )
    try:
        health = None
        deadline = time.monotonic() + 60
        while health is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                    health = json.loads(answer.read())
            except OSError:
                time.sleep(0.1)
        assert health is not None and (health["ok"], health["slack"]) == (True, "http"), health
        fronts = children_of(server.pid)
        assert len(fronts) == 1, "one front process"
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
        assert not Path(f"/proc/{fronts[0]}").exists() or "Z" in Path(f"/proc/{fronts[0]}/stat").read_text()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def children_of(pid: int) -> list[int]:
    threads = Path(f"/proc/{pid}/task").iterdir()  # a child is listed under the thread that started it
    return [int(child) for thread in threads for child in (thread / "children").read_text().split()]
