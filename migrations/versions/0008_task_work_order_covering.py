"""tasks: the 施工单 index also holds the columns a maker's or salesperson's filters read

Revision ID: 0008_task_work_order_covering
Revises: 0007_task_centre_counts
Create Date: 2026-11-29 15:30:00

"""
from alembic import op

revision = '0008_task_work_order_covering'
down_revision = '0007_task_centre_counts'
branch_labels = None
depends_on = None

INCLUDED = ['department_id', 'operator_id', 'process_id', 'created_at', 'completed_at']


def upgrade():
    op.drop_index('ix_tasks_work_order_status', table_name='tasks')
    op.create_index('ix_tasks_work_order_status', 'tasks', ['work_order_id', 'status'], unique=False,
                    postgresql_include=INCLUDED)


def downgrade():
    op.drop_index('ix_tasks_work_order_status', table_name='tasks')
    op.create_index('ix_tasks_work_order_status', 'tasks', ['work_order_id', 'status'], unique=False)
