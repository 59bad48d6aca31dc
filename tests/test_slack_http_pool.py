"""Answers and posts to Slack go over kept connections (bot/slack/http_pool.py): many answers
over a handful of connections, a connection the server closed while idle replaced without a
failed or repeated send, a request that went out and got no answer never sent twice by the
pool, timeouts and rate limits delivered to the outbox as before, and many threads at once each
getting their own answers. Against the fake Slack the other Slack tests use, counting the
connections it accepted."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.slack.http_pool import HttpPool
from bot.slack.identity import SlackIdentity
from bot.slack.messenger import AnswerTo, SlackMessenger, retry_handlers, web_client
from bot.slack.pooled_clients import PooledWebClient, PooledWebhookClient
from bot.slack.settings import SlackSettings
from commands.context import AppContext
from commands.messages import DeliveryFailed, Reply, Where
from tests.support.slack import FakeSlack, LoopThread


@dataclass
class CountingSlack(FakeSlack):
    """The fake Slack, noting which client connection carried each request (its transport:
    one per TCP connection it accepted), and able to close the connections it holds, as a
    server closes idle ones."""

    carried_by: list[int] = field(default_factory=list)  # per request: the connection's number
    seen: list[asyncio.BaseTransport] = field(default_factory=list)  # kept alive: distinct objects
    held: list[asyncio.BaseTransport] = field(default_factory=list)

    def _note(self, request: web.Request) -> None:
        transport = request.transport
        assert transport is not None
        with self._lock:
            if not any(t is transport for t in self.seen):
                self.seen.append(transport)
                self.held.append(transport)
            self.carried_by.append(next(n for n, t in enumerate(self.seen) if t is transport))

    async def _api(self, request: web.Request) -> web.StreamResponse:
        self._note(request)
        return await super()._api(request)

    async def _respond(self, request: web.Request) -> web.Response:
        self._note(request)
        return await super()._respond(request)

    async def close_connections(self) -> None:
        with self._lock:
            held, self.held = self.held, []
        for transport in held:
            transport.close()
        await asyncio.sleep(0.05)  # the sockets close on the loop's next turns

    def connections(self) -> int:
        with self._lock:
            return len(self.seen)


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    running = LoopThread()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def slack(loop: LoopThread) -> Iterator[CountingSlack]:
    fake = CountingSlack()
    loop.run(fake.start())
    try:
        yield fake
    finally:
        loop.run(fake.stop())


def settings(fake: FakeSlack) -> SlackSettings:
    return SlackSettings(bot_token="xoxb-test", signing_secret="s", api_url=fake.api_url)


def messenger(ctx: AppContext, fake: FakeSlack, pool: HttpPool) -> SlackMessenger:
    """A messenger as ``arbot serve`` builds one (the outbox's client), on ``pool``."""
    client = web_client(settings(fake), outbox=True, pool=pool)
    return SlackMessenger(client, SlackIdentity(client, ctx))


def answered(fake: FakeSlack) -> list[tuple[str, str]]:
    return [(c.params["name"], c.params["text"]) for c in fake.made("response_url")]


def test_slack_sdk_still_sends_through_the_methods_the_pool_replaces() -> None:
    """The pooled clients replace one private method each; if slack_sdk renames or reshapes
    them, the pool would silently go unused: this fails first."""
    web = inspect.signature(WebClient._perform_urllib_http_request_internal)
    hook = inspect.signature(WebhookClient._perform_http_request_internal)
    assert list(web.parameters) == ["self", "url", "req"]
    assert list(hook.parameters) == ["self", "url", "req"]
    for name in ("_perform_urllib_http_request", "_perform_http_request"):
        owner = WebClient if name == "_perform_urllib_http_request" else WebhookClient
        source = inspect.getsource(getattr(owner, name))
        assert "_internal(url, req)" in source and "except HTTPError" in source


def test_many_answers_and_posts_reuse_one_connection(ctx: AppContext, slack: CountingSlack) -> None:
    pool = HttpPool()
    bot = messenger(ctx, slack, pool)
    for n in range(60):
        bot.answer(AnswerTo("U0DANA", response_url=slack.response_url(f"cmd{n}")), Reply(title=f"answer {n}"))
        bot.post(Where("finance"), Reply(title=f"post {n}"))
    assert answered(slack) == [(f"cmd{n}", f"answer {n}") for n in range(60)]
    assert [c.params["text"] for c in slack.made("chat.postMessage")] == [f"post {n}" for n in range(60)]
    assert len(slack.carried_by) == 120
    assert slack.connections() == 1 and pool.connections_opened() == 1


def test_the_old_clients_opened_a_connection_per_call(slack: CountingSlack) -> None:
    """What the pool is measured against (bench/bench_slack_http.py): slack_sdk's own clients."""
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    for n in range(5):
        client.chat_postMessage(channel="finance", text=f"post {n}")
        WebhookClient(slack.response_url(f"cmd{n}")).send(text=f"answer {n}")
    assert slack.connections() == 10


def test_a_connection_the_server_closed_while_idle_is_replaced(
    ctx: AppContext, loop: LoopThread, slack: CountingSlack
) -> None:
    pool = HttpPool()
    bot = messenger(ctx, slack, pool)
    bot.answer(AnswerTo("U0DANA", response_url=slack.response_url("cmd1")), Reply(title="first"))
    bot.post(Where("finance"), Reply(title="first post"))
    loop.run(slack.close_connections())  # the server's idle timeout

    bot.answer(AnswerTo("U0DANA", response_url=slack.response_url("cmd2")), Reply(title="second"))
    bot.post(Where("finance"), Reply(title="second post"))

    assert answered(slack) == [("cmd1", "first"), ("cmd2", "second")]
    assert [c.params["text"] for c in slack.made("chat.postMessage", status=None)] == ["first post", "second post"]
    assert slack.connections() == 2 and pool.connections_opened() == 2
    assert pool.host(slack.url).resent == 0  # seen closed before anything was written on it


def test_a_connection_idle_too_long_is_not_used_again(slack: CountingSlack) -> None:
    pool = HttpPool(max_idle=0.05)
    hook = PooledWebhookClient(slack.response_url("cmd"), retry_handlers=[], pool=pool)
    hook.send(text="one")
    time.sleep(0.1)
    hook.send(text="two")
    hook.send(text="three")
    assert [text for _, text in answered(slack)] == ["one", "two", "three"]
    assert pool.connections_opened() == 2


def test_a_post_that_went_out_and_got_no_answer_is_not_sent_again(ctx: AppContext, slack: CountingSlack) -> None:
    """Slack took the post and the kept connection dropped before the answer: the outbox is
    told it may have landed (it looks before sending again); the pool sent it once."""
    pool = HttpPool()
    bot = messenger(ctx, slack, pool)
    bot.post(Where("finance"), Reply(title="warm"))
    slack.fail_next("chat.postMessage", "lost")
    with pytest.raises(DeliveryFailed) as failed:
        bot.post(Where("finance"), Reply(title="taken"))
    assert failed.value.may_have_landed and not failed.value.permanent
    assert [c.params["text"] for c in slack.made("chat.postMessage")] == ["warm", "taken"]

    bot.post(Where("finance"), Reply(title="after"))  # the dropped connection is not reused
    assert pool.connections_opened() == 2


def test_a_timeout_is_a_delivery_failure_and_its_connection_is_dropped(ctx: AppContext, slack: CountingSlack) -> None:
    pool = HttpPool()
    client = PooledWebClient(token="xoxb-test", base_url=slack.api_url, timeout=1, retry_handlers=[], pool=pool)
    bot = SlackMessenger(client, SlackIdentity(client, ctx))
    slack.hang_seconds = 3
    bot.post(Where("finance"), Reply(title="warm"))
    slack.fail_next("chat.postMessage", "timeout")
    with pytest.raises(DeliveryFailed) as failed:
        bot.post(Where("finance"), Reply(title="slow"))
    assert "did not answer" in str(failed.value) and "timed out" in str(failed.value)
    assert not failed.value.permanent and failed.value.may_have_landed

    bot.post(Where("finance"), Reply(title="next"))
    assert pool.connections_opened() == 2  # the timed-out connection was closed, not kept


def test_rate_limits_keep_their_retry_after(ctx: AppContext, slack: CountingSlack) -> None:
    """The answer path's client waits Slack's Retry-After and tries again on the kept
    connection; the outbox's is told when to come back."""
    pool = HttpPool()
    fast = PooledWebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=retry_handlers(), pool=pool)
    slack.retry_after = "1"
    slack.fail_next("chat.postMessage", 429)
    started = time.monotonic()
    assert fast.chat_postMessage(channel="finance", text="waited")["ok"]
    assert time.monotonic() - started >= 1.0
    assert [c.status for c in slack.made("chat.postMessage", status=None)] == [429, 200]

    slack.retry_after = "7"
    slack.fail_next("chat.postMessage", 429)
    with pytest.raises(DeliveryFailed) as failed:
        messenger(ctx, slack, pool).post(Where("finance"), Reply(title="later"))
    assert failed.value.retry_after == 7.0 and not failed.value.may_have_landed
    assert pool.connections_opened() == 1


def test_a_refusal_is_slacks_answer_as_before(slack: CountingSlack) -> None:
    pool = HttpPool()
    client = PooledWebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[], pool=pool)
    slack.refuse("chat.postMessage", "finance", "not_in_channel")
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="finance", text="hi")
    assert refused.value.response["error"] == "not_in_channel"
    slack.fail_next("chat.postMessage", 500)
    with pytest.raises(SlackApiError) as failed:
        client.chat_postMessage(channel="sales", text="hi")
    assert failed.value.response.status_code == 500
    assert pool.connections_opened() == 1


def test_threads_at_once_get_their_own_answers_over_a_bounded_pool(ctx: AppContext, slack: CountingSlack) -> None:
    pool = HttpPool(per_host=4)
    bot = messenger(ctx, slack, pool)
    errors: list[BaseException] = []
    start = threading.Barrier(12)

    def answer_all(worker: int) -> None:
        try:
            start.wait(10)
            for n in range(20):
                to = AnswerTo(f"U{worker}", response_url=slack.response_url(f"w{worker}-{n}"))
                bot.answer(to, Reply(title=f"for {worker}/{n}"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=answer_all, args=(w,)) for w in range(12)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert not any(w.is_alive() for w in workers) and errors == []
    expected = {(f"w{w}-{n}", f"for {w}/{n}") for w in range(12) for n in range(20)}
    assert sorted(answered(slack)) == sorted(expected)  # each once, with its own text
    assert 1 <= pool.connections_opened() <= 4 and slack.connections() <= 4


class ResettingServer:
    """A bare HTTP/1.1 server on a socket: answers its first request on a connection and keeps
    it open; on the second, reads the head only and resets the connection (its body is never
    read, so the request never arrived whole). Notes every complete request it got."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(10)
        self.port = self.listener.getsockname()[1]
        self.complete: list[tuple[int, bytes]] = []  # (connection number, body)
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                sock, _ = self.listener.accept()
                self.accepted += 1
                threading.Thread(target=self._connection, args=(sock, self.accepted), daemon=True).start()

    def _connection(self, sock: socket.socket, number: int) -> None:
        sock.settimeout(10)
        with contextlib.suppress(OSError), sock:
            for served in range(2):
                head, rest = self._head(sock)
                length = int(next(v for k, v in head if k == "content-length"))
                if served == 1 and number == 1:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return  # closed with a reset, the body unread
                body = rest
                while len(body) < length:
                    body += sock.recv(1 << 20)
                self.complete.append((number, body))
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")

    @staticmethod
    def _head(sock: socket.socket) -> tuple[list[tuple[str, str]], bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise OSError("closed")
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")[1:]
        return [(k.strip().lower(), v.strip()) for k, v in (line.split(":", 1) for line in lines)], rest

    def close(self) -> None:
        self.listener.close()
        self._thread.join(10)


def test_a_request_a_kept_connection_did_not_take_whole_goes_out_once_on_a_new_one() -> None:
    server = ResettingServer()
    try:
        pool = HttpPool()
        hook = PooledWebhookClient(f"http://127.0.0.1:{server.port}/respond/x", retry_handlers=[], pool=pool)
        assert hook.send(text="small").status_code == 200
        big = "x" * (32 << 20)  # more than the socket buffers hold: the write is cut by the reset
        response = hook.send(text=big)
        assert response.status_code == 200 and response.body == "ok"
        assert [n for n, _ in server.complete] == [1, 2]  # the big one arrived once, whole, on connection 2
        assert big.encode() in server.complete[1][1]
        assert pool.connections_opened() == 2 and pool.host(hook.url).resent == 1
    finally:
        server.close()
