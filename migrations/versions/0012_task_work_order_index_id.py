"""tasks: the 施工单 index also holds the task id, by which a maker's or salesperson's pages are ordered

Revision ID: 0012_task_work_order_index_id
Revises: 0011_reference_version
Create Date: 2026-12-03 16:00:00

"""
from alembic import op

revision = '0012_task_work_order_index_id'
down_revision = '0011_reference_version'
branch_labels = None
depends_on = None

FILTERED = ['department_id', 'operator_id', 'process_id', 'created_at', 'completed_at']


def upgrade():
    _replace_index(FILTERED + ['id'])


def downgrade():
    _replace_index(FILTERED)


def _replace_index(included):
    op.drop_index('ix_tasks_work_order_status', table_name='tasks')
    op.create_index('ix_tasks_work_order_status', 'tasks', ['work_order_id', 'status'], unique=False,
                    postgresql_include=included)
