"""limit counts: the gateway's request limits, shared by its replicas

Revision ID: 0001
Revises: 
Create Date: 2026-11-30 02:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('limit_counts',
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('expires', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'subject', 'window_start', name=op.f('pk_limit_counts'))
    )
    with op.batch_alter_table('limit_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_limit_counts_expires'), ['expires'], unique=False)


def downgrade():
    with op.batch_alter_table('limit_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_limit_counts_expires'))
    op.drop_table('limit_counts')
