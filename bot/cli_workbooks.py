"""``arbot report weekly FILE.xlsx [--week-of DATE]`` and
``arbot export activity --from DATE --to DATE FILE.xlsx [--collector EMAIL]``: the workbooks a
collections team keeps (commands.kpi.workbook, commands.activity_export). A refusal goes to stderr
with exit code 1 and writes no file."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from bot.cli_report import ReportError, collector_named, day_of
from commands.activity_export import activity_sheet
from commands.context import AppContext
from commands.kpi.workbook import last_week, weekly_sheets
from commands.workbooks import Sheet, write_workbook
from storage.db import read_only


def run_weekly(ctx: AppContext, args: argparse.Namespace) -> int:
    try:
        day = day_of(args.week_of, "--week-of") if args.week_of else None
        period = last_week(ctx.today() if day is None else day + timedelta(days=7))
        with ctx.sessions() as session:
            sheets = weekly_sheets(ctx, read_only(session), period)
        _write(Path(args.file), sheets)
    except ReportError as exc:
        print(f"arbot report weekly: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.file}: the week {period} ({', '.join(s.title for s in sheets)})")
    return 0


def run_activity(ctx: AppContext, args: argparse.Namespace) -> int:
    try:
        first, last = day_of(args.date_from, "--from"), day_of(args.date_to, "--to")
        if last < first:
            raise ReportError(f"--to {last} is before --from {first}")
        with ctx.sessions() as session:
            collector = collector_named(session, args.collector)
            sheet = activity_sheet(
                ctx, read_only(session), first, last, collector_id=collector[1] if collector else None
            )
        _write(Path(args.file), [sheet])
    except ReportError as exc:
        print(f"arbot export activity: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.file}: {len(sheet.rows)} activities from {first} to {last}")
    return 0


def _write(path: Path, sheets: list[Sheet]) -> None:
    if path.suffix.lower() != ".xlsx":
        raise ReportError(f"{path} must end in .xlsx")
    try:
        write_workbook(path, sheets)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
