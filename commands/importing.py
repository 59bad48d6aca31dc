"""The aging import use case: parse -> check -> diff -> write -> settle, as one transaction.

A file with invalid rows is refused whole (every reason, by the line a person sees) and nothing is
written, unless the caller asks to skip invalid rows. Reading and checking happen before the write
transaction opens, so a refused file never holds the database's write lock.

The rule for repeated and same-day imports, in one sentence: imports count in the order they
run, each compared with the ledger as the one before left it, while every invoice keeps what
imports recorded as paid on it (a fall records a payment, a rise or its return after closing
undoes up to that much and unsettles what it had settled), and content already imported for the
same as-of changes nothing; so however often and in whatever order one day's exports are
imported, each invoice's payments net to what it lost since it was first listed.

The same content as the latest import with a later as-of records that day's snapshot and changes
nothing else. ``dry_run`` does all of it and rolls back, so what it reports is exactly what a real
import would do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.import_money import settle_recording, unsettle
from commands.kpi.alerts import check_targets
from commands.kpi.history import keep_receivables
from commands.outbox.entries import enqueue
from commands.promise_checks import break_overdue_promises
from commands.retainer_replenishment import replenishment_requests
from commands.workflows.adjustments import close_shown
from storage.aging import (
    AgingFileError,
    CheckedItems,
    Progress,
    SnapshotChanges,
    apply_snapshot,
    as_of_from_titles,
    check_items,
    format_problems,
    lock_imports,
    parse_items,
    read_table,
)
from storage.audit import record
from storage.models import (
    AuditEvent,
    ImportBatch,
    Payment,
    PaymentPlan,
    PlanStatus,
    Promise,
    PromiseStatus,
    TeamMember,
)
from storage.types import from_cents

ACTOR = "system:import"


class ImportRefused(Exception):
    """The file was not imported; ``messages`` say why (one line each)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


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


@dataclass(frozen=True)
class _Checked:
    checked: CheckedItems
    layout: str
    fields: frozenset[str]
    rows: int
    as_of: date
    content: str  # digest of what the file says (items, refused customers, columns), not of its bytes


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
    states, else today). Raises :class:`ImportRefused` with the reasons when nothing was written.
    ``date_format`` ("dmy", "mdy", "ymd") says how numeric dates read when the file cannot tell;
    ``dry_run`` reports what would change and writes nothing."""
    path = Path(path)
    data = _read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    if as_of is not None:
        with ctx.sessions() as session:
            _refuse_same_bytes(session, digest, as_of)
    found = _check(ctx, data, path.name, skip_invalid, progress, date_format, as_of)
    try:
        with ctx.sessions.begin() as session:
            result = _write(ctx, session, found, path.name, digest, actor, progress)
            if dry_run:
                raise _RolledBack(result)
    except _RolledBack as done:
        return replace(done.result, dry_run=True)
    return result


def _write(
    ctx: AppContext, session: Session, found: _Checked, name: str, digest: str, actor: str, progress: Progress | None
) -> ImportResult:
    """Everything an accepted file does, in the caller's transaction."""
    now = ctx.clock.now()
    lock_imports(session)
    _refuse_older(session, found.as_of)
    _refuse_repeat(session, found)
    latest = _latest_content(session)
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
    kept, broken, reopened = _settle(ctx, session, batch, changes, actor)
    result = _result(batch, found, changes, kept, broken, reopened)
    step("keeping receivables and sales by day", 0)
    keep_receivables(session, batch)
    step("checking targets and adjustments", 0)
    enqueue(session, ctx, check_targets(ctx, session, batch.as_of), origin=f"import-{batch.id}-targets")
    enqueue(session, ctx, close_shown(session, ctx, actor=actor), origin=f"import-{batch.id}-adjustments")
    enqueue(session, ctx, replenishment_requests(session, ctx, actor=actor), origin=f"import-{batch.id}-retainers")
    step("writing the audit trail", 0)
    _audit(ctx, session, batch, changes, result, actor, found.content)
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


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImportRefused([f"{path}: no such file"]) from None
    except OSError as exc:
        raise ImportRefused([f"{path}: cannot be read ({exc.strerror or exc})"]) from None


def _check(
    ctx: AppContext,
    data: bytes,
    name: str,
    skip_invalid: bool,
    progress: Progress | None,
    date_format: str | None,
    as_of: date | None,
) -> _Checked:
    """Read, parse and check the file; refuse it whole unless invalid rows may be skipped."""
    if progress:
        progress.stage("reading and checking", 0)
    try:
        table = read_table(data)
        parsed = parse_items(table, date_format)
        snapshot_date = as_of or as_of_from_titles(table.titles, parsed.date_order) or ctx.today()
        checked = check_items(parsed, table, owners=_owners(ctx), as_of=snapshot_date)
    except AgingFileError as exc:
        raise ImportRefused([f"{name}: {exc}"]) from None
    rows = len(parsed.frame)
    if rows == 0:
        raise ImportRefused([f"{name}: the file lists no open items; nothing was imported"])
    if checked.problems and not skip_invalid:
        head = f"{name}: {len(checked.problems)} of {rows} rows are invalid; nothing was imported"
        raise ImportRefused([head, *format_problems(checked.problems)])
    if checked.items.empty:
        raise ImportRefused([f"{name}: no valid rows to import", *format_problems(checked.problems)])
    return _Checked(
        checked=checked,
        layout=parsed.layout,
        fields=parsed.fields,
        rows=rows,
        as_of=snapshot_date,
        content=_content_digest(checked, parsed.fields),
    )


def _content_digest(checked: CheckedItems, fields: frozenset[str]) -> str:
    """Order-free digest of the items as the ledger would take them: the same export saved with
    other line endings, quoting or row order has the same content. One hash pass per column."""
    row_hashes = np.sort(pd.util.hash_pandas_object(checked.items, index=False).to_numpy())
    digest = hashlib.sha256(row_hashes.tobytes())
    digest.update("\x1f".join(sorted(fields)).encode())
    digest.update("\x1e".join(sorted(checked.refused_customers)).encode())
    return digest.hexdigest()


def _owners(ctx: AppContext) -> dict[str, str]:
    """How an owner column may name a collector: by email or by the name in the team file."""
    lookup = {}
    for member in ctx.team.collectors:
        lookup[member.email.lower()] = member.email
        lookup[member.name.strip().lower()] = member.email
    return lookup


def _assigner(ctx: AppContext) -> Callable[[str, str], str | None]:
    """New customers the file gives no owner: the team file's assignment rule."""

    def assign(erp_id: str, name: str) -> str | None:
        member = ctx.team.collector_for(erp_id, name)
        return member.email if member else None

    return assign


def _refuse_same_bytes(session: Session, digest: str, as_of: date) -> None:
    """The cheap check before reading: these very bytes were imported for this as-of already."""
    batch_id = session.scalar(
        select(ImportBatch.id).where(ImportBatch.file_sha256 == digest, ImportBatch.as_of == as_of).limit(1)
    )
    if batch_id is not None:
        raise ImportRefused([_already(batch_id, as_of)])


def _refuse_repeat(session: Session, found: _Checked) -> None:
    """Content already imported for this as-of changes nothing: the day's snapshot had it."""
    batch_ids = session.scalars(select(ImportBatch.id).where(ImportBatch.as_of == found.as_of)).all()
    for batch_id, content in _contents(session, batch_ids):
        if content == found.content:
            raise ImportRefused([_already(batch_id, found.as_of)])


def _already(batch_id: int, as_of: date) -> str:
    return f"already imported as of {as_of.isoformat()} (batch #{batch_id}); nothing changed"


def _contents(session: Session, batch_ids: Sequence[int]) -> list[tuple[int, str | None]]:
    """Each batch's content digest, kept in its ``import`` audit event."""
    if not batch_ids:
        return []
    rows = session.execute(
        select(AuditEvent.entity_id, AuditEvent.data).where(
            AuditEvent.entity_type == "import_batch", AuditEvent.action == "import", AuditEvent.entity_id.in_(batch_ids)
        )
    )
    return [(batch_id, (data or {}).get("content")) for batch_id, data in rows]


def _latest_content(session: Session) -> str | None:
    latest = session.scalar(select(ImportBatch.id).order_by(ImportBatch.as_of.desc(), ImportBatch.id.desc()).limit(1))
    found = _contents(session, [latest]) if latest is not None else []
    return found[0][1] if found else None


def _refuse_older(session: Session, as_of: date) -> None:
    """An older snapshot after a newer one would reopen what has since been paid."""
    latest = session.scalars(
        select(ImportBatch).order_by(ImportBatch.as_of.desc(), ImportBatch.id.desc()).limit(1)
    ).first()
    if latest is not None and as_of < latest.as_of:
        raise ImportRefused(
            [
                f"the file is as of {as_of.isoformat()}, before the last import "
                f"(batch #{latest.id} as of {latest.as_of.isoformat()}); nothing was imported"
            ]
        )


def _settle(
    ctx: AppContext, session: Session, batch: ImportBatch, changes: SnapshotChanges, actor: str
) -> tuple[int, int, int]:
    """Payments seen in this snapshot settle open promises and instalments; negative ones take
    back what earlier import payments settled; then promises past their deadline that no payment
    covered break. Returns (kept, broken, reopened)."""
    now, grace = ctx.clock.now(), ctx.team.workflow.timers.promise_grace_days
    settled: list[Promise] = []
    reopened: list[Promise] = []
    if len(changes.payments):
        promised = select(Promise.customer_id).where(Promise.status == PromiseStatus.OPEN)
        planned = select(PaymentPlan.customer_id).where(PaymentPlan.status == PlanStatus.ACTIVE)
        reversals = [int(c) for c in changes.payments.loc[changes.payments["cents"] < 0, "customer_id"]]
        payments = session.scalars(
            select(Payment)
            .where(
                Payment.id >= int(changes.payments["id"].min()),
                Payment.batch_id == batch.id,
                Payment.customer_id.in_(promised.union(planned)) | Payment.customer_id.in_(reversals),
            )
            .order_by(Payment.id)
        ).all()
        for payment in payments:
            if payment.amount < 0:
                reopened += unsettle(session, reversal=payment, at=now, actor=actor)
            else:
                settled += settle_recording(
                    session,
                    payment=payment,
                    at=now,
                    actor=actor,
                    grace_days=grace,
                    calendar=ctx.calendar,
                    tz=ctx.team.timezone,
                )
    broken = break_overdue_promises(
        session, calendar=ctx.calendar, today=batch.as_of, grace_days=grace, at=now, actor=actor
    )
    kept = sum(promise.status == PromiseStatus.KEPT for promise in settled)
    late = sum(promise.status == PromiseStatus.BROKEN for promise in settled)
    return kept, late + len(broken), len({p.id for p in reopened})


def _result(
    batch: ImportBatch, found: _Checked, changes: SnapshotChanges, kept: int, broken: int, reopened_promises: int
) -> ImportResult:
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


def _audit(
    ctx: AppContext,
    session: Session,
    batch: ImportBatch,
    changes: SnapshotChanges,
    result: ImportResult,
    actor: str,
    content: str,
) -> None:
    """The batch event with its counts, one event per customer the file changed and one per
    payment seen or reversed, naming the invoices it was for (the history later reversals are
    capped by, storage.aging.payments). Many events go in as one multi-row insert."""
    now = ctx.clock.now()
    events = [
        dict(
            at=now,
            actor=actor,
            action="customer_updated",
            entity_type="customer",
            entity_id=change["customer_id"],
            customer_id=change["customer_id"],
            data={**{k: v for k, v in change.items() if k != "customer_id"}, "batch_id": batch.id},
        )
        for change in changes.customer_changes
    ]
    payments = changes.payments
    events += [
        dict(
            at=now,
            actor=actor,
            action="payment_seen" if cents > 0 else "payment_reversed",
            entity_type="payment",
            entity_id=int(payment_id),
            customer_id=int(customer_id),
            data={
                "amount": str(from_cents(int(cents))),
                "received_on": batch.as_of.isoformat(),
                "batch_id": batch.id,
                "invoices": changes.paid_invoices.get(int(customer_id), {}),
            },
        )
        for payment_id, customer_id, cents in zip(
            payments["id"].tolist(), payments["customer_id"].tolist(), payments["cents"].tolist(), strict=True
        )
    ]
    if events:
        session.execute(insert(AuditEvent), events)
    record(
        session,
        at=now,
        actor=actor,
        action="import",
        entity_type="import_batch",
        entity_id=batch.id,
        file=batch.file_name,
        layout=batch.layout,
        as_of=batch.as_of,
        rows=batch.rows,
        skipped=batch.skipped,
        customers=result.customers,
        customers_created=result.customers_created,
        customers_updated=result.customers_updated,
        inserted=batch.inserted,
        updated=batch.updated,
        closed=batch.closed,
        payments=result.payments,
        payments_total=result.payments_total,
        promises_kept=result.promises_kept,
        promises_broken=result.promises_broken,
        open_total=result.open_total,
        reopened=result.reopened,
        reversed_total=result.reversed_total,
        promises_reopened=result.promises_reopened,
        confirmed_in_erp=result.confirmed_in_erp,
        content=content,
    )
