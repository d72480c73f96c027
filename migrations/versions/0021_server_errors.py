"""server_errors: each unexpected error (500) with its request id, for 系统状态 (/admin/system)

Revision ID: 0021_server_errors
Revises: 0020_never_reuse_ids
Create Date: 2026-12-06 18:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0021_server_errors'
down_revision = '0020_never_reuse_ids'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'server_errors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('occurred_at', sa.DateTime(), nullable=False),
        sa.Column('request_id', sa.String(length=64), nullable=False),
        sa.Column('method', sa.String(length=10), nullable=False),
        sa.Column('route', sa.String(length=200), nullable=False),
        sa.Column('error', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_server_errors_occurred_at', 'server_errors', ['occurred_at'], unique=False)


def downgrade():
    op.drop_index('ix_server_errors_occurred_at', table_name='server_errors')
    op.drop_table('server_errors')
