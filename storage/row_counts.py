"""How many rows a guarded UPDATE or DELETE changed.

The ledger's state changes are compare-and-set (``UPDATE ... WHERE status = 'open'``), so that two
checks or two replicas racing on one row change it once: the row count says who won.
"""

from __future__ import annotations

from sqlalchemy import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable


def rows_changed(session: Session, statement: Executable) -> int:
    """Run ``statement`` (an UPDATE or DELETE) in ``session`` and return how many rows it changed."""
    result = session.execute(statement)
    if not isinstance(result, CursorResult):
        raise TypeError(f"expected an UPDATE or DELETE, which reports a row count; got {statement!r}")
    return result.rowcount
