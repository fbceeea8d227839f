"""corrections: purchase orders, the date a deployment was agreed, cancelled deployments

Revision ID: 0004_corrections
Revises: 0003
Create Date: 2026-12-02

Adds `support_request.po` and `deployment.po` (the school's purchase order number, nullable),
`deployment.agreed_on` (the date the deployment was agreed: `deploy --on`; existing rows take
the date they were created), and `deployment.cancel_reason` / `deployment.cancelled_on` (for
`deployment cancel`).
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0004_corrections"
down_revision = "0004_directory"
branch_labels = None
depends_on = None


def _day(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def upgrade() -> None:
    with op.batch_alter_table("support_request") as batch_op:
        batch_op.add_column(sa.Column("po", sa.String(), nullable=True))
    with op.batch_alter_table("deployment") as batch_op:
        batch_op.add_column(sa.Column("po", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("agreed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("cancel_reason", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("cancelled_on", sa.Date(), nullable=True))
    conn = op.get_bind()
    deployment = sa.table("deployment", sa.column("id", sa.Integer()),
                          sa.column("agreed_on", sa.Date()))
    rows = conn.execute(sa.text("SELECT id, created_at FROM deployment")).all()
    for dep_id, created in rows:
        conn.execute(deployment.update().where(deployment.c.id == dep_id)
                     .values(agreed_on=_day(created)))


def downgrade() -> None:
    with op.batch_alter_table("deployment") as batch_op:
        batch_op.drop_column("cancelled_on")
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("agreed_on")
        batch_op.drop_column("po")
    with op.batch_alter_table("support_request") as batch_op:
        batch_op.drop_column("po")
