"""PostgreSQL: loading many rows into a table with its foreign keys and secondary indexes put
back afterwards, instead of kept up row by row.

A foreign key is a trigger that runs one query per inserted row. For the import benchmark's
1,000,000 invoices (two foreign keys, two secondary indexes), the rows arrived in 15-23 s with
them in place and in 3.6 s without, and putting them back took 2.1 s: one sorted build per index
and one anti-join per foreign key, which is the route PostgreSQL's manual gives for populating a
table ("Remove Indexes", "Remove Foreign Key Constraints").

The definitions are read from the catalog, dropped and created again in the import's own
transaction. PostgreSQL's DDL is transactional, so whatever fails (the rebuild included: a
duplicate or a dangling reference fails it as the row-by-row check would have) rolls the table
and its definitions back together, and a dry run leaves both as they were. The price is an
``ACCESS EXCLUSIVE`` lock on the table until commit: readers of that table wait for the import.
So it is done only when the rows loaded are many beside the rows the table holds (a first load,
or an export that doubles the ledger); a day's import keeps the usual per-row upkeep.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

MIN_ROWS = 50_000  # below this the per-row upkeep costs about a second at most
SHARE_OF_TABLE = 4  # rebuild when the rows loaded are at least a quarter of the table's
BUILD_MEMORY = "256MB"  # maintenance_work_mem for the index builds, for this transaction only


def worth_rebuilding(loading: int, held: int) -> bool:
    """Per-row upkeep costs about 15 µs a loaded row; a rebuild about 3 µs a row of the whole
    table. ``held``: rows the table has before the load."""
    return loading > 0 and loading >= MIN_ROWS and loading * SHARE_OF_TABLE >= held + loading


@dataclass(frozen=True)
class Definitions:
    unique: list[tuple[str, str]]  # (constraint, definition)
    indexes: list[tuple[str, str]]  # (index, CREATE INDEX statement)
    foreign: list[tuple[str, str]]  # (constraint, definition)


def drop_upkeep(connection: Connection, table: str) -> Definitions:
    """Lock ``table`` and drop its foreign keys, unique constraints and secondary indexes (its
    primary key stays); :func:`restore_upkeep` with what this returns builds them again exactly
    as they were. Both in the caller's transaction: if anything fails between them, the
    caller's rollback restores the definitions."""
    connection.exec_driver_sql(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    found = _definitions(connection, table)
    for name, _definition in [*found.foreign, *found.unique]:
        connection.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _statement in found.indexes:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    return found


def restore_upkeep(connection: Connection, table: str, found: Definitions) -> None:
    """Build the indexes and check the constraints :func:`drop_upkeep` dropped, each in one pass
    over the table; a duplicate or a dangling reference raises here, as it would have per row."""
    connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
    for name, definition in found.unique:
        connection.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _name, statement in found.indexes:
        connection.exec_driver_sql(statement)
    for name, definition in found.foreign:
        connection.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    connection.exec_driver_sql("RESET maintenance_work_mem")


def _definitions(connection: Connection, table: str) -> Definitions:
    """The table's foreign keys, the unique constraints no other table's foreign key relies on,
    and its indexes that back no constraint (the primary key and what it backs stay)."""
    constraints = connection.exec_driver_sql(
        "SELECT c.conname, c.contype, pg_get_constraintdef(c.oid) FROM pg_constraint c"
        " WHERE c.conrelid = %(table)s::regclass AND (c.contype = 'f' OR (c.contype = 'u' AND NOT EXISTS ("
        "   SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.conindid = c.conindid)))"
        " ORDER BY c.conname",
        {"table": table},
    ).all()
    indexes = connection.exec_driver_sql(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " WHERE x.indrelid = %(table)s::regclass AND NOT x.indisprimary"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
        " ORDER BY i.relname",
        {"table": table},
    ).all()
    return Definitions(
        unique=[(name, definition) for name, kind, definition in constraints if kind == "u"],
        indexes=[(name, statement) for name, statement in indexes],
        foreign=[(name, definition) for name, kind, definition in constraints if kind == "f"],
    )
