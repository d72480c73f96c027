"""settings: the reference version (app.services.core.reference) for databases made before it

Revision ID: 0011_reference_version
Revises: 0010_work_order_created_index
Create Date: 2026-12-03 08:30:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0011_reference_version'
down_revision = '0010_work_order_created_index'
branch_labels = None
depends_on = None

KEY = 'reference_version'
settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.JSON),
                    sa.column('updated_at', sa.DateTime))


def upgrade():
    connection = op.get_bind()
    if connection.execute(sa.select(settings.c.key).where(settings.c.key == KEY)).first() is None:
        op.execute(settings.insert().values(key=KEY, value=secrets.token_hex(8), updated_at=sa.func.now()))


def downgrade():
    op.execute(settings.delete().where(settings.c.key == KEY))
