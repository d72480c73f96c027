"""plan_state: the minute the stored plan was computed for and its version (one row), so a replan in
the same minute that only changes remaining quantities can recompute just the times they move

Revision ID: 0025_plan_state
Revises: 0024_plan_step_sequence
Create Date: 2026-12-07 14:40:00

Without a row the next replan plans the whole plant and writes it.
"""
import sqlalchemy as sa
from alembic import op

revision = '0025_plan_state'
down_revision = '0024_plan_step_sequence'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'plan_state',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('planned_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_state')),
    )


def downgrade():
    op.drop_table('plan_state')
