"""receivables each import left, by collector and due date (the KPI report's history); the side
of its target each figure was last seen on; credit sales by day, rewritten by each import

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'receivable_rollups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('collector_id', sa.Integer(), nullable=True),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('balance', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name='fk_receivable_rollups_batch_id_import_batches'),
        sa.ForeignKeyConstraint(['collector_id'], ['team_members.id'], name='fk_receivable_rollups_collector_id_team_members'),
        sa.PrimaryKeyConstraint('id', name='pk_receivable_rollups'),
    )
    op.create_index('ix_receivable_rollups_batch_id', 'receivable_rollups', ['batch_id'], unique=False)
    op.create_table(
        'target_states',
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('missed', sa.Boolean(), nullable=False),
        sa.Column('value', sa.String(length=40), nullable=True),
        sa.Column('checked_on', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('key', name='pk_target_states'),
    )
    op.create_table(
        'sales_days',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('undated', sa.Boolean(), nullable=False),
        sa.Column('collector_id', sa.Integer(), nullable=True),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['collector_id'], ['team_members.id'], name='fk_sales_days_collector_id_team_members'),
        sa.PrimaryKeyConstraint('id', name='pk_sales_days'),
    )
    op.create_index('ix_sales_days_day', 'sales_days', ['day'], unique=False)
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rollup_kept', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_table('target_states')
    op.drop_index('ix_sales_days_day', table_name='sales_days')
    op.drop_table('sales_days')
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_column('rollup_kept')
    op.drop_index('ix_receivable_rollups_batch_id', table_name='receivable_rollups')
    op.drop_table('receivable_rollups')
