"""work orders: expression index for the task centre's priority sort

Revision ID: 0002_priority_rank
Revises: 0001_initial
Create Date: 2026-11-29 04:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0002_priority_rank'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

# Written out, not imported from the models: a migration must keep meaning what it meant when written.
PRIORITY_RANK_EXPRESSION = (
    "(CASE priority WHEN 'low' THEN 0 WHEN 'normal' THEN 1 WHEN 'high' THEN 2 WHEN 'urgent' THEN 3 ELSE 1 END) DESC"
)


def upgrade():
    op.create_index('ix_work_orders_priority_rank', 'work_orders',
                    [sa.text(PRIORITY_RANK_EXPRESSION), 'delivery_date', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_work_orders_priority_rank', table_name='work_orders')
