"""Writing and checking audit events. Callers pass the session they change the ledger with, so
the event commits or rolls back together with the change it describes.

The audit log is a hash chain, so an edit, a deletion or a reordering made behind the
application's back (by someone who can switch the database's append-only triggers off) shows.

The rule, and exactly what :func:`verify` checks:

* Events are ordered by ``id``. Each event stores ``prev_hash``, the ``hash`` of the event with
  the next lower id (:data:`GENESIS` for the first event), and ``hash``, the hex SHA-256 of the
  canonical JSON (sorted keys, no spaces, UTF-8) of its id, ``at`` (UTC, ISO 8601 with
  microseconds), actor, action, entity_type, entity_id, customer_id, data and prev_hash.
* A writer appends under one lock: PostgreSQL's transaction-scoped advisory lock
  :data:`PG_CHAIN_LOCK` (SQLite already lets one writer at a time in, ``BEGIN IMMEDIATE``). Under
  it the writer reads the newest event and gives its new events the next ids and links. The lock
  is taken at the flush that first writes an event and held until commit, so appends are
  serialized in commit order and ids never go backwards along the chain.
* ``prev_hash`` is UNIQUE in the database: two transactions can never both chain onto the same
  predecessor, even one that skipped the lock (a stale snapshot, another isolation level); the
  second one fails instead of forking the chain silently.

Events are linked in a ``before_flush`` hook and in ``do_orm_execute`` (for a multi-row
``session.execute(insert(AuditEvent), rows)``), so every write through a Session is chained. A
row written around the Session (plain SQL) carries no hash, and :func:`verify` names it.

The chain alone cannot show that the newest events were removed, or that someone rewrote the
whole chain with recomputed hashes: keep the tip :func:`verify` prints somewhere else (a ticket,
the team channel) and pass it back later as ``expect_tip``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, event, insert, select, text
from sqlalchemy.orm import ORMExecuteState, Session

from storage.models import AuditEvent

GENESIS = "0" * 64
# Transaction-scoped advisory lock key for appending to the chain ("arbotAud" as 8 bytes).
PG_CHAIN_LOCK = 0x6172626F74417564


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: int | None = None,
    customer_id: int | None = None,
    **data: Any,
) -> AuditEvent:
    """Add one event; it gets its id and its link in the chain when the session flushes."""
    event_ = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        customer_id=customer_id,
        data=_jsonable(data),
    )
    session.add(event_)
    return event_


def record_many(session: Session, events: Sequence[Mapping[str, Any]]) -> None:
    """Add many events in one multi-row INSERT, chained in the order given (the
    ``do_orm_execute`` hook links them). Each mapping has :func:`record`'s arguments, ``data``
    as a dict. For a job that changes thousands of rows at once: one statement, not a flush
    per event."""
    if not events:
        return
    rows = [
        {
            "at": e["at"],
            "actor": e["actor"],
            "action": e["action"],
            "entity_type": e["entity_type"],
            "entity_id": e.get("entity_id"),
            "customer_id": e.get("customer_id"),
            "data": _jsonable(dict(e.get("data") or {})),
        }
        for e in events
    ]
    session.execute(insert(AuditEvent), rows)


def event_hash(
    *,
    id: int,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: int | None,
    customer_id: int | None,
    data: dict[str, Any] | None,
    prev_hash: str | None,
) -> str:
    """The hash of one event's content and its predecessor's hash (the rule in the module doc)."""
    body = {
        "id": id,
        "at": _utc_iso(at),
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "customer_id": customer_id,
        "data": json.loads(json.dumps(data if data is not None else {})),
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _utc_iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("instants must be timezone-aware datetimes")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _row_hash(row: Any, prev_hash: str | None) -> str:
    """:func:`event_hash` of anything with the event's attributes (a model, a Row)."""
    return event_hash(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        customer_id=row.customer_id,
        data=row.data,
        prev_hash=prev_hash,
    )


# --- appending -------------------------------------------------------------------------------


def _lock_and_read_tip(conn: Connection) -> tuple[int, str]:
    """Take the append lock and return the newest event's id and the hash to chain onto."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_CHAIN_LOCK})
    tip = conn.execute(select(AuditEvent.__table__).order_by(AuditEvent.id.desc()).limit(1)).first()
    if tip is None:
        return 0, GENESIS
    # A row written around the Session has no hash; chain onto its content so appends go on
    # (verify still names that row).
    return tip.id, tip.hash or _row_hash(tip, tip.prev_hash)


def _link(conn: Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Give ``rows`` (in the order they were written) the next ids and their links."""
    last_id, prev = _lock_and_read_tip(conn)
    links = []
    for offset, row in enumerate(rows, start=1):
        id_ = last_id + offset
        hash_ = event_hash(
            id=id_,
            at=row["at"],
            actor=row["actor"],
            action=row["action"],
            entity_type=row["entity_type"],
            entity_id=row.get("entity_id"),
            customer_id=row.get("customer_id"),
            data=row.get("data"),
            prev_hash=prev,
        )
        links.append({"id": id_, "prev_hash": prev, "hash": hash_})
        prev = hash_
    return links


def _before_flush(session: Session, _flush_context: Any, _instances: Any) -> None:
    """Chain the events this flush writes, in the order they were added to the session."""
    pending = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if not pending:
        return
    rows = [
        {
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "entity_type": e.entity_type,
            "entity_id": e.entity_id,
            "customer_id": e.customer_id,
            "data": e.data if e.data is not None else {},
        }
        for e in pending
    ]
    for obj, link in zip(pending, _link(session.connection(), rows), strict=True):
        obj.id, obj.prev_hash, obj.hash = link["id"], link["prev_hash"], link["hash"]
        if obj.data is None:
            obj.data = {}  # what the column default would store, and what was hashed


def _on_execute(state: ORMExecuteState) -> Any:
    """Chain a multi-row ``insert(AuditEvent)`` executed through the session."""
    if not state.is_insert:
        return None
    table = getattr(state.statement, "table", None)
    if table is None or table.name != AuditEvent.__tablename__:  # an ORM insert's table is annotated
        return None
    params = state.parameters
    if not params:
        return None  # inline .values(): left unchained, and verify will say so
    session = state.session
    if any(isinstance(obj, AuditEvent) for obj in session.new):
        session.flush()  # earlier events of this transaction come first in the chain
    rows: list[Mapping[str, Any]] = [params] if isinstance(params, Mapping) else list(params)
    links = _link(session.connection(), [{**row, "data": row.get("data") or {}} for row in rows])
    extra: Any = [{**link, "data": row.get("data") or {}} for row, link in zip(rows, links, strict=True)]
    return state.invoke_statement(params=extra[0] if isinstance(params, Mapping) else extra)


def keep_chain(target: Any = Session) -> None:
    """Link every audit event written through a Session (idempotent)."""
    if not event.contains(target, "before_flush", _before_flush):
        event.listen(target, "before_flush", _before_flush)
    if not event.contains(target, "do_orm_execute", _on_execute):
        event.listen(target, "do_orm_execute", _on_execute)


keep_chain()


# --- checking --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainCheck:
    """What :func:`verify` found: how many events it walked, the tip, and the first break."""

    events: int
    tip_id: int | None
    tip_hash: str
    broken_at: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None and not self.problem


def verify(conn: Connection, *, expect_tip: str | None = None, batch: int = 2000) -> ChainCheck:
    """Walk the events in id order and stop at the first link that does not hold."""
    prev_id: int | None = None
    prev_hash, count, seen_tip = GENESIS, 0, expect_tip is None
    for row in _rows(conn, batch):
        problem = _check(row, prev_id, prev_hash)
        if problem:
            return ChainCheck(count, prev_id, prev_hash, broken_at=row.id, problem=problem)
        prev_id, prev_hash, count = row.id, row.hash, count + 1
        seen_tip = seen_tip or row.hash == expect_tip
    if not seen_tip:
        return ChainCheck(
            count,
            prev_id,
            prev_hash,
            problem=(
                f"the tip {expect_tip} you kept is no longer in the chain: events after it were "
                "removed, or the chain was rewritten"
            ),
        )
    return ChainCheck(count, prev_id, prev_hash)


def _rows(conn: Connection, batch: int) -> Iterable[Any]:
    """All events in id order, fetched in batches so a long log does not sit in memory."""
    after = None
    table = AuditEvent.__table__
    while True:
        query = select(table).order_by(table.c.id).limit(batch)
        if after is not None:
            query = query.where(table.c.id > after)
        rows = conn.execute(query).all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


def _check(row: Any, prev_id: int | None, prev_hash: str) -> str:
    """Why ``row`` breaks the chain after the event (``prev_id``, ``prev_hash``), or ''."""
    after = f"event #{prev_id}" if prev_id is not None else "the start of the log"
    if not row.hash:
        return "it has no hash: it was written around the application"
    if row.prev_hash != prev_hash:
        return f"it does not follow {after}: an event between them was deleted, or events were reordered or inserted"
    if _row_hash(row, row.prev_hash) != row.hash:
        return "its content does not match its hash: it was edited, or moved from another position"
    return ""


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """Decimals and dates become strings so the JSON column stays portable."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[key] = value
        elif isinstance(value, dict):
            out[key] = _jsonable(value)
        elif isinstance(value, (list, tuple)):
            out[key] = [v if isinstance(v, (str, int, float, bool)) else str(v) for v in value]
        else:
            out[key] = str(value)
    return out
