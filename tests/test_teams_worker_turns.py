"""Dana asks for a status in her personal chat. The answer takes one turn on a worker thread: the
core answers there and its reply is drawn as a Teams card there too, so sending it does not wait
for a second free worker behind everyone else's requests (at 50 messages a second the workers
are busy, and that second wait was part of every reply's latency)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from commands.context import AppContext
from tests.support.teams import DANA, TeamsWorld, personal, run, teams_ctx, teams_user_id, title_of
from tests.support.world import seed_world


class CountingExecutor(ThreadPoolExecutor):
    """A real thread pool that counts the work handed to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=4)
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


def test_a_status_in_a_personal_chat_takes_one_worker_turn(ctx: AppContext) -> None:
    seed_world(ctx)
    world = TeamsWorld(teams_ctx(ctx))
    pool = CountingExecutor()
    turns: list[int] = []

    async def conversation() -> None:
        asyncio.get_running_loop().set_default_executor(pool)
        await world.start()
        await world.say(DANA, "status acme dental")  # her conversation becomes known
        before, sent = pool.submitted, len(world.adapter.activity_buffer)
        await world.adapter.receive_activity(
            Activity(
                type=ActivityTypes.message,
                text="status acme dental",
                from_property=ChannelAccount(id=teams_user_id(DANA), name=DANA),
                conversation=personal(DANA),
            )
        )
        turns.append(pool.submitted - before)
        [answer] = world.adapter.activity_buffer[sent:]
        assert title_of(answer) == "Acme Dental Group (C100)"

    run(conversation)
    pool.shutdown()
    assert turns == [1]
