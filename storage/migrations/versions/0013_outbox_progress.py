"""outbox entries remember what a failed attempt left: parts delivered, whether it may have landed

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('may_have_landed', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('parts_sent', sa.JSON(), nullable=True))
    # Entries already retried were looked up before every retry; keep that for them.
    op.execute("UPDATE outbox SET may_have_landed = TRUE WHERE attempts > 0 AND status = 'pending'")


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('parts_sent')
        batch.drop_column('may_have_landed')
