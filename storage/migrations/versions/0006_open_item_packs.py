"""each customer's open items packed for the call list

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

from storage.open_items import rebuild_packs

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'open_item_packs',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('items', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_open_item_packs_customer_id_customers')),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_open_item_packs')),
    )
    rebuild_packs(op.get_bind())


def downgrade() -> None:
    op.drop_table('open_item_packs')
