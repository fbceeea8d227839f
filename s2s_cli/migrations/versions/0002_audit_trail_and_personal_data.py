"""audit trail and personal-data fields

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Adds the append-only audit table (UPDATE and DELETE refused by triggers on both SQLite and
PostgreSQL) and the leader's notes and erasure flag (UK GDPR erasure).
"""

import sqlalchemy as sa
from alembic import op

from s2s_cli.audit import append_only_ddl, drop_append_only_ddl

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leader") as batch_op:
        batch_op.add_column(sa.Column("notes", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("erased", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("command", sa.String(), nullable=False),
        sa.Column("table_name", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("before", sa.String(), nullable=True),
        sa.Column("after", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_record_id", "audit_log", ["record_id"])
    # the same statements an erasure uses to put the triggers back after redacting
    for statement in append_only_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_append_only_ddl(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index("ix_audit_log_record_id", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("leader") as batch_op:
        batch_op.drop_column("erased")
        batch_op.drop_column("notes")
