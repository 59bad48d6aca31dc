"""Running the scheduler's jobs in tests: a recorder for what they deliver, a second engine."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from commands.context import AppContext
from commands.messages import Messenger, PostedRef, Reply, Where
from commands.outbox import Dispatcher, enqueue
from scheduler.jobs import JobFn, JobResult
from scheduler.runs import RunOutcome
from scheduler.service import tick
from storage.db import make_engine


@dataclass
class Recorder:
    """A Messenger that records every post, direct message and update it is asked to send."""

    calls: list[tuple[str, str, Reply]] = field(default_factory=list)  # (kind, channel or email, reply)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, where: Where, reply: Reply) -> PostedRef:
        return self._record("post", where.channel, reply, where)

    def direct(self, email: str, reply: Reply) -> PostedRef:
        return self._record("direct", email, reply, Where(f"dm:{email}"))

    def update(self, ref: PostedRef, reply: Reply) -> None:
        self._record("update", ref.where.channel, reply, ref.where)

    def _record(self, kind: str, to: str, reply: Reply, where: Where) -> PostedRef:
        with self._lock:
            self.calls.append((kind, to, reply))
            return PostedRef(where=where, message_id=f"m{next(self._ids)}")

    def posts(self, channel: str) -> list[Reply]:
        return [r for kind, to, r in self.calls if kind == "post" and to == channel]

    def directs(self, email: str | None = None) -> list[Reply]:
        return [r for kind, to, r in self.calls if kind == "direct" and email in (None, to)]


def run_fn(ctx: AppContext, fn: JobFn, messenger: Messenger) -> JobResult:
    """A job function run as the scheduler runs it (changes and messages commit together), its
    messages then delivered through ``messenger``."""
    with ctx.sessions.begin() as session:
        result = fn(ctx, session)
        enqueue(session, ctx, result.replies)
    Dispatcher(ctx, {p: messenger for p in ctx.platforms}, workers=1, pacing={}).drain()
    return result


def tick_delivered(ctx: AppContext, messenger: Messenger, **kwargs: Any) -> list[RunOutcome]:
    """One scheduler tick, then a delivery round through ``messenger``."""
    outcomes = tick(ctx, **kwargs)
    Dispatcher(ctx, {p: messenger for p in ctx.platforms}, workers=1, pacing={}).drain()
    return outcomes


def other_engine(engine: Engine) -> Engine:
    """A second engine on the same database: what a second scheduler process would have."""
    return make_engine(engine.url.render_as_string(hide_password=False))
