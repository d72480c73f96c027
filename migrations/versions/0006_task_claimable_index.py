"""tasks: a partial index for the kiosk's claimable list

Revision ID: 0006_task_claimable
Revises: 0005_task_search_trgm
Create Date: 2026-11-29 12:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0006_task_claimable'
down_revision = '0005_task_search_trgm'
branch_labels = None
depends_on = None

CLAIMABLE = sa.text("operator_id IS NULL AND status = 'pending'")


def upgrade():
    op.create_index('ix_tasks_claimable', 'tasks', ['department_id', 'work_order_id'], unique=False,
                    postgresql_include=['id'], postgresql_where=CLAIMABLE, sqlite_where=CLAIMABLE)


def downgrade():
    op.drop_index('ix_tasks_claimable', table_name='tasks')
