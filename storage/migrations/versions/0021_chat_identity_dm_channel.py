"""each chat identity keeps its direct-message channel

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chat_identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dm_channel', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chat_identities', schema=None) as batch_op:
        batch_op.drop_column('dm_channel')
