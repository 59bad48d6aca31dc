"""Small helpers the call-list queries share: one collector's accounts, day differences that
work on SQLite and PostgreSQL, sums of cents, and turning results into frames quickly.

The queries are built once per process and shape (SQLite or PostgreSQL, one collector's or
everyone's) with bound parameters for the day's dates, the collector and the customer ids:
building a statement (columns, aliases, correlated subqueries) cost more CPU than running it for
one collector's few hundred accounts, and a statement object used again also finds its compiled
form in SQLAlchemy's cache at once. :func:`cut_params` gives the parameters' values."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVarTuple

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    SQLColumnExpression,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from commands.calllist.cutoffs import Cutoffs
from storage.models import Customer

Columns = TypeVarTuple("Columns")
Statement = Select[*tuple[Any, ...]]  # a call-list query, built once (see above)


def of_collector(stmt: Select[*Columns], customer_column: Any, by_collector: bool) -> Select[*Columns]:
    """Restrict a per-customer query to one collector's accounts (the ``collector_id``
    parameter), in SQL; ``by_collector`` False leaves it everyone's."""
    if not by_collector:
        return stmt
    mine = select(Customer.id).where(Customer.collector_id == bindparam("collector_id"))
    return stmt.where(customer_column.in_(mine))


def scoped(stmt: Select[*Columns], customer_column: Any, by_collector: bool, by_customers: bool) -> Select[*Columns]:
    """:func:`of_collector`, and with ``by_customers`` also only the customers of the
    ``customer_ids`` parameter: the few accounts a list is ranked again for
    (:mod:`commands.calllist.rerank`)."""
    stmt = of_collector(stmt, customer_column, by_collector)
    return stmt.where(customer_column.in_(customer_ids_param())) if by_customers else stmt


def customer_ids_param() -> Any:
    """The ``customer_ids`` parameter: a list, expanded into ``IN (...)`` when run."""
    return bindparam("customer_ids", expanding=True)


def cut_params(cut: Cutoffs, collector_id: int | None = None) -> dict[str, Any]:
    """The values of the parameters the call-list statements compare with, by name."""
    return {
        "day": cut.day,
        "broken_by": cut.broken_by,
        "broken_since": cut.broken_since,
        "promises_since": cut.promises_since,
        "promises_from": min(cut.broken_since, cut.promises_since),
        "history_since": cut.history_since,
        "day_start": cut.day_start,
        "day_end": cut.day_end,
        "collector_id": collector_id,
    }


def dialect_of(session: Session) -> str:
    """The database's dialect name, which the statements built once are keyed by."""
    return session.get_bind().dialect.name


@contextmanager
def without_jit(session: Session) -> Iterator[None]:
    """PostgreSQL's JIT compilation off for the statements of one ranking. The set-aside
    conditions (correlated subqueries per dispute) make the planner expect costs far beyond
    ``jit_above_cost`` for queries that run in milliseconds, and compiling them took 80-100 ms
    of a whole team's list. Set for this transaction only, and put back as it was afterwards (a
    failure rolls the transaction back, which puts it back too)."""
    if dialect_of(session) != "postgresql":
        yield
        return
    connection = session.connection()
    # One round trip: the select list is evaluated left to right, so this reads the setting first.
    before = connection.exec_driver_sql("SELECT current_setting('jit'), set_config('jit', 'off', true)").scalar()
    yield
    connection.exec_driver_sql("SELECT set_config('jit', %(before)s, true)", {"before": before})


def scanned_customer(column: SQLColumnExpression[Any]) -> ColumnElement[Any]:
    """The customer id to group by when a query reads a whole table. Written ``customer_id + 0``,
    it is an expression SQLite cannot take from an index, so SQLite scans the table and sorts,
    instead of walking a (customer_id, ...) index for its order and fetching every row through it
    (up to ten times slower for invoices). PostgreSQL plans it as usual."""
    return (column + literal_column("0")).label("customer_id")


def days_between(
    dialect: str, earlier: SQLColumnExpression[Any], later: SQLColumnExpression[Any]
) -> ColumnElement[Any]:
    """Whole days from one date to another: PostgreSQL subtracts dates natively, SQLite keeps
    them as ISO text and needs julianday()."""
    if dialect == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return later - earlier


def total(cents: Any, *conditions: ColumnElement[bool]) -> ColumnElement[Any]:
    """A sum of cents: 0 rather than NULL when nothing matches, and an integer on PostgreSQL too
    (where summing BIGINT gives NUMERIC)."""
    summed = func.sum(cents).filter(*conditions) if conditions else func.sum(cents)
    return cast(func.coalesce(summed, 0), BigInteger)


def number_frame(
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    columns: Sequence[str],
    *,
    floats: Collection[str] = (),
    params: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """A per-customer query whose columns are all numbers, as a frame indexed by customer id.
    The rows go from the DBAPI cursor straight into numpy: SQLAlchemy's row objects and pandas'
    row-by-row type inference cost more than the query itself at 100,000 rows. Columns named in
    ``floats`` may be NULL (NaN); the others must not be (sum with :func:`total`)."""
    with session.connection().execute(stmt, dict(params or {})) as result:
        rows = result.cursor.fetchall()
    if not floats:  # whole numbers only: straight into one integer array, no Python objects kept
        whole = np.array(rows, dtype=np.int64).reshape(len(rows), len(columns) + 1)
        return pd.DataFrame(
            {name: whole[:, i] for i, name in enumerate(columns, start=1)},
            index=pd.Index(whole[:, 0], name="customer_id"),
        )
    table = np.array(rows, dtype=object).reshape(len(rows), len(columns) + 1)
    return pd.DataFrame(
        {name: table[:, i].astype("float64" if name in floats else "int64") for i, name in enumerate(columns, start=1)},
        index=pd.Index(table[:, 0].astype("int64"), name="customer_id"),
    )


def typed_frame(
    session: Session, stmt: Select[*tuple[Any, ...]], columns: Sequence[str], params: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """A small per-customer query with dates or text, converted by SQLAlchemy as usual."""
    rows = [tuple(row) for row in session.connection().execute(stmt, dict(params or {}))]
    return pd.DataFrame(rows, columns=["customer_id", *columns]).set_index("customer_id")
