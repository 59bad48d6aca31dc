"""Slack's ``app_rate_limited`` notice: when the app is sent more than 30,000 events an hour,
Slack drops events for the rest of the minute and says so once, as an outer body of its own
(not an ``event_callback``). It is acknowledged with 200 and logged once at WARNING; nothing
is handed to the core and nothing is written."""

from __future__ import annotations

import json
import logging

import pytest

from tests.support.slack import SlackWorld
from tests.support.slack_requests import assert_no_effect
from tests.support.world import row_counts

RATE_LIMITED = {
    "token": "gIkuvaNzQIHg97ATvDxqgjtO",
    "type": "app_rate_limited",
    "team_id": "T0RIDGE",
    "minute_rate_limited": 1763910420,
    "api_app_id": "A0ARBOT",
}


def assert_nothing_done(world: SlackWorld, before: dict[str, int]) -> None:
    """Nothing handed to the core, nothing written, nothing posted: the only Web API call is
    Bolt's own ``auth.test``, made once per process for any verified request."""
    assert world.runtime.pending() == 0
    world.settle()
    assert {c.method for c in world.fake.made(status=None)} <= {"auth.test"}
    assert row_counts(world.ctx) == before


def warnings_about_rate_limits(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and "rate" in r.getMessage().lower()]


def test_a_rate_limit_notice_is_acknowledged_and_logged_once(
    world: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    before = row_counts(world.ctx)
    status, answer = world.post(json.dumps(RATE_LIMITED), "application/json")
    assert (status, answer) == (200, "")
    assert_nothing_done(world, before)
    [warning] = warnings_about_rate_limits(caplog)
    assert warning.name == "bot.slack.events"
    assert "T0RIDGE" in warning.getMessage() and "1763910420" in warning.getMessage()
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []


def test_each_notice_is_one_warning(world: SlackWorld, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for minute in (1763910420, 1763910480):
        status, _ = world.post(json.dumps({**RATE_LIMITED, "minute_rate_limited": minute}), "application/json")
        assert status == 200
    assert len(warnings_about_rate_limits(caplog)) == 2


def test_a_notice_without_its_details_is_still_acknowledged(
    world: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    status, _ = world.post(json.dumps({"type": "app_rate_limited"}), "application/json")
    assert status == 200
    assert len(warnings_about_rate_limits(caplog)) == 1


def test_an_unsigned_notice_is_refused(world: SlackWorld) -> None:
    before = row_counts(world.ctx)
    status, _ = world.post(json.dumps(RATE_LIMITED), "application/json", signature="v0=" + "0" * 64)
    assert status == 401
    assert_no_effect(world, before)


def test_events_after_the_notice_are_still_handled(world: SlackWorld) -> None:
    world.post(json.dumps(RATE_LIMITED), "application/json")
    status, _ = world.event("event_message_im", text="promise C200 300 fri")
    assert status == 200
    world.settle()
    assert any("Promise recorded" in c.params["text"] for c in world.posts("D0DANA"))
