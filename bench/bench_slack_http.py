"""Sending to Slack over kept connections against one connection per call: ``--answers``
response_url answers (the ephemeral answer every slash command gets) and as many
``chat.postMessage`` posts, first as slack_sdk's own clients send them (a ``WebhookClient`` per
answer, as the messenger built one, and a ``WebClient``: urllib, a new connection each call),
then through the pool (bot/slack/http_pool.py), in alternating rounds of the same run.

The fake Slack the tests use answers in a process of its own (bench.fake_slack), over plain
HTTP on the loopback: no TLS handshake and no network round trip are saved here, which against
hooks.slack.com and slack.com are the larger part. What this measures is what the sender's
own process spends: answers per second and CPU per answer (this process's CPU time, every
thread), from ``--threads`` worker threads at once, as the server's answers go out, and the
connections the fake accepted.

    python -m bench slack_http [--answers 2000] [--rounds 3] [--threads 4]"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from aiohttp import web
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bench.fake_slack import FakeSlackProcess, fake_slack_process
from bot.slack.http_pool import HttpPool
from bot.slack.messenger import TIMEOUT_SECONDS, retry_handlers
from bot.slack.pooled_clients import PooledWebClient, PooledWebhookClient
from tests.support.slack import FakeSlack

Send = Callable[[int], None]


@dataclass
class ConnectionCountingSlack(FakeSlack):
    """The tests' fake Slack, counting the TCP connections it accepted: one transport each
    (ports are no count: the system hands a closed connection's port out again)."""

    transports: list[asyncio.BaseTransport] = field(default_factory=list)  # kept: no id is reused
    _known: set[int] = field(default_factory=set)

    def _note(self, request: web.Request) -> None:
        transport = request.transport
        if transport is None:
            return
        with self._lock:
            if id(transport) not in self._known:
                self._known.add(id(transport))
                self.transports.append(transport)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        self._note(request)
        return await super()._api(request)

    async def _respond(self, request: web.Request) -> web.Response:
        self._note(request)
        return await super()._respond(request)


def connections(fake: ConnectionCountingSlack) -> int:
    """Asked in the fake's process: how many connections it accepted so far."""
    with fake._lock:
        return len(fake.transports)


@dataclass
class Round:
    way: str
    kind: str
    sent: int
    seconds: float
    cpu: float
    connections: int

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.sent * 1000


def senders(url: str, api_url: str, way: str) -> dict[str, Send]:
    """The two kinds of send, the old way or pooled."""
    if way == "per call":
        client = WebClient(token="xoxb-bench", base_url=api_url, timeout=TIMEOUT_SECONDS, retry_handlers=[])

        def answer(n: int) -> None:
            hook = WebhookClient(f"{url}/respond/b{n}", timeout=TIMEOUT_SECONDS, retry_handlers=retry_handlers())
            assert hook.send(text=f"answer {n}", response_type="ephemeral").status_code == 200

        def post(n: int) -> None:
            assert client.chat_postMessage(channel="finance", text=f"post {n}")["ok"]

        return {"answer": answer, "post": post}
    pool = HttpPool()
    pooled = PooledWebClient(
        token="xoxb-bench", base_url=api_url, timeout=TIMEOUT_SECONDS, retry_handlers=[], pool=pool
    )

    def pooled_answer(n: int) -> None:
        hook = PooledWebhookClient(
            f"{url}/respond/b{n}", timeout=TIMEOUT_SECONDS, retry_handlers=retry_handlers(), pool=pool
        )
        assert hook.send(text=f"answer {n}", response_type="ephemeral").status_code == 200

    def pooled_post(n: int) -> None:
        assert pooled.chat_postMessage(channel="finance", text=f"post {n}")["ok"]

    return {"answer": pooled_answer, "post": pooled_post}


def one_round(fake: FakeSlackProcess, way: str, kind: str, count: int, threads: int) -> Round:
    send = senders(fake.url, fake.api_url, way)[kind]
    for n in range(min(20, count)):  # warm: imports, the first connections
        send(n)
    before = fake.ask(connections)
    cpu, started = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(threads) as workers:
        list(workers.map(send, range(count)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return Round(way, kind, count, seconds, cpu, fake.ask(connections) - before)


def spread(values: list[float], unit: str = "") -> str:
    return f"median {statistics.median(values):.2f}{unit} (range {min(values):.2f}-{max(values):.2f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_slack_http")
    parser.add_argument("--answers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    rounds: list[Round] = []
    with fake_slack_process(ConnectionCountingSlack) as fake:
        for r in range(args.rounds):
            for kind in ("answer", "post"):
                ways = ("per call", "pooled") if r % 2 == 0 else ("pooled", "per call")
                for way in ways:
                    done = one_round(fake, way, kind, args.answers, args.threads)
                    rounds.append(done)
                    print(
                        f"  round {r + 1} {kind:6} {way:8}: {done.per_second:7.0f}/s, "
                        f"CPU {done.cpu_ms:.3f} ms each, {done.connections} connections",
                        flush=True,
                    )
    print(f"{args.answers} sends per round, {args.threads} threads, {args.rounds} rounds")
    for kind in ("answer", "post"):
        for way in ("per call", "pooled"):
            mine = [r for r in rounds if r.kind == kind and r.way == way]
            print(
                f"{kind:6} {way:8}: {spread([r.per_second for r in mine], '/s')}; "
                f"CPU per send {spread([r.cpu_ms for r in mine], ' ms')}; "
                f"connections {max(r.connections for r in mine)}"
            )
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
