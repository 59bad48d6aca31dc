"""Sentences, not tracebacks, when the database cannot be used: a read-only or locked SQLite file
at start-up (``arbot calllist``, ``arbot serve``, ``arbot import``) gives one line naming the
problem and exit code 3; in chat, the same problem is a sentence with a reference; the terminal
chat keeps its log out of the conversation."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest

from bot.settings import EXAMPLE_TEAM_FILE
from bot.terminal import TerminalMessenger, converse, terminal_user
from commands.calendar import BusinessCalendar
from commands.clock import FixedClock
from commands.context import AppContext
from commands.team import load_team, sync_members
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from tests.conftest import MONDAY_MORNING
from tests.support.world import DANA, seed_world

ARBOT = Path(sys.executable).with_name("arbot")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR)", re.MULTILINE)
SAMPLE = Path(__file__).parent / "fixtures" / "samples"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A migrated SQLite file with the example team and a few customers."""
    path = tmp_path / "arbot.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    team = load_team(EXAMPLE_TEAM_FILE)
    ctx = AppContext(
        sessions=make_session_factory(engine),
        team=team,
        calendar=BusinessCalendar(team.country),
        clock=FixedClock(MONDAY_MORNING),
    )
    with ctx.sessions.begin() as session:
        sync_members(session, team)
    seed_world(ctx)
    engine.dispose()
    return path


def read_only_url(path: Path) -> str:
    """The file opened read-only, as SQLite sees a file it may not write (the tests run as a user
    that file permissions do not stop)."""
    return f"sqlite:///file:{path}?mode=ro&uri=true"


def arbot(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "ARBOT_"))}
    environ.update(DATABASE_URL=url, ARBOT_TEAM_FILE=str(EXAMPLE_TEAM_FILE), **env)
    return subprocess.run([str(ARBOT), *args], env=environ, capture_output=True, text=True, timeout=120)


def one_line(done: subprocess.CompletedProcess[str], words: str) -> str:
    assert done.returncode == 3, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert words in lines[0], lines[0]
    return lines[0]


def test_a_read_only_database_still_reads_and_refuses_an_import_in_one_line(database: Path) -> None:
    url = read_only_url(database)
    listed = arbot(url, "calllist")
    assert listed.returncode == 0 and "Dana Reyes" in listed.stdout, listed.stderr
    done = arbot(url, "import", str(SAMPLE / "erp_open_items.csv"))
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("arbot import: the database is read-only"), done.stderr


@pytest.mark.parametrize("command", [("calllist",), ("serve", "--port", "0"), ("demo",)])
def test_a_locked_database_gives_one_line(database: Path, command: tuple[str, ...]) -> None:
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        line = one_line(
            arbot(f"sqlite:///{database}", *command, ARBOT_DB_BUSY_TIMEOUT="0.5"),
            "the database is locked by another program",
        )
        assert line.startswith(f"arbot {command[0]}:") and str(database) in line
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture
def read_only_ctx(database: Path) -> Iterator[AppContext]:
    engine = make_engine(read_only_url(database))
    team = load_team(EXAMPLE_TEAM_FILE)
    yield AppContext(
        sessions=make_session_factory(engine),
        team=team,
        calendar=BusinessCalendar(team.country),
        clock=FixedClock(MONDAY_MORNING),
    )
    engine.dispose()


def test_in_the_terminal_chat_a_read_only_database_is_a_sentence(read_only_ctx: AppContext) -> None:
    out = StringIO()
    converse(
        read_only_ctx,
        terminal_user(DANA),
        StringIO("status C100\npromise C200 300 fri\n"),
        out,
        prompt=False,
        messenger=TerminalMessenger(out),
    )
    said = out.getvalue()
    assert "Acme Dental Group" in said, "reading still works"
    assert "the database is read-only" in said and "nothing was saved (ref " in said, said
    assert "Traceback" not in said


def test_the_terminal_chat_logs_to_its_file_not_the_conversation(database: Path, tmp_path: Path) -> None:
    log_file = tmp_path / "chat.log"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "ARBOT_"))}
    environ.update(
        DATABASE_URL=f"sqlite:///{database}",
        ARBOT_TEAM_FILE=str(EXAMPLE_TEAM_FILE),
        ARBOT_LOG_LEVEL="DEBUG",
        ARBOT_LOG_FILE=str(log_file),
    )
    done = subprocess.run(
        [str(ARBOT), "chat", "--as", DANA],
        input="status C100\nfrobnicate\n",
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Acme Dental Group" in done.stdout
    assert LOG_LINE.search(done.stdout) is None and LOG_LINE.search(done.stderr) is None, done.stdout + done.stderr
    assert LOG_LINE.search(log_file.read_text()), "the log went to ARBOT_LOG_FILE"
