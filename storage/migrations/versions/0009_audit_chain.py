"""audit events form a hash chain; SQLite refuses REPLACE and PostgreSQL refuses TRUNCATE on them

Existing events are hashed here in id order, with the rule in storage.audit. ``prev_hash`` is
unique so two writers can never chain onto the same event.

SQLite: ``REPLACE INTO audit_events`` deletes the old row without firing the DELETE trigger
(unless PRAGMA recursive_triggers is on), so a BEFORE INSERT trigger refuses an insert whose id
already exists. PostgreSQL: a BEFORE TRUNCATE statement trigger refuses TRUNCATE for every role
but a superuser (who can switch any trigger off anyway, and whom test suites and restores use to
reset a database). Stopping the owner from dropping the triggers takes a second role: README,
"Protecting the audit log".

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Connection

from storage.audit import GENESIS, event_hash
from storage.types import UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_REFUSE = "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
_SQLITE_NO_UPDATE = f"CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events {_REFUSE}"
_SQLITE_NO_REPLACE = (
    "CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events "
    f"WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id) {_REFUSE}"
)
_PG_NO_TRUNCATE = [
    "CREATE FUNCTION audit_events_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN RETURN NULL; END IF; "
    "RAISE EXCEPTION 'audit_events is append-only'; END $$",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_no_truncate()",
]

_events = sa.table(
    'audit_events',
    sa.column('id', sa.Integer()), sa.column('at', UTCDateTime()), sa.column('actor', sa.String()),
    sa.column('action', sa.String()), sa.column('entity_type', sa.String()),
    sa.column('entity_id', sa.Integer()), sa.column('customer_id', sa.Integer()),
    sa.column('data', sa.JSON()), sa.column('prev_hash', sa.String()), sa.column('hash', sa.String()),
)


def upgrade() -> None:
    op.add_column('audit_events', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_events', sa.Column('hash', sa.String(length=64), nullable=True))
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_update")
    elif dialect == "postgresql":
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
    _hash_existing(op.get_bind())
    if dialect == "sqlite":
        op.execute(_SQLITE_NO_UPDATE)
        op.execute(_SQLITE_NO_REPLACE)
    elif dialect == "postgresql":
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change")
        for statement in _PG_NO_TRUNCATE:
            op.execute(statement)
    op.create_index('ux_audit_events_prev_hash', 'audit_events', ['prev_hash'], unique=True)


def _hash_existing(conn: Connection, batch: int = 2000) -> None:
    """Chain the events already stored, oldest id first, a batch at a time."""
    prev, after = GENESIS, 0
    while True:
        rows = conn.execute(sa.select(_events).where(_events.c.id > after)
                            .order_by(_events.c.id).limit(batch)).all()
        links = []
        for row in rows:
            digest = event_hash(id=row.id, at=row.at, actor=row.actor, action=row.action,
                                entity_type=row.entity_type, entity_id=row.entity_id,
                                customer_id=row.customer_id, data=row.data, prev_hash=prev)
            links.append({"key": row.id, "p": prev, "h": digest})
            prev = digest
        if links:
            conn.execute(sa.update(_events).where(_events.c.id == sa.bindparam("key"))
                         .values(prev_hash=sa.bindparam("p"), hash=sa.bindparam("h")), links)
        if len(rows) < batch:
            return
        after = rows[-1].id


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_replace")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_no_truncate()")
    op.drop_index('ux_audit_events_prev_hash', table_name='audit_events')
    op.drop_column('audit_events', 'hash')
    op.drop_column('audit_events', 'prev_hash')
