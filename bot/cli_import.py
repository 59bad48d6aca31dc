"""``arbot import FILE [--skip-invalid] [--as-of YYYY-MM-DD]``: load an AR aging / open-items
export and print what changed. A refused file prints its reasons on stderr and exits 1."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from commands.context import AppContext
from commands.importing import ImportRefused, ImportResult, import_aging_file

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
        result = import_aging_file(ctx, args.file, skip_invalid=args.skip_invalid, as_of=as_of, progress=bar)
    except ImportRefused as refused:
        print("\n".join(refused.messages), file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"arbot import: the database refused the import; nothing was written ({exc.__class__.__name__})",
              file=sys.stderr)
        return 1
    finally:
        if bar:
            bar.close()
    print("\n".join(summary(result)))
    return 0


def summary(result: ImportResult) -> list[str]:
    """The lines a person reads after an import."""
    imported = result.rows - result.skipped_rows
    lines = [
        f"Imported {result.file_name} as batch #{result.batch_id} "
        f"({LAYOUTS.get(result.layout, result.layout)}, as of {result.as_of.isoformat()})",
        f"  rows:       {result.rows:,} read, {imported:,} imported, {result.skipped_rows:,} skipped",
        f"  customers:  {result.customers:,} ({result.customers_created:,} new, {result.customers_updated:,} updated)",
        f"  invoices:   {result.inserted:,} inserted, {result.updated:,} updated, {result.closed:,} closed",
        f"  payments:   {result.payments:,} seen, {money(result.payments_total)} in all",
        f"  promises:   {result.promises_kept:,} kept, {result.promises_broken:,} broken",
        f"  open total: {money(result.open_total)}",
    ]
    if result.skipped:
        lines += ["Skipped rows:", *(f"  {line}" for line in result.skipped)]
    return lines


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
