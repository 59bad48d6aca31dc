"""A collector's call list for the day, computed once and reused until the ledger changes for
that collector's accounts.

Ranking a list costs tens of milliseconds of CPU, and collectors ask for it again and again while
they work through it; most of the time nothing on their accounts has changed in between.

Why reuse is safe: every ledger change writes its audit event in the same transaction, naming
the customer it concerns (or none, for a change such as an import that touches many), and
audit ids are handed out under one lock held until COMMIT (storage.audit), so they grow in
commit order: a reader that sees event N sees every event before it. A list is kept with the
newest event id seen *before* it was computed. To reuse it, the events since are looked at (a
range of the primary key, usually a few rows): one without a customer, one about a customer of
the collector's, or one about a customer on the kept list (it may have moved to someone else)
means the list is computed again. The day, the policy file and the team are part of the key.
What changes the ledger behind the application's back (plain SQL writes no audit event) is not
seen; ``arbot db repack`` and the like run in another process, and a restart forgets every list.

One ranking per list at a time: when several requests for the same list find it stale together
(a busy server works through a queue of them on many threads), one ranks it and the others wait
for it and take it, unless the ledger changed for it in between."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from storage.models import AuditEvent, Customer, TeamMember

if TYPE_CHECKING:
    from commands.calllist import CallListRow
    from commands.context import AppContext

KEPT = 256  # lists kept (one per collector and day, and the team's)


@dataclass(frozen=True)
class _Kept:
    seen: int  # the newest audit event id seen before the list was computed
    rows: tuple[CallListRow, ...]
    customer_ids: frozenset[int]


class CallListCache:
    """This process's lists, by (collector, day, policy file's version). Thread-safe."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept: OrderedDict[tuple[str | None, date, object], _Kept] = OrderedDict()
        self._lock = threading.Lock()
        self._ranking_locks: dict[tuple[str | None, date, object], threading.Lock] = {}
        self._limit = kept
        self.computed = 0  # lists ranked so far (the others were reused)

    def call_list(
        self, session: Session, ctx: AppContext, *, day: date, collector_email: str | None = None
    ) -> list[CallListRow]:
        """The list :func:`commands.calllist.build_call_list` would give now, reused when the
        ledger has not changed for it since it was ranked."""
        from commands.calllist import build_call_list

        key = (collector_email.strip().lower() if collector_email else None, day, _policy_version(ctx))
        newest = session.scalar(select(func.max(AuditEvent.id))) or 0  # before the list: see the doc
        reused = self._reused(session, key, newest)
        if reused is not None:
            return reused
        with self._ranking(key):
            reused = self._reused(session, key, newest)  # ranked by another request meanwhile?
            if reused is not None:
                return reused
            rows = build_call_list(session, ctx, day=day, collector_email=collector_email)
            self._keep(key, _Kept(newest, tuple(rows), frozenset(row.customer_id for row in rows)))
        with self._lock:
            self.computed += 1
        return rows

    def _reused(self, session: Session, key: tuple[str | None, date, object], newest: int) -> list[CallListRow] | None:
        """The kept list when no event up to ``newest`` may have changed it. A list kept by a
        request that began later (``seen`` past ``newest``) is at least as new as a ranking now."""
        with self._lock:
            kept = self._kept.get(key)
        if kept is None or _changed(session, kept, key[0], newest):
            return None
        self._keep(key, _Kept(max(newest, kept.seen), kept.rows, kept.customer_ids))
        return list(kept.rows)

    @contextmanager
    def _ranking(self, key: tuple[str | None, date, object]) -> Iterator[None]:
        """Held while one request ranks this list: the others for it wait, then reuse it."""
        with self._lock:
            lock = self._ranking_locks.setdefault(key, threading.Lock())
        with lock:
            yield

    def _keep(self, key: tuple[str | None, date, object], kept: _Kept) -> None:
        with self._lock:
            earlier = self._kept.get(key)
            if earlier is not None and earlier.seen > kept.seen:
                return  # another thread kept a list computed later
            self._kept[key] = kept
            self._kept.move_to_end(key)
            while len(self._kept) > self._limit:
                gone, _ = self._kept.popitem(last=False)
                self._ranking_locks.pop(gone, None)


def _changed(session: Session, kept: _Kept, collector_email: str | None, newest: int) -> bool:
    """Whether an event since the list was kept may change it."""
    if newest == kept.seen:
        return False
    if collector_email is None:
        return True  # the team's list: any change may move it
    collector = select(TeamMember.id).where(func.lower(TeamMember.email) == collector_email)
    touching = or_(
        AuditEvent.customer_id.is_(None),
        Customer.collector_id == collector.scalar_subquery(),
        AuditEvent.customer_id.in_(kept.customer_ids) if kept.customer_ids else false(),
    )
    found = session.scalar(
        select(AuditEvent.id)
        .outerjoin(Customer, Customer.id == AuditEvent.customer_id)
        .where(AuditEvent.id > kept.seen, AuditEvent.id <= newest, touching)
        .limit(1)
    )
    return found is not None


def _policy_version(ctx: AppContext) -> object:
    """The policy file and when it last changed: an edited policy ranks afresh."""
    if ctx.policy_file is None:
        return None
    try:
        return (str(ctx.policy_file), ctx.policy_file.stat().st_mtime_ns)
    except OSError:
        return (str(ctx.policy_file), None)
