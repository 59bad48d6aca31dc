"""workflows: payment confirmations, approval requests, fee waivers, posted messages, job runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=60), nullable=False),
    sa.Column('run_date', sa.Date(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('job', 'run_date', name='uq_job_runs_job_date')
    )
    op.create_table('posted_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('channel', sa.String(length=200), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('thread', sa.String(length=200), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posted_messages')),
    sa.UniqueConstraint('key', name=op.f('uq_posted_messages_key'))
    )
    with op.batch_alter_table('posted_messages', schema=None) as batch_op:
        batch_op.create_index('ix_posted_messages_location', ['channel', 'message_id'], unique=False)

    op.create_table('approval_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('hold', 'release', 'waiver', 'plan', name='approvalkind', native_enum=False, length=20), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', 'expired', name='approvalstatus', native_enum=False, length=20), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_approval_requests_customer_id_customers')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['team_members.id'], name=op.f('fk_approval_requests_decided_by_id_team_members')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['team_members.id'], name=op.f('fk_approval_requests_requested_by_id_team_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_requests'))
    )
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_requests_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_approval_requests_status', ['status'], unique=False)

    op.create_table('fee_waivers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('fee', sa.String(length=100), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['team_members.id'], name=op.f('fk_fee_waivers_approved_by_id_team_members')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_fee_waivers_customer_id_customers')),
    sa.ForeignKeyConstraint(['request_id'], ['approval_requests.id'], name=op.f('fk_fee_waivers_request_id_approval_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_waivers'))
    )
    with op.batch_alter_table('fee_waivers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fee_waivers_customer_id'), ['customer_id'], unique=False)

    op.create_table('payment_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=True),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'partial', 'not_received', name='confirmationstatus', native_enum=False, length=20), nullable=False),
    sa.Column('confirmed_amount', sa.BigInteger(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_payment_confirmations_customer_id_customers')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['team_members.id'], name=op.f('fk_payment_confirmations_decided_by_id_team_members')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_confirmations_payment_id_payments')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['team_members.id'], name=op.f('fk_payment_confirmations_requested_by_id_team_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_confirmations'))
    )
    with op.batch_alter_table('payment_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_confirmations_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_payment_confirmations_status', ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('payment_confirmations', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_confirmations_status')
        batch_op.drop_index(batch_op.f('ix_payment_confirmations_customer_id'))

    op.drop_table('payment_confirmations')
    with op.batch_alter_table('fee_waivers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fee_waivers_customer_id'))

    op.drop_table('fee_waivers')
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_approval_requests_status')
        batch_op.drop_index(batch_op.f('ix_approval_requests_customer_id'))

    op.drop_table('approval_requests')
    with op.batch_alter_table('posted_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_posted_messages_location')

    op.drop_table('posted_messages')
    op.drop_table('job_runs')
