"""Set-at-a-time SQL for imports: plain tuples of database-native values on the session's own
connection, so the bulk work commits or rolls back with everything else in the import.

The ORM (and even Core ``insert()`` with typed columns) converts every Decimal and date one value
at a time; for a million invoices that overhead is larger than the database work. Here money is
already integer cents and dates ISO text, so rows go to the driver untouched: multi-row INSERTs
on SQLite, ``COPY`` on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from storage.aging.upkeep import drop_upkeep, restore_upkeep, worth_rebuilding

CHUNK = 50_000
FETCH = 100_000
ROWS_PER_INSERT = 100  # 100 rows of 9 columns: well under SQLite's 32,766 parameters per statement


class Progress(Protocol):
    """Where a long import reports how far it is (a progress bar in a terminal)."""

    def stage(self, name: str, total: int) -> None: ...

    def advance(self, count: int) -> None: ...


class Silent:
    def stage(self, name: str, total: int) -> None:
        """Nothing to show."""

    def advance(self, count: int) -> None:
        """Nothing to show."""


class Bulk:
    """executemany / COPY / fetch-as-frame on one session's connection."""

    def __init__(self, session: Session, progress: Progress | None = None) -> None:
        self.connection = session.connection()
        self.dialect = self.connection.dialect
        self.mark = "?" if self.dialect.paramstyle == "qmark" else "%s"
        self.progress = progress or Silent()
        self.held_alone: set[str] = set()  # tables locked for a load with the upkeep rebuilt after

    @property
    def is_postgresql(self) -> bool:
        return self.dialect.name == "postgresql"

    def instant(self, column: ColumnElement[Any], value: datetime) -> Any:
        """An aware datetime as this database's driver wants it (SQLite stores UTC text)."""
        process = column.type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return process(value) if process else value

    @contextmanager
    def loading(self, table: str, rows: int, *, held: int) -> Iterator[None]:
        """Writes to ``table`` that will load ``rows`` new rows into the ``held`` it has: on
        PostgreSQL, when they are many beside it, with its foreign keys and secondary indexes
        rebuilt after the block instead of kept up row by row (storage.aging.upkeep)."""
        if not (self.is_postgresql and worth_rebuilding(rows, held)):
            yield
            return
        dropped = drop_upkeep(self.connection, table)
        self.held_alone.add(table)
        yield
        self.held_alone.discard(table)
        self.progress.stage(f"rebuilding the keys and indexes of {table}", 0)
        restore_upkeep(self.connection, table, dropped)

    def _driver(self) -> Any:
        """The DB-API connection under the session's (untyped: sqlite3 or psycopg)."""
        driver = self.connection.connection.driver_connection
        if driver is None:
            raise RuntimeError("the session's connection is closed")
        return driver

    def frame(self, sql: str, dtypes: dict[str, str]) -> pd.DataFrame:
        """Query result as a DataFrame with the given column dtypes, read with the driver's own
        cursor (plain tuples, no per-row result objects) a slice at a time, so a million rows of
        Python strings never exist at once: text goes into compact "str" columns as it arrives."""
        cursor = self._driver().cursor()
        parts = []
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(FETCH):
                grid = np.array(rows, dtype=object).reshape(len(rows), len(dtypes))
                parts.append(
                    pd.DataFrame(
                        {name: pd.Series(grid[:, i], dtype=dtype) for i, (name, dtype) in enumerate(dtypes.items())}
                    )
                )
        finally:
            cursor.close()
        if not parts:
            return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in dtypes.items()})
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    def insert(self, table: str, columns: Sequence[str], rows: pd.DataFrame, *, stage: str) -> None:
        """Rows of ``rows[columns]`` (None for NULL) into ``table``; ``stage`` names the step
        for the progress display."""
        if rows.empty:
            return
        self.progress.stage(stage, len(rows))
        if self.is_postgresql:
            if table in self.held_alone:
                rows, columns = self._numbered(table, rows, columns)
            self._copy(table, ", ".join(columns), rows[list(columns)])
            return
        names = ", ".join(columns)
        self._insert_many_rows(table, names, rows[list(columns)])

    def _numbered(self, table: str, rows: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
        """Rows with their ids taken from the table's sequence in one call, instead of a
        ``nextval`` per row by the column default (a million invoices went in 3.1-3.8 s with
        their ids given, 4.8 s without, on a loaded machine). Only for a table this transaction
        holds alone: no one else draws from its sequence meanwhile."""
        sequence = self.connection.exec_driver_sql(
            "SELECT pg_get_serial_sequence(%(table)s, 'id') FROM pg_attribute"
            " WHERE attrelid = %(table)s::regclass AND attname = 'id'",
            {"table": table},
        ).scalar()
        if sequence is None or "id" in columns:
            return rows, list(columns)
        last = int(
            self.connection.exec_driver_sql(
                "SELECT setval(%(seq)s, nextval(%(seq)s) + %(more)s)", {"seq": sequence, "more": len(rows) - 1}
            ).scalar_one()
        )
        return rows.assign(id=np.arange(last - len(rows) + 1, last + 1, dtype=np.int64)), ["id", *columns]

    def execute_many(self, sql: str, rows: pd.DataFrame, *, stage: str) -> None:
        """``sql`` written with ``?`` placeholders, run once per row of ``rows``."""
        if rows.empty:
            return
        self.progress.stage(stage, len(rows))
        self._run_many(sql, rows)

    def _run_many(self, sql: str, rows: pd.DataFrame) -> None:
        if self.mark != "?":
            sql = sql.replace("?", self.mark)
        cursor = self._driver().cursor()
        try:
            for count, chunk in _chunks(rows):
                cursor.executemany(sql, chunk)
                self.progress.advance(count)
        finally:
            cursor.close()

    def _insert_many_rows(self, table: str, names: str, rows: pd.DataFrame) -> None:
        """SQLite: one INSERT carries ``ROWS_PER_INSERT`` rows, which spares the driver a statement
        step and reset per row (about a fifth of the cost of a million-row insert). A column with
        one integer for every row (the import's batch id) is written into the statement instead
        of bound a million times, and each statement's parameters are a slice of one flat list
        per chunk rather than a tuple built row by row."""
        fixed = _constant_integers(rows)
        values = "(" + ", ".join(str(fixed[name]) if name in fixed else "?" for name in rows.columns) + ")"
        width = ROWS_PER_INSERT * (len(rows.columns) - len(fixed))
        cursor = self._driver().cursor()
        try:
            for count, flat in _flat_chunks(rows[[name for name in rows.columns if name not in fixed]]):
                full, rest = divmod(count, ROWS_PER_INSERT)
                statement = f"INSERT INTO {table} ({names}) VALUES " + ", ".join([values] * ROWS_PER_INSERT)
                cursor.executemany(statement, (flat[at : at + width] for at in range(0, full * width, width)))
                if rest:
                    cursor.execute(
                        f"INSERT INTO {table} ({names}) VALUES " + ", ".join([values] * rest), flat[full * width :]
                    )
                self.progress.advance(count)
        finally:
            cursor.close()

    def _copy(self, table: str, names: str, rows: pd.DataFrame) -> None:
        """Integer and text columns go as CSV that Arrow writes in C++ a slice at a time (a
        million invoices: a fraction of a second, where a ``write_row`` call per row took 2.5 s of
        Python); other columns (instants, bytes) through psycopg's own row formatting."""
        raw = self._driver()
        arrow = _arrow_columns(rows)
        if arrow is None:
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for count, chunk in _chunks(rows):
                    for row in chunk:
                        copy.write_row(row)
                    self.progress.advance(count)
            return
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)") as copy:
            for start in range(0, arrow.num_rows, CHUNK):
                copy.write(_csv(arrow.slice(start, CHUNK)))
                self.progress.advance(min(CHUNK, arrow.num_rows - start))


def lock_imports(session: Session) -> None:
    """One import at a time, taken before the "already imported" check. SQLite's BEGIN IMMEDIATE
    already queues writers; PostgreSQL needs a lock, or two imports could both pass the check."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("LOCK TABLE import_batches IN SHARE ROW EXCLUSIVE MODE")


def _arrow_columns(rows: pd.DataFrame) -> pa.Table | None:
    """``rows`` as an Arrow table when every column is integers or text (None for NULL), else None."""
    columns = {}
    for name in rows.columns:
        column = rows[name]
        if pd.api.types.is_integer_dtype(column.dtype):
            columns[str(name)] = pa.array(column, pa.int64(), from_pandas=True)
        elif column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            try:
                array = pa.array(column, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # values of mixed types
                return None
            if not (
                pa.types.is_string(array.type) or pa.types.is_large_string(array.type) or pa.types.is_null(array.type)
            ):
                return None  # bytes (a pack), instants, numbers as objects
            columns[str(name)] = array.cast(pa.large_string())
        else:
            return None
    return pa.table(columns)


def _csv(rows: pa.Table) -> memoryview:
    """PostgreSQL's CSV: every text value quoted (so an empty string stays one), NULL as nothing."""
    out = pa.BufferOutputStream()
    pa_csv.write_csv(rows, out, pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
    return memoryview(out.getvalue())


def _chunks(rows: pd.DataFrame) -> Iterator[tuple[int, Iterator[tuple[Any, ...]]]]:
    """(count, rows as tuples) a slice at a time, for progress. Each column becomes one list of
    Python values up front; the row tuples are made lazily as the driver consumes them, so a
    million of them never exist at once."""
    tuples = zip(*(_plain(rows[name]) for name in rows.columns), strict=True)
    for start in range(0, len(rows), CHUNK):
        count = min(CHUNK, len(rows) - start)
        yield count, islice(tuples, count)


def _constant_integers(rows: pd.DataFrame) -> dict[str, int]:
    """Integer columns holding one value in every row, by name (never every column: a statement
    needs a parameter to be run many times)."""
    constant = {}
    for name in list(rows.columns)[1:]:
        if rows[name].dtype != np.int64 or rows.empty:
            continue
        values = rows[name].to_numpy(dtype=np.int64)
        if (values == values[0]).all():
            constant[str(name)] = int(values[0])
    return constant


def _flat_chunks(rows: pd.DataFrame) -> Iterator[tuple[int, list[Any]]]:
    """(count, the chunk's values row after row in one flat list) a ``CHUNK`` at a time: each
    column becomes Python values once, laid out in an object grid by numpy."""
    columns = [_plain(rows[name]) for name in rows.columns]
    for start in range(0, len(rows), CHUNK):
        count = min(CHUNK, len(rows) - start)
        grid = np.empty((count, len(columns)), dtype=object)
        for position, column in enumerate(columns):
            grid[:, position] = column[start : start + count]
        yield count, grid.ravel().tolist()


def _plain(column: pd.Series) -> list[Any]:
    """Python values the drivers accept: int for integers, str, or None for a missing value."""
    if column.dtype == np.int64:
        return column.tolist()
    if isinstance(column.dtype, pd.DatetimeTZDtype):  # one instant for every row, as a rule
        codes, moments = pd.factorize(column)  # a missing one has code -1: the None at the end
        instants: list[Any] = np.array([*(moment.to_pydatetime() for moment in moments), None], dtype=object)[
            codes
        ].tolist()
        return instants
    values = column.to_numpy(dtype=object)
    missing = pd.isna(values)
    if missing.any():
        values = values.copy()  # to_numpy may share an object column's own array
        values[missing] = None
    plain: list[Any] = values.tolist()
    return plain
