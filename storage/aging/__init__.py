"""Aging / open-items imports: read an export (CSV or XLSX, QuickBooks or ERP layout), check
every row, and apply it to the ledger as a snapshot with set-at-a-time SQL.

The steps are separate so the use case (commands.importing, commands.import_file) can refuse a file before opening a
write transaction: :func:`read_table` -> :func:`parse_items` -> :func:`check_items` ->
:func:`apply_snapshot`.
"""

from storage.aging.bulk import Progress, lock_imports
from storage.aging.checks import CheckedItems, check_items, format_problems
from storage.aging.dates import as_of_from_titles
from storage.aging.errors import AgingFileError
from storage.aging.items import ParsedItems, parse_items
from storage.aging.snapshot import SnapshotChanges, apply_snapshot
from storage.aging.source import RawTable, read_table

__all__ = [
    "AgingFileError",
    "CheckedItems",
    "ParsedItems",
    "Progress",
    "RawTable",
    "SnapshotChanges",
    "apply_snapshot",
    "as_of_from_titles",
    "check_items",
    "format_problems",
    "lock_imports",
    "parse_items",
    "read_table",
]
