"""boards in their order

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 07:25:44.841865

Issue 20: the live board orders `levels DESC, total_ms, at, member_id` (R13); the index was
all ascending, so every page sorted the campaign's standings. The index in the board's order
lets a page walk it.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('standings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standings_order'))
        batch_op.create_index('ix_standings_board', ['campaign_id', sa.text('levels DESC'),
                                                     'total_ms', 'at', 'member_id'])


def downgrade():
    with op.batch_alter_table('standings', schema=None) as batch_op:
        batch_op.drop_index('ix_standings_board')
        batch_op.create_index(batch_op.f('ix_standings_order'),
                              ['campaign_id', 'levels', 'total_ms', 'at', 'member_id'],
                              unique=False)
