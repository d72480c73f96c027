"""tasks: the step's process on each task, and indexes that count the task centre's filters per status

Revision ID: 0007_task_centre_counts
Revises: 0006_task_claimable
Create Date: 2026-11-29 12:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007_task_centre_counts'
down_revision = '0006_task_claimable'
branch_labels = None
depends_on = None

STATUS_INDEXES = {
    'ix_tasks_work_order_status': ['work_order_id', 'status'],
    'ix_tasks_process_status': ['process_id', 'status'],
    'ix_tasks_status_created': ['status', 'created_at'],
    'ix_tasks_status_completed': ['status', 'completed_at'],
}


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('process_id', sa.Integer(), nullable=True))
    op.execute('UPDATE tasks SET process_id = '
               '(SELECT process_id FROM work_order_steps WHERE work_order_steps.id = tasks.step_id)')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.alter_column('process_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_tasks_process_id_processes'), 'processes', ['process_id'], ['id'],
                                    ondelete='RESTRICT')
        # ix_tasks_work_order_status serves every query the single-column index served.
        batch_op.drop_index('ix_tasks_work_order_id')
        for name, columns in STATUS_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        for name in STATUS_INDEXES:
            batch_op.drop_index(name)
        batch_op.create_index('ix_tasks_work_order_id', ['work_order_id'], unique=False)
        batch_op.drop_constraint(batch_op.f('fk_tasks_process_id_processes'), type_='foreignkey')
        batch_op.drop_column('process_id')
