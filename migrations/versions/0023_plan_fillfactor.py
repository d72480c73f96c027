"""plan_entries and work_order_projections leave half of each page free (PostgreSQL fillfactor 50), so
that a replan's rewrite of their planned times is a HOT update beside the old row

Revision ID: 0023_plan_fillfactor
Revises: 0022_planning
Create Date: 2026-12-07 07:50:00

Rows already stored move to roomier pages as they are next rewritten.
"""
from alembic import op

revision = '0023_plan_fillfactor'
down_revision = '0022_planning'
branch_labels = None
depends_on = None

TABLES = ("plan_entries", "work_order_projections")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} SET (fillfactor = 50)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
