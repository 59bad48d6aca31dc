"""files offered for download in Teams, waiting for the person to accept them

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'file_offers',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('mime', sa.String(length=100), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_file_offers')),
    )
    with op.batch_alter_table('file_offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_offers_offered_at'), ['offered_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('file_offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_offers_offered_at'))
    op.drop_table('file_offers')
