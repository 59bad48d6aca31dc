"""today's contacts are found by when they happened (the call list reads one day of a whole table,
from the index alone)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index(
            'ix_activities_time_customer_outcome', ['occurred_at', 'customer_id', 'kind', 'outcome'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ix_activities_time_customer_outcome')
