"""plan_entries keep their task's step place (step_sequence), so a replan reads the queued tasks
without joining every 施工单's steps

Revision ID: 0024_plan_step_sequence
Revises: 0023_plan_fillfactor
Create Date: 2026-12-07 14:10:00

A queued task is open, and an open task's 施工单 is approved: its steps no longer change (only an
unapproved 施工单 is edited), so the copy stays true while the entry lives.
"""
import sqlalchemy as sa
from alembic import op

revision = '0024_plan_step_sequence'
down_revision = '0023_plan_fillfactor'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('plan_entries', sa.Column('step_sequence', sa.Integer(), nullable=False, server_default='0'))
    op.execute("UPDATE plan_entries SET step_sequence = (SELECT s.sequence FROM tasks AS t"
               " JOIN work_order_steps AS s ON s.id = t.step_id WHERE t.id = plan_entries.task_id)")
    with op.batch_alter_table('plan_entries') as batch:
        batch.alter_column('step_sequence', server_default=None)


def downgrade():
    with op.batch_alter_table('plan_entries') as batch:
        batch.drop_column('step_sequence')
