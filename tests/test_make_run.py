"""`make run` without make: on a fresh working folder, the installed ``arbot`` migrates an SQLite
database, loads the demo portfolio and prints the call list, with reasons, for every collector
of the example team; the demo's resting accounts (promised, on a plan, in credit, already worked
this morning) stay off it. Loading the demo again writes nothing twice."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.settings import EXAMPLE_TEAM_FILE
from commands.team import load_team
from storage.db import make_engine
from storage.models import (
    Activity,
    Customer,
    Invoice,
    PaymentPlan,
    PlanStatus,
    Promise,
    PromiseStatus,
    TeamMember,
)

ARBOT = Path(sys.executable).with_name("arbot")
REASON = re.compile(
    r"past due|over \d+ days|recurring invoices unpaid|final invoice|broke promise|"
    r"the best time to call|crosses \d+ days past due|late on average|promises"
)
HEADER = re.compile(r"^(?P<name>.+) <(?P<email>[^>]+)>: (?P<count>\d+) accounts?$")
ACCOUNT = re.compile(r"^\s*\d+  .*\$-?[\d,]+\.\d\d\s+\d+  (?P<reasons>\S.*)$")
ERP_ID = re.compile(r"^\s+(?P<erp>DEMO-C\d+)")


def _arbot(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ARBOT_TEAM_FILE", "ARBOT_POLICY_FILE")}
    env["DATABASE_URL"] = f"sqlite:///{workdir / 'arbot.db'}"
    return subprocess.run([str(ARBOT), *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=300)


def _owners(db: Path) -> dict[str, str]:
    """ERP id -> the email of the collector who owns the account, read from the database."""
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Customer.erp_id, TeamMember.email).join(TeamMember, TeamMember.id == Customer.collector_id)
            ).all()
    finally:
        engine.dispose()
    return dict(rows)


def _resting(db: Path, anchor: date) -> set[str]:
    """ERP ids the list must leave out: an open promise, a plan in good standing, a net credit,
    or someone at the customer already reached or called three times this morning."""
    start = datetime.combine(anchor, time(0), ZoneInfo("America/Chicago"))
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            customer_ids = [
                select(Promise.customer_id).where(Promise.status == PromiseStatus.OPEN),
                select(PaymentPlan.customer_id).where(PaymentPlan.status == PlanStatus.ACTIVE),
                select(Invoice.customer_id)
                .where(Invoice.closed_on.is_(None))
                .group_by(Invoice.customer_id)
                .having(func.sum(Invoice.open_balance) < 0),
                select(Activity.customer_id).where(Activity.occurred_at >= start),
            ]
            ids = {cid for stmt in customer_ids for cid in conn.execute(stmt).scalars()}
            return set(conn.execute(select(Customer.erp_id).where(Customer.id.in_(ids))).scalars())
    finally:
        engine.dispose()


def _sections(table: str) -> dict[str, list[tuple[str, str]]]:
    """Collector email -> (ERP id, reasons) of each listed account, read off the printed table:
    a header per collector, then per account a line with the reasons and a line with the ERP id."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current, reasons = "", ""
    for line in table.splitlines():
        if header := HEADER.match(line):
            current = header["email"]
            sections[current] = []
        elif account := ACCOUNT.match(line):
            reasons = account["reasons"]
        elif (erp := ERP_ID.match(line)) and current:
            sections[current].append((erp["erp"], reasons))
            reasons = ""
    return sections


def test_make_run_prints_the_demo_call_list_with_reasons(tmp_path: Path) -> None:
    assert ARBOT.exists(), f"{ARBOT} is missing: install the project into this virtualenv"
    for args in (("db", "upgrade"), ("demo",)):
        done = _arbot(tmp_path, *args)
        assert done.returncode == 0, done.stderr
    anchor = date.fromisoformat(re.search(r"as of \w+ (\d{4}-\d\d-\d\d)", done.stdout)[1])

    again = _arbot(tmp_path, "demo")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "demo portfolio already loaded (300 customers); use a fresh DATABASE_URL to reload"

    listing = _arbot(tmp_path, "calllist")
    assert listing.returncode == 0, listing.stderr
    assert "Traceback" not in listing.stderr and listing.stdout.startswith("Call list for ")
    owners = _owners(tmp_path / "arbot.db")
    sections = _sections(listing.stdout)
    assert set(sections) == {m.email for m in load_team(EXAMPLE_TEAM_FILE).collectors}
    for email, accounts in sections.items():
        count = next(
            int(h["count"]) for line in listing.stdout.splitlines() if (h := HEADER.match(line)) and h["email"] == email
        )
        assert len(accounts) == count >= 10, email
        assert all(owners[erp] == email for erp, _ in accounts), f"{email} lists someone else's account"
        assert all(REASON.search(reasons) for _, reasons in accounts), f"{email}: an account has no reason"
    resting = _resting(tmp_path / "arbot.db", anchor)
    assert len(resting) >= 10
    assert not resting & {erp for accounts in sections.values() for erp, _ in accounts}
