"""what a hold was placed for: the past-due amount a payment must clear, and its approval

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('past_due_at_placement', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('request_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_holds_request_id', 'approval_requests', ['request_id'], ['id'])
    with op.batch_alter_table('plan_instalments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('plan_instalments', schema=None) as batch_op:
        batch_op.drop_column('reminded_on')
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.drop_constraint('fk_holds_request_id', type_='foreignkey')
        batch_op.drop_column('request_id')
        batch_op.drop_column('past_due_at_placement')
