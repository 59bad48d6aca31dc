"""``arbot scheduler``: one tick on demand (``--once``, optionally at a pretend time) prints
what would be posted; bad options refuse without running anything; the long-running form stops
cleanly on Ctrl-C or a service manager's SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.cli_scheduler import run as cli_run
from bot.settings import EXAMPLE_TEAM_FILE
from commands.context import AppContext
from scheduler.service import tick
from storage.models import JobRun, OutboxEntry
from tests.support.portfolio import DANA, LEE, LIST_TITLE, SAM, seed_portfolio


@pytest.fixture
def team_ctx(ctx: AppContext) -> AppContext:
    seed_portfolio(ctx)
    return ctx


def test_without_a_platform_once_is_a_preview_and_the_morning_stays_for_serve(
    team_ctx: AppContext, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert cli_run(team_ctx, Namespace(once=True, at="2026-11-23 08:05")) == 0
    out = capsys.readouterr().out
    assert out.startswith("preview (no chat platform is configured): nothing was recorded")
    assert out.count(LIST_TITLE) == 2 and DANA in out and SAM in out and LEE not in out
    assert out.count("Call lists for Mon 23 Nov") == 1 and "#collections" in out
    assert "[Log call] [Promise] [Paid]" in out
    assert "daily_lists for 2026-11-23: preview, 3 message(s) queued" in out
    with team_ctx.sessions() as session:
        assert session.scalars(select(JobRun)).all() == [] and session.scalars(select(OutboxEntry)).all() == []
    # so the real run later (arbot serve's scheduler) still posts the morning
    assert {o.key: o.status for o in tick(team_ctx)}["daily_lists"] == "done"
    assert cli_run(team_ctx, Namespace(once=True, at="2026-11-23 08:06", dry_run=True)) == 0
    assert "preview (--dry-run)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (Namespace(once=True, at="Monday at eight"), "is not a time like 2026-11-23 08:00"),
        (Namespace(once=False, at="2026-11-23 08:00"), "--at needs --once"),
        (Namespace(once=False, at=None), "no chat platform configured"),
    ],
)
def test_cli_refuses_bad_options_and_runs_nothing(
    team_ctx: AppContext, capsys: pytest.CaptureFixture[str], args: Namespace, message: str
) -> None:
    assert cli_run(team_ctx, args) == 2
    assert message in capsys.readouterr().err
    with team_ctx.sessions() as session:
        assert session.scalars(select(JobRun)).all() == []


RUN_FOREVER = """
import sys
from argparse import Namespace
from bot.app import build_context
from bot.cli_scheduler import run
from bot.settings import Settings
sys.exit(run(build_context(Settings.from_env()), Namespace(once=False, at=None)))
"""


# A shell starts a background job (`arbot scheduler &`) with SIGINT ignored, and so may the
# process that starts this one: the scheduler still stops on it.
AS_A_BACKGROUND_JOB = "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN)\n"


@pytest.mark.parametrize(
    "stop, prelude",
    [(signal.SIGINT, ""), (signal.SIGTERM, ""), (signal.SIGINT, AS_A_BACKGROUND_JOB)],
    ids=["sigint", "sigterm", "sigint-inherited-ignored"],
)
def test_the_long_running_scheduler_stops_cleanly(
    team_ctx: AppContext, engine: Engine, stop: signal.Signals, prelude: str
) -> None:
    env = dict(
        os.environ,
        DATABASE_URL=engine.url.render_as_string(hide_password=False),
        ARBOT_TEAM_FILE=str(EXAMPLE_TEAM_FILE),
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_API_URL="http://127.0.0.1:9/api/",
    )  # a platform to post on, never reached
    proc = subprocess.Popen(
        [sys.executable, "-c", prelude + RUN_FOREVER],
        cwd=Path(__file__).parents[1],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert first.startswith("scheduler running for Ridgeview Collections"), err
    assert (proc.returncode, out.strip().splitlines()[-1]) == (0, "scheduler stopped"), err
