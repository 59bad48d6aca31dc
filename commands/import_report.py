"""What an import reports: :class:`ImportResult`, the counts and totals a person reads after an
import (or a dry run), worked out from the batch, the checked file and the snapshot's changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np

from commands.import_file import CheckedFile
from storage.aging import SnapshotChanges, format_problems
from storage.models import ImportBatch
from storage.types import from_cents


@dataclass(frozen=True)
class ImportResult:
    batch_id: int
    file_name: str
    layout: str
    as_of: date
    rows: int  # item rows in the file (report headings and totals excluded)
    skipped: list[str]  # "row N: reason" for rows left out with skip_invalid
    skipped_rows: int
    customers: int
    customers_created: int
    customers_updated: int
    inserted: int
    updated: int
    closed: int
    payments: int
    payments_total: Decimal
    promises_kept: int
    promises_broken: int
    open_total: Decimal
    reopened: int = 0
    reversed_total: Decimal = Decimal("0.00")  # taken back from earlier imports' payments
    promises_reopened: int = 0
    confirmed_in_erp: int = 0  # payments finance confirmed that this export now shows
    confirmed_in_erp_total: Decimal = Decimal("0.00")
    dry_run: bool = False

    @property
    def unchanged(self) -> bool:
        """Nothing in the ledger moved but the day of the snapshot."""
        return not (
            self.inserted
            or self.updated
            or self.closed
            or self.reopened
            or self.payments
            or self.customers_created
            or self.customers_updated
            or self.confirmed_in_erp
            or self.promises_kept
            or self.promises_broken
            or self.promises_reopened
        )


def import_result(
    batch: ImportBatch, found: CheckedFile, changes: SnapshotChanges, kept: int, broken: int, reopened_promises: int
) -> ImportResult:
    """The figures of one applied snapshot; payments are counted and summed by sign."""
    items = found.checked.items
    cents = changes.payments["cents"].to_numpy(dtype=np.int64)
    return ImportResult(
        batch_id=batch.id,
        file_name=batch.file_name,
        layout=found.layout,
        as_of=batch.as_of,
        rows=found.rows,
        skipped=format_problems(found.checked.problems),
        skipped_rows=len(found.checked.problems),
        customers=changes.customers,
        customers_created=changes.customers_created,
        customers_updated=len(changes.customer_changes),
        inserted=changes.inserted,
        updated=changes.updated,
        closed=changes.closed,
        payments=int((cents > 0).sum()),
        payments_total=from_cents(int(cents[cents > 0].sum())),
        promises_kept=kept,
        promises_broken=broken,
        open_total=from_cents(int(items["open_balance"].sum())),
        reopened=changes.reopened,
        reversed_total=from_cents(-int(cents[cents < 0].sum())),
        promises_reopened=reopened_promises,
        confirmed_in_erp=len(changes.absorbed),
        confirmed_in_erp_total=from_cents(sum(cents for _p, _c, cents in changes.absorbed)),
    )
