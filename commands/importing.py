"""The aging import use case: parse -> check -> diff -> write -> settle, as one transaction.

A file with invalid rows is refused whole (every reason, by the line a person sees) and nothing is
written, unless the caller asks to skip invalid rows. The same bytes twice are refused as already
imported; the same content in different bytes changes no invoice. Reading and checking happen
before the write transaction opens, so a refused file never holds the database's write lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.promises import break_overdue_promises
from commands.settlement import settle_payment
from storage.aging import (
    AgingFileError, CheckedItems, Progress, SnapshotChanges, apply_snapshot, as_of_from_titles, check_items,
    format_problems, lock_imports, parse_items, read_table,
)
from storage.audit import record
from storage.models import (
    AuditEvent, ImportBatch, Payment, PaymentPlan, PlanStatus, Promise, PromiseStatus, TeamMember,
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


@dataclass(frozen=True)
class _Checked:
    checked: CheckedItems
    layout: str
    fields: frozenset[str]
    rows: int
    as_of: date | None


def import_aging_file(ctx: AppContext, path: str | Path, *, skip_invalid: bool = False, as_of: date | None = None,
                      actor: str = ACTOR, progress: Progress | None = None) -> ImportResult:
    """Import one open-items export as the snapshot of ``as_of`` (default: the date the report
    states, else today). Raises :class:`ImportRefused` with the reasons when nothing was written."""
    path = Path(path)
    data = _read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    with ctx.sessions() as session:
        _refuse_repeat(session, digest, ctx)
    found = _check(ctx, data, path.name, skip_invalid, progress)
    snapshot_date = as_of or found.as_of or ctx.today()
    now = ctx.clock.now()
    with ctx.sessions.begin() as session:
        lock_imports(session)
        _refuse_repeat(session, digest, ctx)
        _refuse_older(session, snapshot_date)
        batch = ImportBatch(file_name=path.name[:255], file_sha256=digest, layout=found.layout, as_of=snapshot_date,
                            rows=found.rows, skipped=len(found.checked.problems), actor=actor, created_at=now)
        session.add(batch)
        session.flush()
        members = dict(session.execute(select(TeamMember.email, TeamMember.id)).all())
        changes = apply_snapshot(
            session, found.checked.items, fields=found.fields, refused=found.checked.refused_customers,
            batch_id=batch.id, as_of=snapshot_date, now=now, members=members, assign=_assigner(ctx),
            progress=progress,
        )
        batch.inserted, batch.updated, batch.closed = changes.inserted, changes.updated, changes.closed
        kept, broken = _settle(ctx, session, batch, changes, actor)
        result = _result(batch, found, changes, kept, broken)
        _audit(ctx, session, batch, changes, result, actor)
    return result


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImportRefused([f"{path}: no such file"]) from None
    except OSError as exc:
        raise ImportRefused([f"{path}: cannot be read ({exc.strerror or exc})"]) from None


def _check(ctx: AppContext, data: bytes, name: str, skip_invalid: bool, progress: Progress | None) -> _Checked:
    """Read, parse and check the file; refuse it whole unless invalid rows may be skipped."""
    if progress:
        progress.stage("reading and checking", 0)
    try:
        table = read_table(data)
        parsed = parse_items(table)
        checked = check_items(parsed, table, owners=_owners(ctx))
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
    return _Checked(checked=checked, layout=parsed.layout, fields=parsed.fields, rows=rows,
                    as_of=as_of_from_titles(table.titles))


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


def _refuse_repeat(session: Session, digest: str, ctx: AppContext) -> None:
    latest = session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(1)).first()
    if latest is not None and latest.file_sha256 == digest:
        day = latest.created_at.astimezone(ctx.team.timezone).date()
        raise ImportRefused([f"already imported (batch #{latest.id} on {day.isoformat()})"])


def _refuse_older(session: Session, as_of: date) -> None:
    """An older snapshot after a newer one would reopen what has since been paid."""
    latest = session.scalars(select(ImportBatch).order_by(ImportBatch.as_of.desc(), ImportBatch.id.desc())
                             .limit(1)).first()
    if latest is not None and as_of < latest.as_of:
        raise ImportRefused([f"the file is as of {as_of.isoformat()}, before the last import "
                             f"(batch #{latest.id} as of {latest.as_of.isoformat()}); nothing was imported"])


def _settle(ctx: AppContext, session: Session, batch: ImportBatch, changes: SnapshotChanges,
            actor: str) -> tuple[int, int]:
    """Payments seen in this snapshot settle open promises; promises past their deadline that no
    payment covered break. Returns (kept, broken)."""
    now, grace = ctx.clock.now(), ctx.team.workflow.timers.promise_grace_days
    settled: list[Promise] = []
    if len(changes.payments):
        promised = select(Promise.customer_id).where(Promise.status == PromiseStatus.OPEN)
        planned = select(PaymentPlan.customer_id).where(PaymentPlan.status == PlanStatus.ACTIVE)
        payments = session.scalars(select(Payment).where(
            Payment.id >= int(changes.payments["id"].min()), Payment.batch_id == batch.id,
            Payment.customer_id.in_(promised.union(planned))).order_by(Payment.id))
        settled = [promise for payment in payments.all() for promise in settle_payment(
            session, payment=payment, at=now, actor=actor, grace_days=grace, calendar=ctx.calendar,
            tz=ctx.team.timezone)]
    broken = break_overdue_promises(session, calendar=ctx.calendar, today=batch.as_of, grace_days=grace,
                                    at=now, actor=actor)
    kept = sum(promise.status == PromiseStatus.KEPT for promise in settled)
    late = sum(promise.status == PromiseStatus.BROKEN for promise in settled)
    return kept, late + len(broken)


def _result(batch: ImportBatch, found: _Checked, changes: SnapshotChanges, kept: int, broken: int) -> ImportResult:
    items = found.checked.items
    return ImportResult(
        batch_id=batch.id, file_name=batch.file_name, layout=found.layout, as_of=batch.as_of, rows=found.rows,
        skipped=format_problems(found.checked.problems), skipped_rows=len(found.checked.problems),
        customers=changes.customers, customers_created=changes.customers_created,
        customers_updated=len(changes.customer_changes), inserted=changes.inserted, updated=changes.updated,
        closed=changes.closed, payments=len(changes.payments),
        payments_total=from_cents(int(changes.payments["cents"].sum())), promises_kept=kept,
        promises_broken=broken, open_total=from_cents(int(items["open_balance"].sum())),
    )


def _audit(ctx: AppContext, session: Session, batch: ImportBatch, changes: SnapshotChanges,
           result: ImportResult, actor: str) -> None:
    """The batch event with its counts, one event per customer the file changed and one per
    payment seen. Many events go in as one multi-row insert."""
    now = ctx.clock.now()
    events = [dict(at=now, actor=actor, action="customer_updated", entity_type="customer",
                   entity_id=change["customer_id"], customer_id=change["customer_id"],
                   data={**{k: v for k, v in change.items() if k != "customer_id"}, "batch_id": batch.id})
              for change in changes.customer_changes]
    events += [dict(at=now, actor=actor, action="payment_seen", entity_type="payment", entity_id=int(row.id),
                    customer_id=int(row.customer_id),
                    data={"amount": str(from_cents(int(row.cents))), "received_on": batch.as_of.isoformat(),
                          "batch_id": batch.id})
               for row in changes.payments.itertuples(index=False)]
    if events:
        session.execute(insert(AuditEvent), events)
    record(session, at=now, actor=actor, action="import", entity_type="import_batch", entity_id=batch.id,
           file=batch.file_name, layout=batch.layout, as_of=batch.as_of, rows=batch.rows, skipped=batch.skipped,
           customers=result.customers, customers_created=result.customers_created,
           customers_updated=result.customers_updated, inserted=batch.inserted, updated=batch.updated,
           closed=batch.closed, payments=result.payments, payments_total=result.payments_total,
           promises_kept=result.promises_kept, promises_broken=result.promises_broken,
           open_total=result.open_total)
