"""what a dispute settled for the customer waits for: the invoice's open balance and the last
invoice row when it was resolved, so an import can be seen to show the credit

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invoice_open_at_resolution', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('last_invoice_at_resolution', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_column('last_invoice_at_resolution')
        batch_op.drop_column('invoice_open_at_resolution')
