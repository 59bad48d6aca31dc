"""The terminal chat: a whole conversation piped into ``arbot chat --as ...``, and the plain-text
rendering and printing Messenger it is built from."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from bot.settings import EXAMPLE_TEAM_FILE
from bot.terminal import TerminalMessenger, converse, render_reply, strip_prefix
from commands.calendar import BusinessCalendar
from commands.clock import SystemClock
from commands.context import AppContext
from commands.messages import Button, ChatUser, Field, PostedRef, Reply, Row, Tone, Where
from commands.team import load_team, sync_members
from storage.db import make_engine, make_session_factory
from storage.models import Activity, AuditEvent, Promise
from tests.support.world import DANA, row_counts, seed_world

ARBOT = Path(sys.executable).with_name("arbot")

CONVERSATION = """\
# a collector's morning, typed the way people type
/ar help

status acme dental
log acme dental reached with Jane Doe: will pay in 5 days *wire* <!channel>
/ar promise acme dental $1.2k in 5 days wire coming
promise acme 100 fri
promise acme dental -5 fri
promise acme dental 500 1/2/3
promise acme dental 500 2020-01-01
log nobody reached
status c100
quit
log c100 voicemail this line comes after quit
"""


def _context(url: str) -> AppContext:
    team = load_team(EXAMPLE_TEAM_FILE)
    ctx = AppContext(
        sessions=make_session_factory(make_engine(url)),
        team=team,
        calendar=BusinessCalendar(team.country),
        clock=SystemClock(),
    )
    with ctx.sessions.begin() as session:
        sync_members(session, team)
    return ctx


def _arbot(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ARBOT), *args], input=stdin, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_whole_conversation_through_a_pipe(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    env = {**os.environ, "DATABASE_URL": url, "ARBOT_TEAM_FILE": str(EXAMPLE_TEAM_FILE)}
    assert _arbot("db", "upgrade", env=env).returncode == 0
    ctx = _context(url)
    ids = seed_world(ctx)
    before = row_counts(ctx)

    done = _arbot("chat", "--as", DANA, env=env, stdin=CONVERSATION)
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in out + done.stderr and "Something went wrong" not in out
    assert not out.startswith(">")  # no prompt when stdin is a pipe
    blocks = out.strip().split("\n\n")
    assert blocks[0].startswith("What I can do\n")
    assert ". help [command]" in blocks[0] and ". status <customer>" in blocks[0]
    assert blocks[1].startswith("Acme Dental Group (C100)\n  No open promises.\n  Balance: $3,350.10\n")
    assert blocks[2] == (
        "Logged call for Acme Dental Group (C100)\n  Outcome: reached\n  Spoke with: Jane Doe\n"
        "  Note: will pay in 5 days *wire* <!channel>\n  Balance: $3,350.10"
    )
    assert blocks[3].startswith(
        "Promise recorded for Acme Dental Group (C100)\n  Note: $100.10 of this account is "
        "in dispute; the customer may hold that back until it is resolved.\n"
        "  Amount: $1,200.00\n"
    )
    assert blocks[4].startswith("Error: 'acme' matches several customers: Acme Dental Group (C100), Acme Ortho (C200)")
    assert blocks[5].startswith(
        "Error: amounts must be positive; I read '-5' as -$5.00\n"
        "  I understood: customer 'acme dental'.\n"
        "  Usage: promise <customer> <amount> <date> [note]\n  Nothing was saved."
    )
    assert blocks[6].startswith("Error: I can't tell which day '1/2/3' is")
    assert blocks[7].startswith("Error: promise dates can't be in the past; I read '2020-01-01' as Wed 1 Jan 2020")
    assert blocks[8].startswith("Error: no customer matches 'nobody'")
    assert "  1. Promise: $1,200.00 by " in blocks[9] and "     wire coming" in blocks[9]
    assert ("call, reached with Jane Doe\n     will pay in 5 days *wire* <!channel>\n     By: Dana Reyes") in blocks[9]
    assert len(blocks) == 10  # nothing after quit

    after = row_counts(ctx)
    assert {t: after[t] - before[t] for t in after if after[t] != before[t]} == {
        "activities": 1,
        "promises": 1,
        "audit_events": 2,
    }
    local_today = datetime.now(ctx.team.timezone).date()
    with ctx.sessions() as session:
        activity = session.scalars(select(Activity).order_by(Activity.id.desc())).first()
        promise = session.scalars(select(Promise).order_by(Promise.id.desc())).first()
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert (activity.customer_id, activity.contact_name, activity.note) == (
        ids["C100"],
        "Jane Doe",
        "will pay in 5 days *wire* <!channel>",
    )
    assert (promise.customer_id, promise.amount, promise.note) == (ids["C100"], Decimal("1200.00"), "wire coming")
    # The subprocess ran on the real clock; allow for the test crossing midnight.
    assert promise.promised_date - local_today in (timedelta(days=5), timedelta(days=4))
    assert actions == ["activity.logged", "promise.created"]


def test_someone_not_on_the_team_cannot_start_a_chat(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}", "ARBOT_TEAM_FILE": str(EXAMPLE_TEAM_FILE)}
    done = _arbot("chat", "--as", "stranger@example.com", env=env, stdin="help\n")
    assert done.returncode == 1
    assert "stranger@example.com is not on the Ridgeview Collections team" in done.stderr
    assert done.stdout == ""


def test_an_interactive_session_prompts_and_stops_at_eof(ctx: AppContext) -> None:
    user = ChatUser(platform="terminal", user_id=DANA, email=DANA)
    out = io.StringIO()
    converse(ctx, user, io.StringIO("help\n\n# comment\n"), out, prompt=True)
    text = out.getvalue()
    assert text.startswith("> What I can do\n")
    assert text.endswith("> > > ")  # one prompt per line read, and one at EOF


def test_the_ar_prefix_is_optional() -> None:
    assert strip_prefix("/ar status acme") == "status acme"
    assert strip_prefix("/AR   list") == "list"
    assert strip_prefix("/ar") == ""
    assert strip_prefix("/argue x") == "/argue x"
    assert strip_prefix("status acme") == "status acme"


def test_replies_render_as_plain_text() -> None:
    reply = Reply(
        title="Your call list",
        text="Two accounts.\n\nCall before noon.",
        fields=(Field("Day", "Mon 23 Nov 2026"),),
        rows=(
            Row(
                "Acme (C1)",
                detail="final invoice\x1b[31m 3 days past due",
                fields=(Field("Balance", "$10.00"), Field("Days past due", "3")),
                buttons=(Button("Log call", "log_call"), Button("Paid", "paid")),
            ),
            Row("Beta (C2)"),
        ),
        buttons=(Button("Refresh", "refresh"),),
    )
    assert render_reply(reply) == (
        "Your call list\n  Two accounts.\n  Call before noon.\n  Day: Mon 23 Nov 2026\n"
        "  1. Acme (C1)\n     final invoice[31m 3 days past due\n     Balance: $10.00 · Days past due: 3\n"
        "     [Log call] [Paid]\n  2. Beta (C2)\n  [Refresh]"
    )
    error = Reply(title="no customer matches 'x'", tone=Tone.ERROR)
    assert render_reply(error) == "Error: no customer matches 'x'"
    assert (
        render_reply(Reply(title="Posted", where=Where("ar-approvals", "t1")))
        == "(to #ar-approvals, thread t1)\nPosted"
    )


def test_the_terminal_messenger_prints_where_each_post_would_go() -> None:
    out = io.StringIO()
    ids = iter(["m1", "m2"])
    messenger = TerminalMessenger(out, new_id=lambda: next(ids))
    first = messenger.post(Where("ar-team"), Reply(title="Daily lists are out"))
    second = messenger.direct("dana.reyes@example.com", Reply(title="Your list", fields=(Field("Accounts", "3"),)))
    messenger.update(first, Reply(title="Daily lists are out (updated)"))
    assert first == PostedRef(Where("ar-team"), "m1")
    assert second.message_id == "m2"
    assert out.getvalue() == (
        "[posted to #ar-team as m1]\nDaily lists are out\n\n"
        "[direct message to dana.reyes@example.com as m2]\nYour list\n  Accounts: 3\n\n"
        "[update of m1 in #ar-team]\nDaily lists are out (updated)\n\n"
    )


def test_random_ids_do_not_repeat_across_sessions() -> None:
    ids = {TerminalMessenger(io.StringIO()).post(Where("x"), Reply(title="t")).message_id for _ in range(50)}
    assert len(ids) >= 49


def test_files_a_reply_carries_are_saved_where_the_terminal_says(ctx: AppContext, tmp_path: Path) -> None:
    """The weekly workbook asked for in the terminal lands in the files folder, under a name
    the reply cannot steer elsewhere; without a folder the line says it was not saved."""
    from openpyxl import load_workbook

    from bot.terminal import saved, terminal_user
    from commands.messages import Attachment

    out = io.StringIO()
    manager = terminal_user("maria.lopez@example.com")
    converse(
        ctx,
        manager,
        io.StringIO("report weekly xlsx\n"),
        out,
        prompt=False,
        messenger=TerminalMessenger(out, files_dir=tmp_path / "files"),
    )
    [path] = (tmp_path / "files").iterdir()
    assert path.name == "weekly-2026-11-16.xlsx" and f"file: {path} (" in out.getvalue()
    assert load_workbook(path).sheetnames[0] == "KPIs"

    hostile = Attachment(name="../../etc/passwd", mime="text/plain", data=b"x")
    assert saved(hostile, tmp_path / "files") == tmp_path / "files" / "passwd"
    assert saved(hostile, tmp_path / "files") == tmp_path / "files" / "passwd-2"  # kept, not overwritten
    assert "not saved here" in render_reply(Reply(title="t", files=(hostile,)))
