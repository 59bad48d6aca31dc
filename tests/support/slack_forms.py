"""Opening and filling the core's forms on Slack as a person does: Dana's morning list posted,
a button on one of its lines pressed, the form Slack was asked to open filled in and submitted."""

from __future__ import annotations

from typing import Any

from commands.outbox import enqueue
from scheduler.jobs import daily_lists
from tests.support.slack import Call, SlackWorld


def morning_list(world: SlackWorld) -> Call:
    """Dana's daily list, every line with its Log call / Promise / Paid buttons."""
    with world.ctx.sessions.begin() as session:
        enqueue(session, world.ctx, daily_lists(world.ctx, session).replies)
    world.settle()
    return world.posts("D0DANA")[-1]


def open_form(world: SlackWorld, listed: Call, label: str, customer: str) -> Call:
    world.click("U0DANA", listed, label, customer=customer)
    world.settle()
    return world.fake.made("views.open")[-1]


def fill(world: SlackWorld, form: Call, values: dict[str, Any]) -> dict[str, Any]:
    status, answer = world.submit("U0DANA", form, values)
    assert status == 200
    world.settle()
    return answer
