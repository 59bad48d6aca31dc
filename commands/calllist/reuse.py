"""A collector's call list for the day, computed once and reused until the ledger changes for
that collector's accounts.

Ranking a list costs tens of milliseconds of CPU, and collectors ask for it again and again while
they work through it; most of the time nothing on their accounts has changed in between.

Why reuse is safe: every ledger change writes its audit event in the same transaction, naming
the customer it concerns (or none, for a change such as an import that touches many), and
audit ids are handed out under one lock held until COMMIT (storage.audit), so they grow in
commit order: a reader that sees event N sees every event before it. A list is kept with the
newest event id seen *before* it was computed. To reuse it, the events since are looked at (a
range of the primary key, usually a few rows): one without a customer means the list is ranked
again in full; events about customers of the collector's, or about customers among the kept
list's accounts (they may have moved to someone else), mean those customers are read again and
the list is ranked again from the kept accounts and them (:mod:`commands.calllist.rerank`),
exactly as a full ranking would rank it; events about anyone else leave the list as it is.
The day, the policy file and the team are part of the key.
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
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import AuditEvent, Customer

if TYPE_CHECKING:
    from commands.calllist import CallListRow
    from commands.calllist.portfolio import Portfolio, Ranked
    from commands.context import AppContext

KEPT = 256  # lists kept (one per collector and day, and the team's)

# Customers named by the events since a list was kept, beyond which it is ranked in full
# without looking at them one by one (a list nobody asked for in a long while).
NAMED_LIMIT = 10_000


@dataclass(frozen=True)
class _Kept:
    seen: int  # the newest audit event id seen before the list was computed
    rows: tuple[CallListRow, ...]
    portfolio: Portfolio  # what it was ranked from (commands.calllist.portfolio)


class CallListCache:
    """This process's lists, by (collector, day, policy file's version). Thread-safe."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept: OrderedDict[tuple[str | None, date, object], _Kept] = OrderedDict()
        self._lock = threading.Lock()
        self._ranking_locks: dict[tuple[str | None, date, object], threading.Lock] = {}
        self._limit = kept
        self.computed = 0  # lists ranked so far, in full or incrementally (the others were reused)
        self.incremental = 0  # of those, ranked again for a few changed accounts only

    def call_list(
        self, session: Session, ctx: AppContext, *, day: date, collector_email: str | None = None
    ) -> list[CallListRow]:
        """The list :func:`commands.calllist.build_call_list` would give now, reused when the
        ledger has not changed for it since it was ranked, ranked again for the changed accounts
        only when a few of them changed."""
        key = (collector_email.strip().lower() if collector_email else None, day, _policy_version(ctx))
        newest = session.scalar(select(func.max(AuditEvent.id))) or 0  # before the list: see the doc
        reused = self._reused(session, key, newest)
        if reused is not None:
            return reused
        with self._ranking(key):
            reused = self._reused(session, key, newest)  # ranked by another request meanwhile?
            if reused is not None:
                return reused
            ranked, incremental = self._rank(session, ctx, key, newest)
            self._keep(key, _Kept(newest, tuple(ranked.rows), ranked.portfolio))
        with self._lock:
            self.computed += 1
            self.incremental += incremental
        return ranked.rows

    def _rank(
        self, session: Session, ctx: AppContext, key: tuple[str | None, date, object], newest: int
    ) -> tuple[Ranked, bool]:
        """The list ranked again for the accounts changed since it was kept when that is
        possible (True), else in full (False)."""
        from commands.calllist.build import rank
        from commands.calllist.rerank import rerank

        collector_email, day = key[0], key[1]
        kept = self._get(key)
        changed = _changes(session, kept, collector_email, newest) if kept is not None else None
        if kept is not None and changed is not None:
            again = rerank(session, ctx, kept.portfolio, changed, day=day, collector_email=collector_email)
            if again is not None:
                return again, True
        return rank(session, ctx, day=day, collector_email=collector_email), False

    def _reused(self, session: Session, key: tuple[str | None, date, object], newest: int) -> list[CallListRow] | None:
        """The kept list when no event up to ``newest`` may have changed it. A list kept by a
        request that began later (``seen`` past ``newest``) is at least as new as a ranking now."""
        kept = self._get(key)
        if kept is None or _changes(session, kept, key[0], newest) != set():
            return None
        self._keep(key, replace(kept, seen=max(newest, kept.seen)))
        return list(kept.rows)

    def _get(self, key: tuple[str | None, date, object]) -> _Kept | None:
        with self._lock:
            return self._kept.get(key)

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


def _changes(session: Session, kept: _Kept, collector_email: str | None, newest: int) -> set[int] | None:
    """The customers named by events since the list was kept that may change it (none: it
    stands), or None when one names no customer or too many are named (rank it in full). For a
    collector's list those are the collector's customers now and the customers among its accounts
    then (moved away since, perhaps); for the team's list, every customer named."""
    if newest <= kept.seen:
        return set()
    named = session.execute(
        select(AuditEvent.customer_id, Customer.collector_id)
        .outerjoin(Customer, Customer.id == AuditEvent.customer_id)
        .where(AuditEvent.id > kept.seen, AuditEvent.id <= newest)
        .distinct()
        .limit(NAMED_LIMIT + 1)
    ).all()
    customers = [(customer, owner) for customer, owner in named if customer is not None]
    if len(named) > NAMED_LIMIT or len(customers) < len(named):
        return None
    if collector_email is None:
        return {int(customer) for customer, _ in customers}
    import numpy as np  # loaded already: the kept list was ranked with it

    mine, accounts = kept.portfolio.setup.collector_id, kept.portfolio.features.ids
    held = np.isin(np.asarray([c for c, _ in customers], dtype=np.int64), accounts)
    return {int(c) for (c, owner), kept_one in zip(customers, held.tolist(), strict=True) if owner == mine or kept_one}


def _policy_version(ctx: AppContext) -> object:
    """The policy file and when it last changed: an edited policy ranks afresh."""
    if ctx.policy_file is None:
        return None
    try:
        return (str(ctx.policy_file), ctx.policy_file.stat().st_mtime_ns)
    except OSError:
        return (str(ctx.policy_file), None)
