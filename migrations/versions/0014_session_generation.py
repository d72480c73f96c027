"""users: the session generation that ends every session of a person; api_tokens: an optional expiry; board tokens stored as their SHA-256

Revision ID: 0014_session_generation
Revises: 0013_task_type_index
Create Date: 2026-12-06 18:30:00

"""
import hashlib

import sqlalchemy as sa
from alembic import op

revision = '0014_session_generation'
down_revision = '0013_task_type_index'
branch_labels = None
depends_on = None

settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.JSON))
BOARD_TOKENS = 'board_token:%'


def upgrade():
    op.add_column('users', sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
    op.add_column('api_tokens', sa.Column('expires_at', sa.DateTime(), nullable=True))
    # The links already on the wall screens keep working: their secrets are replaced by their hashes.
    connection = op.get_bind()
    for key, value in connection.execute(
            sa.select(settings.c.key, settings.c.value).where(settings.c.key.like(BOARD_TOKENS))).all():
        digest = hashlib.sha256(str(value).encode('utf-8')).hexdigest()
        connection.execute(settings.update().where(settings.c.key == key).values(value=digest))


def downgrade():
    # A hash cannot be turned back into its link: the boards need new links after a downgrade.
    op.execute(settings.delete().where(settings.c.key.like(BOARD_TOKENS)))
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('expires_at')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_generation')
