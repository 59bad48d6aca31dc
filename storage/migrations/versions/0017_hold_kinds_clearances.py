"""a kind on every hold (product release, scheduling, service suspension; earlier holds stopped
product release), and clearance requests from client services

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

_STATUSES = ('pending', 'cleared', 'refused')


def upgrade() -> None:
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=40), nullable=False,
                                      server_default='product_release'))
    op.create_table(
        'clearance_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('what', sa.Text(), nullable=False),
        sa.Column('needed_on', sa.Date(), nullable=True),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('status', sa.Enum(*_STATUSES, name='clearancestatus', native_enum=False, length=20),
                  nullable=False),
        sa.Column('blockers', sa.JSON(), nullable=False),
        sa.Column('routed_to_id', sa.Integer(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decision_reason', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_clearance_requests_customer_id_customers')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['team_members.id'],
                                name=op.f('fk_clearance_requests_requested_by_id_team_members')),
        sa.ForeignKeyConstraint(['routed_to_id'], ['team_members.id'],
                                name=op.f('fk_clearance_requests_routed_to_id_team_members')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['team_members.id'],
                                name=op.f('fk_clearance_requests_decided_by_id_team_members')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_clearance_requests')),
    )
    with op.batch_alter_table('clearance_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clearance_requests_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_clearance_requests_status', ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('clearance_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_clearance_requests_status')
        batch_op.drop_index(batch_op.f('ix_clearance_requests_customer_id'))
    op.drop_table('clearance_requests')
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.drop_column('kind')
