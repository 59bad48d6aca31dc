"""Small helpers the call-list queries share: one collector's accounts, day differences that
work on SQLite and PostgreSQL, sums of cents, and turning results into frames quickly."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, TypeVarTuple

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    SQLColumnExpression,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from storage.models import Customer

Columns = TypeVarTuple("Columns")


def of_collector(stmt: Select[*Columns], customer_column: Any, collector_id: int | None) -> Select[*Columns]:
    """Restrict a per-customer query to one collector's accounts, in SQL."""
    if collector_id is None:
        return stmt
    return stmt.where(customer_column.in_(select(Customer.id).where(Customer.collector_id == collector_id)))


def scanned_customer(column: SQLColumnExpression[Any]) -> ColumnElement[Any]:
    """The customer id to group by when a query reads a whole table. Written ``customer_id + 0``,
    it is an expression SQLite cannot take from an index, so SQLite scans the table and sorts,
    instead of walking a (customer_id, ...) index for its order and fetching every row through it
    (up to ten times slower for invoices). PostgreSQL plans it as usual."""
    return (column + literal_column("0")).label("customer_id")


def days_between(
    session: Session, earlier: SQLColumnExpression[Any], later: SQLColumnExpression[Any]
) -> ColumnElement[Any]:
    """Whole days from one date to another: PostgreSQL subtracts dates natively, SQLite keeps
    them as ISO text and needs julianday()."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return later - earlier


def total(cents: Any, *conditions: ColumnElement[bool]) -> ColumnElement[Any]:
    """A sum of cents: 0 rather than NULL when nothing matches, and an integer on PostgreSQL too
    (where summing BIGINT gives NUMERIC)."""
    summed = func.sum(cents).filter(*conditions) if conditions else func.sum(cents)
    return cast(func.coalesce(summed, 0), BigInteger)


def number_frame(
    session: Session, stmt: Select[*tuple[Any, ...]], columns: Sequence[str], *, floats: Collection[str] = ()
) -> pd.DataFrame:
    """A per-customer query whose columns are all numbers, as a frame indexed by customer id.
    The rows go from the DBAPI cursor straight into numpy: SQLAlchemy's row objects and pandas'
    row-by-row type inference cost more than the query itself at 100,000 rows. Columns named in
    ``floats`` may be NULL (NaN); the others must not be (sum with :func:`total`)."""
    with session.connection().execute(stmt) as result:
        rows = result.cursor.fetchall()
    table = np.array(rows, dtype=object).reshape(len(rows), len(columns) + 1)
    return pd.DataFrame(
        {name: table[:, i].astype("float64" if name in floats else "int64") for i, name in enumerate(columns, start=1)},
        index=pd.Index(table[:, 0].astype("int64"), name="customer_id"),
    )


def typed_frame(session: Session, stmt: Select[*tuple[Any, ...]], columns: Sequence[str]) -> pd.DataFrame:
    """A small per-customer query with dates or text, converted by SQLAlchemy as usual."""
    rows = [tuple(row) for row in session.connection().execute(stmt)]
    return pd.DataFrame(rows, columns=["customer_id", *columns]).set_index("customer_id")
