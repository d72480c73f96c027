"""ids are never reused: SQLite tables whose ids appear in history, audit rows or links become AUTOINCREMENT

Without AUTOINCREMENT SQLite hands the highest id out again after that row is deleted, so a deleted draft
task's history would attach to the next new task. PostgreSQL sequences never reuse an id: nothing to do there.

Revision ID: 0020_never_reuse_ids
Revises: 0016_submissions
Create Date: 2026-12-06 18:40:00

"""
from alembic import op
from sqlalchemy import text

revision = '0020_never_reuse_ids'
down_revision = '0016_submissions'
branch_labels = None
depends_on = None

TABLES = [
    'users', 'departments', 'processes', 'customers', 'materials', 'products', 'product_materials', 'plates',
    'assignment_rules', 'api_tokens', 'notifications', 'work_orders', 'work_order_products',
    'work_order_materials', 'work_order_steps', 'tasks',
]


def upgrade():
    _rebuild(autoincrement=True)


def downgrade():
    _rebuild(autoincrement=False)


def _rebuild(autoincrement: bool):
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    for table in TABLES:
        # Batch mode copies the table into a new one declared as asked. It cannot reflect expression
        # indexes (ix_work_orders_priority_rank) nor every partial index: every index the table had is
        # made again from its own SQL when the copy lost it.
        indexes = _index_sql(bind, table)
        with op.batch_alter_table(table, recreate='always',
                                  table_kwargs={'sqlite_autoincrement': autoincrement}):
            pass
        kept = _index_sql(bind, table)
        for name, sql in indexes.items():
            if name not in kept:
                bind.execute(text(sql))


def _index_sql(bind, table: str) -> dict[str, str]:
    rows = bind.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :table"
                             " AND sql IS NOT NULL"), {'table': table})
    return dict(rows.fetchall())
