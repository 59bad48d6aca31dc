"""email to customers (follow-ups and statements), queued in the transaction and sent after it

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outgoing_emails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('purpose', sa.String(length=20), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('report_to', sa.String(length=254), nullable=True),
        sa.Column('contact_name', sa.String(length=200), nullable=True),
        sa.Column('to_address', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('attachment_name', sa.String(length=200), nullable=True),
        sa.Column('attachment_mime', sa.String(length=100), nullable=True),
        sa.Column('attachment', sa.LargeBinary(), nullable=True),
        sa.Column('statement_day', sa.Date(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('message_id', sa.String(length=300), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('told_unreachable', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_outgoing_emails_customer_id_customers')),
        sa.ForeignKeyConstraint(['member_id'], ['team_members.id'],
                                name=op.f('fk_outgoing_emails_member_id_team_members')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_emails')),
        sa.UniqueConstraint('key', name=op.f('uq_outgoing_emails_key')),
    )
    with op.batch_alter_table('outgoing_emails', schema=None) as batch_op:
        batch_op.create_index('ix_outgoing_emails_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outgoing_emails_customer_id'), ['customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outgoing_emails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_emails_customer_id'))
        batch_op.drop_index('ix_outgoing_emails_due')
    op.drop_table('outgoing_emails')
