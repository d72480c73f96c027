"""tasks: trigram indexes for the task centre's search (PostgreSQL only)

Revision ID: 0005_task_search_trgm
Revises: 0003_api_tokens
Create Date: 2026-11-29 09:45:00

"""
from alembic import op

revision = '0005_task_search_trgm'
down_revision = '0003_api_tokens'
branch_labels = None
depends_on = None

SEARCHED_COLUMNS = ('number', 'content')


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite has no trigram index; its search reads the rows
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for column in SEARCHED_COLUMNS:
        op.create_index(f'ix_tasks_{column}_trgm', 'tasks', [column], unique=False,
                        postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'})


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for column in SEARCHED_COLUMNS:
        op.drop_index(f'ix_tasks_{column}_trgm', table_name='tasks')
