"""planned sessions (s2s plan, calendars, the week overview)

Revision ID: 0005_week
Revises: 0004_tamper
Create Date: 2026-12-01

Adds the `planned_session` table: sessions booked ahead of the day.  Existing data is untouched
(every day already in `day_log` stays a day worked).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005_week"
down_revision = "0004_tamper"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('planned_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('leader_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('halves', sa.Integer(), nullable=False),
    sa.Column('activity', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('over_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('day_log_id', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('halves IN (1, 2)', name='ck_planned_session_halves'),
    sa.CheckConstraint("status IN ('planned', 'worked', 'cancelled')", name='ck_planned_session_status'),
    sa.ForeignKeyConstraint(['day_log_id'], ['day_log.id'], ),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], ),
    sa.ForeignKeyConstraint(['leader_id'], ['leader.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('planned_session', schema=None) as batch_op:
        batch_op.create_index('ix_planned_session_date_status', ['date', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_planned_session_day_log_id'), ['day_log_id'], unique=False)
        batch_op.create_index('ix_planned_session_deployment_date', ['deployment_id', 'date'], unique=False)
        batch_op.create_index('ix_planned_session_leader_date', ['leader_id', 'date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('planned_session', schema=None) as batch_op:
        batch_op.drop_index('ix_planned_session_leader_date')
        batch_op.drop_index('ix_planned_session_deployment_date')
        batch_op.drop_index(batch_op.f('ix_planned_session_day_log_id'))
        batch_op.drop_index('ix_planned_session_date_status')
    op.drop_table('planned_session')
