"""tasks.worked_seconds: each task's sum of its closed work periods; the index of completed tasks
holds what the statistics sum

Revision ID: 0009_task_worked_seconds
Revises: 0008_task_work_order_covering
Create Date: 2026-11-29 17:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0009_task_worked_seconds'
down_revision = '0008_task_work_order_covering'
branch_labels = None
depends_on = None

# Whole seconds of a closed period, truncated (as app.services.core.work_periods counts them; SQLite
# keeps times as text 'YYYY-MM-DD HH:MM:SS.ffffff').
PERIOD_SECONDS = {
    'postgresql': "floor(extract(epoch from ended_at - started_at))",
    'sqlite': "CAST(strftime('%s', substr(ended_at, 1, 19)) AS INTEGER)"
              " - CAST(strftime('%s', substr(started_at, 1, 19)) AS INTEGER)"
              " - (substr(ended_at, 21) < substr(started_at, 21))",
}
COMPLETION_FIGURES = ['operator_id', 'department_id', 'completed_quantity', 'defective_quantity', 'worked_seconds']


def upgrade():
    with op.batch_alter_table('tasks') as batch_op:
        batch_op.add_column(sa.Column('worked_seconds', sa.Integer(), nullable=True))
    seconds = PERIOD_SECONDS[op.get_bind().dialect.name]
    op.execute(f"""
        UPDATE tasks SET worked_seconds = (
            SELECT CAST(sum({seconds}) AS INTEGER) FROM time_logs
            WHERE time_logs.task_id = tasks.id AND time_logs.ended_at IS NOT NULL)
        WHERE EXISTS (SELECT 1 FROM time_logs WHERE time_logs.task_id = tasks.id AND time_logs.ended_at IS NOT NULL)
    """)
    op.drop_index('ix_tasks_status_completed', table_name='tasks')
    op.create_index('ix_tasks_status_completed', 'tasks', ['status', 'completed_at'], unique=False,
                    postgresql_include=COMPLETION_FIGURES)


def downgrade():
    op.drop_index('ix_tasks_status_completed', table_name='tasks')
    op.create_index('ix_tasks_status_completed', 'tasks', ['status', 'completed_at'], unique=False)
    with op.batch_alter_table('tasks') as batch_op:
        batch_op.drop_column('worked_seconds')
