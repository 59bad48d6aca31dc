"""the suspension sequence: accounts over the threshold, their steps, due days and how each ended

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'suspension_sequences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('entered_on', sa.Date(), nullable=False),
        sa.Column('steps', sa.JSON(), nullable=False),
        sa.Column('step', sa.Integer(), nullable=False),
        sa.Column('step_due', sa.Date(), nullable=True),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.Column('end_reason', sa.String(length=20), nullable=True),
        sa.Column('end_note', sa.Text(), nullable=True),
        sa.Column('ended_by', sa.String(length=254), nullable=True),
        sa.Column('cleared_on', sa.Date(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_suspension_sequences_customer_id_customers')),
        sa.ForeignKeyConstraint(['request_id'], ['approval_requests.id'],
                                name=op.f('fk_suspension_sequences_request_id_approval_requests')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_suspension_sequences')),
    )
    with op.batch_alter_table('suspension_sequences', schema=None) as batch_op:
        batch_op.create_index('ix_suspension_sequences_customer', ['customer_id', 'entered_on'], unique=False)
        batch_op.create_index('uq_suspension_sequences_active', ['customer_id'], unique=True,
                              sqlite_where=sa.text('ended_on IS NULL'),
                              postgresql_where=sa.text('ended_on IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('suspension_sequences', schema=None) as batch_op:
        batch_op.drop_index('uq_suspension_sequences_active')
        batch_op.drop_index('ix_suspension_sequences_customer')
    op.drop_table('suspension_sequences')
