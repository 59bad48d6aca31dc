"""approved credit memos and write-offs finance still has to book: one task each, with what a
later import must move to show it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_KINDS = ('hold', 'release', 'waiver', 'plan', 'credit', 'writeoff')
_STATUSES = ('open', 'done', 'shown', 'not_doing')


def upgrade() -> None:
    op.create_table(
        'adjustment_tasks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum(*_KINDS, name='approvalkind', native_enum=False, length=20), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=True),
        sa.Column('dispute_id', sa.Integer(), nullable=True),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.Enum(*_STATUSES, name='adjustmentstatus', native_enum=False, length=20),
                  nullable=False),
        sa.Column('open_at_approval', sa.BigInteger(), nullable=False),
        sa.Column('last_invoice_at_approval', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('close_note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['request_id'], ['approval_requests.id'],
                                name=op.f('fk_adjustment_tasks_request_id_approval_requests')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_adjustment_tasks_customer_id_customers')),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_adjustment_tasks_invoice_id_invoices')),
        sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'], name=op.f('fk_adjustment_tasks_dispute_id_disputes')),
        sa.ForeignKeyConstraint(['closed_by_id'], ['team_members.id'],
                                name=op.f('fk_adjustment_tasks_closed_by_id_team_members')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_adjustment_tasks')),
        sa.UniqueConstraint('request_id', name=op.f('uq_adjustment_tasks_request_id')),
    )
    with op.batch_alter_table('adjustment_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adjustment_tasks_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_adjustment_tasks_status', ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('adjustment_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_adjustment_tasks_status')
        batch_op.drop_index(batch_op.f('ix_adjustment_tasks_customer_id'))
    op.drop_table('adjustment_tasks')
