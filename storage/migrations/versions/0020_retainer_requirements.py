"""retainer requirements per customer or engagement

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'retainer_requirements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('engagement', sa.String(length=100), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('set_by', sa.String(length=254), nullable=False),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('replenish_asked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_retainer_requirements_customer_id_customers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_retainer_requirements')),
        sa.UniqueConstraint('customer_id', 'engagement', name='uq_retainer_requirements_engagement'),
    )
    with op.batch_alter_table('retainer_requirements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retainer_requirements_customer_id'), ['customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('retainer_requirements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retainer_requirements_customer_id'))
    op.drop_table('retainer_requirements')
