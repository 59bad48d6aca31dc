"""An idle ``arbot serve`` must not carry pandas, numpy or botbuilder in memory: pandas and numpy
are for imports and call lists, botbuilder is for Teams. Each check runs the real ``arbot serve``
command line in a fresh interpreter (the test process has them all loaded already), with only
the final step replaced: the web app is built and the scheduler imported; neither is started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import EXAMPLE_TEAM_FILE

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "pandas", "botbuilder")
REPORT = "idle-imports:"

# `arbot serve` up to the point where it would listen and start the scheduler; then a call list.
CHILD = f"""
import json, sys
from datetime import date

import bot.server

def heavy():
    return sorted({{name.split(".")[0] for name in sys.modules}} & set({HEAVY!r}))

def build_only(ctx, settings):
    bot.server.build_web_app(ctx, settings)
    import scheduler.service  # what serve's scheduler hook imports when the server starts
    served = heavy()
    from commands.calllist import build_call_list
    with ctx.sessions() as session:
        build_call_list(session, ctx, day=date(2026, 11, 23))
    print({REPORT!r} + json.dumps({{"served": served, "after_call_list": heavy()}}))

bot.server.serve = build_only
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _environment(tmp_path: Path) -> dict[str, str]:
    """Slack in HTTP mode, Teams not configured, a new SQLite database, the example team."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "ARBOT_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'arbot.db'}",
        ARBOT_TEAM_FILE=str(EXAMPLE_TEAM_FILE),
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL="http://127.0.0.1:9/",
    )  # nothing listens there; nothing is sent
    return env


def _serve(tmp_path: Path, *args: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "serve", *args],
        cwd=ROOT,
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = [line for line in done.stdout.splitlines() if line.startswith(REPORT)]
    assert report, done.stdout + done.stderr
    return json.loads(report[-1].removeprefix(REPORT))


@pytest.fixture(scope="module")
def slack_only(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    return _serve(tmp_path_factory.mktemp("slack_only"))


def test_slack_only_server_loads_neither_pandas_nor_numpy(slack_only: dict[str, list[str]]) -> None:
    assert not {"numpy", "pandas"} & set(slack_only["served"])


def test_building_a_call_list_loads_pandas_and_numpy(slack_only: dict[str, list[str]]) -> None:
    """The check above can fail: the same process, once it has built a list, has them both."""
    assert {"numpy", "pandas"} <= set(slack_only["after_call_list"])


def test_slack_only_server_does_not_load_botbuilder(slack_only: dict[str, list[str]]) -> None:
    assert "botbuilder" not in slack_only["served"]


def test_teams_in_dev_mode_loads_botbuilder(tmp_path: Path) -> None:
    """The botbuilder check can fail: with Teams served (--dev), it is loaded."""
    assert "botbuilder" in _serve(tmp_path, "--dev")["served"]
