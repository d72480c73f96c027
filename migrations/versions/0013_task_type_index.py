"""tasks: the task type in two indexes, to count a task-type filter from indexes alone; the id with the columns of each viewer's visibility (PostgreSQL), to walk a viewer's list without reading rows

Revision ID: 0013_task_type_index
Revises: 0012_task_work_order_index_id
Create Date: 2026-12-03 18:30:00

"""
from alembic import op

revision = '0013_task_type_index'
down_revision = '0012_task_work_order_index_id'
branch_labels = None
depends_on = None

BEFORE = ['department_id', 'operator_id', 'process_id', 'created_at', 'completed_at', 'id']
AFTER = ['department_id', 'operator_id', 'process_id', 'task_type', 'created_at', 'completed_at', 'id']
VISIBILITY = ['status', 'work_order_id', 'department_id', 'operator_id']


def upgrade():
    op.create_index('ix_tasks_task_type_status', 'tasks', ['task_type', 'status'], unique=False)
    _replace_work_order_index(AFTER)
    if op.get_bind().dialect.name == 'postgresql':  # SQLite keeps no included columns
        op.create_index('ix_tasks_id_visibility', 'tasks', ['id'], unique=False, postgresql_include=VISIBILITY)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_tasks_id_visibility', table_name='tasks')
    _replace_work_order_index(BEFORE)
    op.drop_index('ix_tasks_task_type_status', table_name='tasks')


def _replace_work_order_index(included):
    op.drop_index('ix_tasks_work_order_status', table_name='tasks')
    op.create_index('ix_tasks_work_order_status', 'tasks', ['work_order_id', 'status'], unique=False,
                    postgresql_include=included)
