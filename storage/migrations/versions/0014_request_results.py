"""each chat request's answer stored with its key, so its outcome can be checked and repeated

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('result', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('inbound_events', schema=None) as batch_op:
        batch_op.drop_column('result')
