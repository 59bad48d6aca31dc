"""A day's Slack traffic with arbot logging at DEBUG, set up as ``arbot serve --dev`` sets it up:
the log must hold none of the secrets the requests carried (the bot token, the signing secret,
the response URLs and trigger ids Slack hands out), neither from our code nor from a library,
also for a badly signed request, a refused request and a failing Slack."""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.log_setup import QUIET_LIBRARIES, configure
from tests.support.slack import SECRET, SlackWorld, fixture

BOT_TOKEN = "xoxb-test"


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    """The process logs at DEBUG into a file; pytest's own capture is put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    path = tmp_path / "debug.log"
    configure("DEBUG", to_file=str(path))
    yield path
    for handler in root.handlers[:]:
        handler.close()
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def test_a_day_at_debug_logs_no_secret(world: SlackWorld, debug_log: Path) -> None:  # noqa: F811
    secrets: list[str] = [SECRET, BOT_TOKEN]
    secrets.append(world.fake.response_url(world.command("U0DANA", "promise C200 300 fri")))
    secrets.append(world.fake.response_url(world.command("U0STRANGER", "status C200")))  # refused: not on the team
    world.settle()
    world.fake.fail_next("chat.postMessage", 500)  # the direct answer below cannot be shown
    world.event("event_message_im", text="status C200")
    world.settle()
    secrets.append(world.fake.response_url(world.command("U0DANA", "paid C300 700 today wire")))
    world.settle()
    card = world.last_post("CFINANCE")
    secrets.append(world.fake.response_url(world.click("U0PRIYA", card, "Partial")))  # opens a form
    world.settle()
    body = urllib.parse.urlencode(
        {
            **fixture("slash_command"),
            "text": "promise C200 1 fri",
            "response_url": "https://hooks.slack.com/commands/T0/1/sekretpath",
        }
    )
    status, _ = world.post(body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64)
    assert status == 401
    secrets.append("sekretpath")
    secrets += [json.loads(json.dumps(c.params)).get("trigger_id") for c in world.fake.made("views.open")]
    world.settle()
    for handler in logging.getLogger().handlers:
        handler.flush()
    written = debug_log.read_text(encoding="utf-8")
    assert logging.getLogger().level == logging.DEBUG
    assert "refused a Slack request" in written and "users.info for U0STRANGER" in written
    leaks = [secret for secret in secrets if secret and secret in written]
    assert leaks == []
