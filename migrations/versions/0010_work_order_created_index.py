"""work_orders: an index in the list's default order (newest first)

Revision ID: 0010_work_order_created_index
Revises: 0009_task_worked_seconds
Create Date: 2026-11-29 17:45:00

"""
from alembic import op

revision = '0010_work_order_created_index'
down_revision = '0009_task_worked_seconds'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_work_orders_created', 'work_orders', ['created_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_work_orders_created', table_name='work_orders')
