"""``arbot import FILE [--skip-invalid] [--as-of YYYY-MM-DD] [--date-format dmy|mdy|ymd] [--dry-run]``:
load an AR aging / open-items export and print what changed (or, with --dry-run, what would).
A refused file prints its reasons on stderr and exits 1."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from commands.context import AppContext
from commands.import_refusals import ImportRefused
from commands.import_report import ImportResult
from commands.importing import import_aging_file
from storage.db_problems import database_problem

# Below this a file imports in about a second: no bar to flash on screen.
LARGE_FILE_BYTES = 8 * 1024 * 1024
LAYOUTS = {"quickbooks_aging_detail": "QuickBooks A/R Aging Detail", "generic": "open items by column name"}


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        print(f"arbot import: --as-of must be a date like 2026-11-23, not {args.as_of!r}", file=sys.stderr)
        return 2
    bar = _TerminalBar() if _wants_bar(Path(args.file)) else None
    try:
        result = import_aging_file(
            ctx,
            args.file,
            skip_invalid=args.skip_invalid,
            as_of=as_of,
            progress=bar,
            date_format=getattr(args, "date_format", None),
            dry_run=getattr(args, "dry_run", False),
        )
    except ImportRefused as refused:
        print("\n".join(refused.messages), file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        why = database_problem(exc) or f"the database refused the import ({exc.__class__.__name__})"
        print(f"arbot import: {why}; nothing was written", file=sys.stderr)
        return 1
    finally:
        if bar:
            bar.close()
    print("\n".join(summary(result)))
    return 0


def summary(result: ImportResult) -> list[str]:
    """The lines a person reads after an import."""
    imported = result.rows - result.skipped_rows
    layout = f"{LAYOUTS.get(result.layout, result.layout)}, as of {result.as_of.isoformat()}"
    head = (
        f"Dry run of {result.file_name}: nothing was written ({layout})"
        if result.dry_run
        else f"Imported {result.file_name} as batch #{result.batch_id} ({layout})"
    )
    if result.unchanged:
        return [
            head,
            "  no changes: the ledger already shows this snapshot",
            f"  open total: {money(result.open_total)}",
            *_skipped(result),
        ]
    lines = [
        head,
        f"  rows:       {result.rows:,} read, {imported:,} imported, {result.skipped_rows:,} skipped",
        f"  customers:  {result.customers:,} ({result.customers_created:,} new, {result.customers_updated:,} updated)",
        f"  invoices:   {result.inserted:,} inserted, {result.updated:,} updated, {result.closed:,} closed"
        + (f", {result.reopened:,} reopened" if result.reopened else ""),
        f"  payments:   {result.payments:,} seen, {money(result.payments_total)} in all"
        + (f"; {money(result.reversed_total)} taken back from invoices listed again" if result.reversed_total else ""),
        f"  promises:   {result.promises_kept:,} kept, {result.promises_broken:,} broken"
        + (f", {result.promises_reopened:,} open again" if result.promises_reopened else ""),
    ]
    if result.confirmed_in_erp:
        lines.append(
            f"  confirmed:  {result.confirmed_in_erp:,} payments finance confirmed are now in the export "
            f"({money(result.confirmed_in_erp_total)})"
        )
    return [*lines, f"  open total: {money(result.open_total)}", *_skipped(result)]


def _skipped(result: ImportResult) -> list[str]:
    return ["Skipped rows:", *(f"  {line}" for line in result.skipped)] if result.skipped else []


def money(amount: Decimal) -> str:
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


def _wants_bar(path: Path) -> bool:
    """A bar only for a person at a terminal, and only when the wait is noticeable."""
    try:
        return sys.stderr.isatty() and path.stat().st_size >= LARGE_FILE_BYTES
    except OSError:
        return False


class _TerminalBar:
    """tqdm on stderr, one bar per stage of the import."""

    def __init__(self) -> None:
        self._bar: Any = None

    def stage(self, name: str, total: int) -> None:
        from tqdm import tqdm

        self.close()
        self._bar = tqdm(total=total or None, desc=name, unit=" rows", unit_scale=True, file=sys.stderr)

    def advance(self, count: int) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
