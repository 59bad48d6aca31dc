"""the transactional outbox; the platform a tracked post landed on

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('platform', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('destination', sa.String(length=300), nullable=False),
        sa.Column('thread_key', sa.String(length=60), nullable=True),
        sa.Column('replaces_key', sa.String(length=60), nullable=True),
        sa.Column('track_key', sa.String(length=60), nullable=True),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_by', sa.String(length=60), nullable=True),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('message_channel', sa.String(length=200), nullable=True),
        sa.Column('message_id', sa.String(length=200), nullable=True),
        sa.Column('reported', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
        sa.UniqueConstraint('key', name=op.f('uq_outbox_key')),
    )
    op.create_index('ix_outbox_due', 'outbox', ['status', 'next_attempt_at'])
    op.create_index(op.f('ix_outbox_track_key'), 'outbox', ['track_key'])
    with op.batch_alter_table('posted_messages') as batch:
        batch.add_column(sa.Column('platform', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('posted_messages') as batch:
        batch.drop_column('platform')
    op.drop_index(op.f('ix_outbox_track_key'), table_name='outbox')
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.drop_table('outbox')
