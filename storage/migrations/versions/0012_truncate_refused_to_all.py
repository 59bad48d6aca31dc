"""PostgreSQL refuses TRUNCATE on audit events to every role, superusers included

Migration 0009 let a superuser through. A superuser can still switch triggers off on purpose
(``SET session_replication_role = replica``, which is what a restore or a test reset does), but
a TRUNCATE typed by mistake, or run by a tool connected as a superuser, is now refused like any
other rewrite of the log.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_REFUSE = (
    "CREATE OR REPLACE FUNCTION audit_events_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION 'audit_events is append-only'; END $$"
)
_SUPERUSER_THROUGH = (
    "CREATE OR REPLACE FUNCTION audit_events_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN RETURN NULL; END IF; "
    "RAISE EXCEPTION 'audit_events is append-only'; END $$"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_REFUSE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_SUPERUSER_THROUGH)
