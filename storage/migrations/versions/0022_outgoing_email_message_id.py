"""outgoing emails are found by their Message-ID (a bounce names the message it returns)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outgoing_emails', schema=None) as batch_op:
        batch_op.create_index('ix_outgoing_emails_message_id', ['message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outgoing_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_outgoing_emails_message_id')
