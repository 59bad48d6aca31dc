"""Slack requests the security tests forge or replay, and the check that they changed nothing."""

from __future__ import annotations

import urllib.parse

from tests.support.slack import SlackWorld, fixture
from tests.support.world import row_counts

PROMISE = {**fixture("slash_command"), "user_id": "U0DANA", "text": "promise C200 300 fri"}


def promise_body(world: SlackWorld) -> str:
    return urllib.parse.urlencode({**PROMISE, "response_url": world.fake.response_url("sec")})


def assert_no_effect(world: SlackWorld, before: dict[str, int]) -> None:
    assert world.runtime.pending() == 0, "nothing was handed to the core"
    world.settle()
    assert world.fake.made() == [], "Slack was not called at all"
    assert row_counts(world.ctx) == before
