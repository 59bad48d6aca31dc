"""``report`` and ``report explain`` typed in chat, on the hand-worked ledger of test_kpi
(today is Mon 23 Nov 2026, so "last month" is October)."""

from __future__ import annotations

from pathlib import Path

from commands.context import AppContext
from commands.messages import Tone
from tests.support.harness import Conversation
from tests.support.kpi_ledger import DANA, build_ledger

MARIA, ALEX, PRIYA = "maria.lopez@example.com", "alex.kim@example.com", "priya.shah@example.com"


def _fields(reply) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f.label: f.value for f in reply.fields}


def test_manager_reads_last_months_kpis(ctx: AppContext, tmp_path: Path) -> None:
    build_ledger(ctx, tmp_path)
    [card] = Conversation(ctx).say(MARIA, "report last month")
    assert card.title == "KPIs for the team, 2026-10-01 to 2026-10-31" and card.private
    fields = _fields(card)
    assert (
        fields["Beginning receivables (B)"],
        fields["Credit sales (S)"],
        fields["Ending receivables (E)"],
        fields["Ending current (C)"],
    ) == ("$3,400.00", "$1,650.00", "$1,950.00", "$1,400.00")
    assert (
        fields["CEI"],
        fields["DSO (days)"],
        fields["ADD (days)"],
        fields["Promises kept %"],
        fields["90+ past due"],
    ) == ("84.93", "36.64", "10.33", "66.67", "$500.00")
    assert "2 kept, 1 broken" in card.text


def test_explain_cei_puts_the_figures_in_the_formula(ctx: AppContext, tmp_path: Path) -> None:
    build_ledger(ctx, tmp_path)
    [reply] = Conversation(ctx).say(ALEX, "report explain CEI last month")
    assert reply.title == "CEI = (B + S − E) / (B + S − C) × 100"
    lines = reply.text.splitlines()
    assert lines[0] == "B (beginning receivables, close of 2026-09-30, snapshot of 2026-09-30) = 3400.00"
    assert lines[2] == "E (ending receivables, close of 2026-10-31, snapshot of 2026-10-31) = 1950.00"
    assert lines[-1] == "(3400.00 + 1650.00 − 1950.00) / (3400.00 + 1650.00 − 1400.00) × 100 = 84.93"


def test_periods_and_a_named_collector(ctx: AppContext, tmp_path: Path) -> None:
    build_ledger(ctx, tmp_path)
    chat = Conversation(ctx)
    [card] = chat.say(PRIYA, "report kpi 2026-10-01 2026-10-31 dana")
    assert card.title == f"KPIs for {DANA}, 2026-10-01 to 2026-10-31"
    assert _fields(card)["CEI"] == "85.71"
    [month] = chat.say(MARIA, "report")
    assert month.title == "KPIs for the team, 2026-11-01 to 2026-11-23"
    [dso] = chat.say(MARIA, "report explain dso 2026-10-01 2026-10-31")
    assert dso.text.splitlines()[-1] == "1950.00 / 1650.00 × 31 = 36.64 days"


def test_a_collector_sees_only_their_own_figures(ctx: AppContext, tmp_path: Path) -> None:
    build_ledger(ctx, tmp_path)
    chat = Conversation(ctx)
    [own] = chat.say(DANA, "report last month")
    assert own.title == f"KPIs for {DANA}, 2026-10-01 to 2026-10-31"
    assert _fields(own)["Beginning receivables (B)"] == "$2,800.00"
    [refused] = chat.say(DANA, "report last month sam")
    assert refused.tone is Tone.ERROR and "own figures only" in refused.title


def test_refusals(ctx: AppContext) -> None:
    chat = Conversation(ctx)
    assert "which figure?" in chat.say(MARIA, "report explain nothing")[0].title
    assert "two dates" in chat.say(MARIA, "report 2026-10-01")[0].title
    assert "ends" in chat.say(MARIA, "report 2026-10-31 2026-10-01")[0].title
    assert "no single collector" in chat.say(MARIA, "report last month nobody")[0].title


def test_report_weekly_in_chat(ctx: AppContext, tmp_path: Path) -> None:
    """Last week (16-22 Nov): the digest with its chart, or the workbook as a file; managers
    and finance only."""
    import io

    from openpyxl import load_workbook

    build_ledger(ctx, tmp_path)
    chat = Conversation(ctx)
    [digest] = chat.say(MARIA, "report weekly")
    assert digest.title == "Weekly digest: Mon 16 Nov 2026 to Sun 22 Nov 2026" and digest.private
    assert digest.where is None and digest.files[0].data.startswith(b"\x89PNG")
    [book] = chat.say(PRIYA, "report weekly xlsx")
    assert book.title == "Weekly workbook, 2026-11-16 to 2026-11-22" and book.private
    (file,) = book.files
    assert file.name == "weekly-2026-11-16.xlsx"
    assert load_workbook(io.BytesIO(file.data)).sheetnames == [
        "KPIs",
        "Aging by customer",
        "Activity",
        "Promises",
        "Disputes",
    ]
    [refused] = chat.say(DANA, "report weekly xlsx")
    assert refused.tone is Tone.ERROR and "whole team" in refused.title and not refused.files
    [typo] = chat.say(MARIA, "report weekly pdf")
    assert typo.tone is Tone.ERROR and "report weekly xlsx" in typo.title
