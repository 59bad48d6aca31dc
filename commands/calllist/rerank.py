"""A kept list ranked again for the few accounts that changed since it was ranked.

A promise or a call on one account used to make a collector's whole list stale, and ranking it
again read every account's items and facts (tens of milliseconds for 300 accounts). The work per
account is the costly part and depends on that account alone, so only the changed accounts'
features are read again (:meth:`commands.calllist.portfolio.Portfolio.with_changed`): an account
that moved in is read, one that moved out or has nothing open any more drops out. Every step
across accounts (scores and tiers on every row, the shortlist, the cut at capacity, ranks and
order) then runs on the whole merged portfolio as a full ranking runs it, so the list is the one a
full ranking gives, row for row.

A full ranking is still what a list gets when its settings changed (policy, capacity, the day's
cut-offs) or when more than :data:`INCREMENTAL_LIMIT` accounts changed: by then reading them one
set at a time is no cheaper.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy.orm import Session

from commands.calllist.build import finish, list_setup
from commands.calllist.features import load_features_and_items
from commands.calllist.gc_pause import gc_paused
from commands.calllist.portfolio import Portfolio, Ranked
from commands.calllist.sql import without_jit
from commands.context import AppContext

INCREMENTAL_LIMIT = 50  # changed accounts beyond which a list is ranked in full


def rerank(
    session: Session,
    ctx: AppContext,
    kept: Portfolio,
    changed: Collection[int],
    *,
    day: date,
    collector_email: str | None,
) -> Ranked | None:
    """The list ranked from ``kept`` with the ``changed`` customers read again, or None when it
    must be ranked in full (other settings, too many changes)."""
    if not changed or len(changed) > INCREMENTAL_LIMIT:
        return None
    setup = list_setup(session, ctx, day=day, collector_email=collector_email, capacity=None)
    if setup != kept.setup:
        return None
    ids = sorted(int(c) for c in changed)
    with gc_paused(), without_jit(session):  # finish() works across the whole kept portfolio
        features, collectible = load_features_and_items(
            session, setup.cut, collector_id=setup.collector_id, customer_ids=ids
        )
        return finish(session, ctx, kept.with_changed(ids, features, collectible))
