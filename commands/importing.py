"""The aging import use case: read and check -> refuse or apply -> settle -> keep -> audit, as one
transaction.

A file with invalid rows is refused whole and nothing is written, unless the caller asks to skip
invalid rows (commands.import_file reads and checks it before the write transaction opens, so a
refused file never holds the database's write lock).

The rule for repeated and same-day imports, in one sentence: imports count in the order they
run, each compared with the ledger as the one before left it, while every invoice keeps what
imports recorded as paid on it (a fall records a payment, a rise or its return after closing
undoes up to that much and unsettles what it had settled), and content already imported for the
same as-of changes nothing (commands.import_refusals); so however often and in whatever order one
day's exports are imported, each invoice's payments net to what it lost since it was first listed.

The same content as the latest import with a later as-of records that day's snapshot and changes
nothing else. ``dry_run`` does all of it and rolls back, so what it reports is exactly what a real
import would do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.import_audit import audit_import
from commands.import_file import CheckedFile, check_file, read_bytes
from commands.import_refusals import latest_content, refuse_older, refuse_repeat, refuse_same_bytes
from commands.import_report import ImportResult, import_result
from commands.import_settling import settle_imported
from commands.kpi.alerts import check_targets
from commands.kpi.history import keep_receivables
from commands.outbox.entries import enqueue
from commands.retainer_replenishment import replenishment_requests
from commands.workflows.adjustments import close_shown
from storage.aging import Progress, SnapshotChanges, apply_snapshot, lock_imports
from storage.models import ImportBatch, TeamMember

ACTOR = "system:import"


class _RolledBack(Exception):
    """Ends a dry run's transaction after everything was computed."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("dry run")
        self.result = result


def import_aging_file(
    ctx: AppContext,
    path: str | Path,
    *,
    skip_invalid: bool = False,
    as_of: date | None = None,
    actor: str = ACTOR,
    progress: Progress | None = None,
    date_format: str | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import one open-items export as the snapshot of ``as_of`` (default: the date the report
    states, else today). Raises :class:`commands.import_refusals.ImportRefused` with the reasons
    when nothing was written. ``date_format`` ("dmy", "mdy", "ymd") says how numeric dates read
    when the file cannot tell; ``dry_run`` reports what would change and writes nothing."""
    path = Path(path)
    data = read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    if as_of is not None:
        with ctx.sessions() as session:
            refuse_same_bytes(session, digest, as_of)
    found = check_file(
        ctx, data, path.name, skip_invalid=skip_invalid, progress=progress, date_format=date_format, as_of=as_of
    )
    try:
        with ctx.sessions.begin() as session:
            result = _write(ctx, session, found, path.name, digest, actor, progress)
            if dry_run:
                raise _RolledBack(result)
    except _RolledBack as done:
        return replace(done.result, dry_run=True)
    return result


def _write(
    ctx: AppContext, session: Session, found: CheckedFile, name: str, digest: str, actor: str, progress: Progress | None
) -> ImportResult:
    """Everything an accepted file does, in the caller's transaction."""
    now = ctx.clock.now()
    lock_imports(session)
    refuse_older(session, found.as_of)
    refuse_repeat(session, found.content, found.as_of)
    latest = latest_content(session)
    batch = ImportBatch(
        file_name=name[:255],
        file_sha256=digest,
        layout=found.layout,
        as_of=found.as_of,
        rows=found.rows,
        skipped=len(found.checked.problems),
        actor=actor,
        created_at=now,
    )
    session.add(batch)
    session.flush()
    if latest == found.content:
        changes = _no_changes()
    else:
        members = dict(session.execute(select(TeamMember.email, TeamMember.id)).all())
        changes = apply_snapshot(
            session,
            found.checked.items,
            fields=found.fields,
            refused=found.checked.refused_customers,
            batch_id=batch.id,
            as_of=found.as_of,
            now=now,
            members=members,
            assign=_assigner(ctx),
            actor=actor,
            progress=progress,
        )
    batch.inserted, batch.updated, batch.closed = changes.inserted, changes.updated + changes.reopened, changes.closed
    step = progress.stage if progress else _quiet
    step("settling promises and plans", 0)
    kept, broken, reopened = settle_imported(ctx, session, batch, changes, actor)
    result = import_result(batch, found, changes, kept, broken, reopened)
    step("keeping receivables and sales by day", 0)
    keep_receivables(session, batch)
    step("checking targets and adjustments", 0)
    enqueue(session, ctx, check_targets(ctx, session, batch.as_of), origin=f"import-{batch.id}-targets")
    enqueue(session, ctx, close_shown(session, ctx, actor=actor), origin=f"import-{batch.id}-adjustments")
    enqueue(session, ctx, replenishment_requests(session, ctx, actor=actor), origin=f"import-{batch.id}-retainers")
    step("writing the audit trail", 0)
    audit_import(ctx, session, batch, changes, result, actor, found.content)
    return result


def _quiet(_name: str, _total: int) -> None:
    """No progress display."""


def _no_changes() -> SnapshotChanges:
    """The file says what the latest import said: the ledger already is this snapshot."""
    return SnapshotChanges(
        customers=0,
        customers_created=0,
        customer_changes=[],
        inserted=0,
        updated=0,
        closed=0,
        reopened=0,
        payments=pd.DataFrame({"id": [], "customer_id": [], "cents": []}, dtype="int64"),
        absorbed=[],
        paid_invoices={},
        reversed_cents=0,
    )


def _assigner(ctx: AppContext) -> Callable[[str, str], str | None]:
    """New customers the file gives no owner: the team file's assignment rule."""

    def assign(erp_id: str, name: str) -> str | None:
        member = ctx.team.collector_for(erp_id, name)
        return member.email if member else None

    return assign
