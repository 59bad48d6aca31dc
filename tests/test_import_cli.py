"""`arbot import` as a person runs it: a summary on success, reasons on stderr and exit 1 on a
refused file, exit 2 on a malformed --as-of."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import build_parser
from bot.cli_import import _TerminalBar, run
from commands.context import AppContext
from commands.importing import import_aging_file
from storage.models import ImportBatch


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["import", *argv])


def test_import_prints_a_summary(ctx: AppContext, samples: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(ctx, _args(str(samples / "quickbooks_ar_aging_detail.csv")))
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines() == [
        "Imported quickbooks_ar_aging_detail.csv as batch #1 (QuickBooks A/R Aging Detail, as of 2026-11-23)",
        "  rows:       60 read, 60 imported, 0 skipped",
        "  customers:  25 (25 new, 0 updated)",
        "  invoices:   60 inserted, 0 updated, 0 closed",
        "  payments:   0 seen, $0.00 in all",
        "  promises:   0 kept, 0 broken",
        "  open total: $369,527.08",
    ]


def test_a_refused_file_exits_1_with_reasons_on_stderr(
    ctx: AppContext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Customer,Num,Due Date,Balance\nAcme,1,2026-11-01,5.00\nBeta,2,someday,5.00\n")
    code = run(ctx, _args(str(bad)))
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "bad.csv: 1 of 2 rows are invalid; nothing was imported",
        "row 3: due date 'someday' is not a date",
    ]
    with ctx.sessions() as session:
        assert session.scalar(select(func.count(ImportBatch.id))) == 0


def test_skip_invalid_lists_the_skipped_rows(
    ctx: AppContext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Customer,Num,Due Date,Balance\nAcme,1,2026-11-01,5.00\nBeta,2,someday,5.00\n")
    code = run(ctx, _args(str(bad), "--skip-invalid", "--as-of", "2026-11-20"))
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert "as of 2026-11-20" in out[0]
    assert out[1] == "  rows:       2 read, 1 imported, 1 skipped"
    assert out[-2:] == ["Skipped rows:", "  row 3: due date 'someday' is not a date"]


def test_a_malformed_as_of_is_a_usage_error(ctx: AppContext, samples: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(ctx, _args(str(samples / "erp_open_items.csv"), "--as-of", "11/23/2026"))
    assert code == 2
    assert "--as-of must be a date like 2026-11-23" in capsys.readouterr().err


class _Stages:
    """Records what an import reports through the progress port."""

    def __init__(self) -> None:
        self.seen: list[list[object]] = []

    def stage(self, name: str, total: int) -> None:
        self.seen.append([name, total, 0])

    def advance(self, count: int) -> None:
        self.seen[-1][2] += count


def test_progress_names_each_stage_and_counts_its_rows(ctx: AppContext, samples: Path) -> None:
    stages = _Stages()
    import_aging_file(ctx, samples / "erp_open_items.csv", progress=stages)
    assert stages.seen == [
        ["reading and checking", 0, 0],
        ["adding customers", 25, 25],
        ["comparing with the ledger", 0, 0],
        ["inserting invoices", 60, 60],
        ["packing open items for the call list", 0, 0],
        ["writing the call list's packs", 25, 25],
        ["reconciling payments with history", 0, 0],
        ["settling promises and plans", 0, 0],
        ["keeping receivables and sales by day", 0, 0],
        ["checking targets and adjustments", 0, 0],
        ["writing the audit trail", 0, 0],
    ]


def test_the_terminal_bar_draws_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    bar = _TerminalBar()
    bar.stage("inserting invoices", 2_000)
    bar.advance(2_000)
    bar.close()
    err = capsys.readouterr().err
    assert "inserting invoices" in err and "2.00k/2.00k" in err
