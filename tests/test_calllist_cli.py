"""``arbot calllist``: the day it picks, its three formats, and refusals that print no traceback
and no half list."""

from __future__ import annotations

import csv
import io
import json
from argparse import Namespace
from datetime import UTC, datetime

import pytest

from bot.cli_calllist import REASONS_AT, WIDTH, run
from commands.clock import FixedClock
from commands.context import AppContext
from storage.models import InvoiceKind
from tests.support.ledger import DANA, SAM, Ledger


@pytest.fixture
def ledger_ctx(ctx: AppContext) -> AppContext:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        acme = ledger.customer("C10023", "Summit Orthodontics, P.C. of the Greater Lakes Region")
        ledger.invoice(acme, "42299.50", 120)
        ledger.invoice(acme, "300.00", 3, InvoiceKind.FINAL)
        ledger.invoice(ledger.customer("C20001", "Bayview Dental", collector=SAM), "1234.56", 40)
    return ctx


def _run(
    ctx: AppContext,
    capsys: pytest.CaptureFixture[str],
    *,
    date: str | None = None,
    collector: str | None = None,
    fmt: str = "table",
) -> tuple[int, str, str]:
    code = run(ctx, Namespace(date=date, collector=collector, format=fmt))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_rows_carry_the_documented_fields(ledger_ctx: AppContext, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(ledger_ctx, capsys, fmt="json")
    assert code == 0 and err == ""
    rows = json.loads(out)
    assert [(r["collector"], r["rank"], r["customer_id"]) for r in rows] == [(DANA, 1, "C10023"), (SAM, 1, "C20001")]
    first = rows[0]
    assert first["customer_name"] == "Summit Orthodontics, P.C. of the Greater Lakes Region"
    assert first["balance_due"] == "42599.50"
    assert first["days_past_due"] == 120
    assert first["date"] == "2026-11-23"
    assert first["reasons"][:2] == ["final invoice 3 days past due", "$42,300 over 90 days"]
    assert isinstance(first["score"], float) and first["score"] > rows[1]["score"]


def test_csv_parses_back(ledger_ctx: AppContext, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(ledger_ctx, capsys, fmt="csv", collector=SAM)
    assert code == 0
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert row["customer_id"] == "C20001" and row["collector"] == SAM
    assert row["balance_due"] == "1234.56" and row["days_past_due"] == "40" and row["rank"] == "1"
    assert row["reasons"] == "$1,235 over 30 days; $1,235 past due"


def test_table_is_grouped_by_collector_and_fits_the_terminal(
    ledger_ctx: AppContext, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(ledger_ctx, capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Call list for Mon 23 Nov 2026"
    assert "Dana Reyes <dana.reyes@example.com>: 1 account" in lines
    assert "Sam Okafor <sam.okafor@example.com>: 1 account" in lines
    assert max(len(line) for line in lines) <= WIDTH
    assert any(line.startswith("  1  Summit Orthodontics, P.C. o…") and "$42,599.50" in line for line in lines)
    assert any(line.strip().startswith("C10023") for line in lines)
    reasons = " ".join(line[REASONS_AT:].strip() for line in lines if line.startswith(" "))
    assert "final invoice 3 days past due; $42,300 over 90 days" in reasons


def test_an_empty_list_says_so(ctx: AppContext, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(ctx, capsys) == (0, "No accounts to contact on Mon 23 Nov 2026.\n", "")


def test_a_holiday_rolls_to_the_next_business_day_with_a_note(
    ledger_ctx: AppContext, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(ledger_ctx, capsys, date="2026-11-26", fmt="json")
    assert code == 0
    assert err == "Thu 26 Nov 2026 is not a business day (Thanksgiving Day): showing the list for Fri 27 Nov 2026.\n"
    assert {r["date"] for r in json.loads(out)} == {"2026-11-27"}
    assert json.loads(out)[0]["reasons"][0] == "final invoice 7 days past due"


def test_a_weekend_date_rolls_to_monday(ledger_ctx: AppContext, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(ledger_ctx, capsys, date="2026-11-28")
    assert code == 0
    assert "Sat 28 Nov 2026 is not a business day (Saturday): showing the list for Mon 30 Nov 2026." in err
    assert out.startswith("Call list for Mon 30 Nov 2026")


def test_the_default_day_on_a_saturday_is_monday(ledger_ctx: AppContext, capsys: pytest.CaptureFixture[str]) -> None:
    ledger_ctx.clock = FixedClock(datetime(2026, 11, 21, 15, tzinfo=UTC))
    code, out, err = _run(ledger_ctx, capsys)
    assert (code, err) == (0, "")
    assert out.startswith("Call list for Mon 23 Nov 2026")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"date": "23/11/2026"}, "--date must look like 2026-11-23, not '23/11/2026'"),
        ({"date": "2026-02-30"}, "--date 2026-02-30 is not a date on the calendar"),
        ({"collector": "ghost@example.com"}, "ghost@example.com is not a member of the team"),
    ],
)
def test_bad_input_gets_one_clear_line(
    ledger_ctx: AppContext, capsys: pytest.CaptureFixture[str], kwargs: dict, message: str
) -> None:
    code, out, err = _run(ledger_ctx, capsys, fmt="json", **kwargs)
    assert (code, out) == (1, "")
    assert err == f"arbot calllist: {message}\n"


def test_a_bad_policy_file_is_refused_clearly(
    ledger_ctx: AppContext, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    ledger_ctx.policy_file = tmp_path / "policy.toml"
    ledger_ctx.policy_file.write_text("[rules.balance]\nper_tenfold = 'lots'\n")
    code, out, err = _run(ledger_ctx, capsys)
    assert (code, out) == (1, "")
    assert err == (
        f"arbot calllist: policy file {ledger_ctx.policy_file}: "
        "rules.balance.per_tenfold must be a number, not 'lots'\n"
    )
