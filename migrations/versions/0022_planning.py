"""planning (排产, DOMAIN.md §12): workstations and their processes, queue entries, 施工单 projections

Workstations and their processes appear in audit rows: on SQLite they are AUTOINCREMENT so an id is
never handed out twice (see 0020_never_reuse_ids). Queue entries and projections are keyed by the
task and the 施工单.

Revision ID: 0022_planning
Revises: 0021_server_errors
Create Date: 2026-12-06 21:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0022_planning'
down_revision = '0021_server_errors'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'workstations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_workstations_department_active', 'workstations', ['department_id', 'is_active'])
    op.create_table(
        'workstation_processes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workstation_id', sa.Integer(), nullable=False),
        sa.Column('process_id', sa.Integer(), nullable=False),
        sa.Column('rate_per_hour', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('setup_minutes', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['workstation_id'], ['workstations.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['process_id'], ['processes.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('workstation_id', 'process_id'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_workstation_processes_process_id', 'workstation_processes', ['process_id'])
    op.create_table(
        'plan_entries',
        sa.Column('task_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('workstation_id', sa.Integer(), nullable=False),
        sa.Column('work_order_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('queued_at', sa.DateTime(), nullable=False),
        sa.Column('planned_start', sa.DateTime(), nullable=True),
        sa.Column('planned_finish', sa.DateTime(), nullable=True),
        sa.Column('conflict', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['workstation_id'], ['workstations.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('task_id'),
    )
    op.create_index('ix_plan_entries_workstation_position', 'plan_entries', ['workstation_id', 'position'])
    op.create_index('ix_plan_entries_work_order_id', 'plan_entries', ['work_order_id'])
    op.create_table(
        'work_order_projections',
        sa.Column('work_order_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('projected_finish', sa.DateTime(), nullable=True),
        sa.Column('unplanned', sa.Boolean(), nullable=False),
        sa.Column('at_risk', sa.Boolean(), nullable=False),
        sa.Column('risk_notified_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('work_order_id'),
    )
    op.create_index('ix_work_order_projections_at_risk', 'work_order_projections', ['at_risk'])


def downgrade():
    op.drop_table('work_order_projections')
    op.drop_table('plan_entries')
    op.drop_table('workstation_processes')
    op.drop_table('workstations')
