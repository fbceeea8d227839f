"""the term a coordinator typed for a requested specialism

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Adds `request_specialism.term` (nullable): what the coordinator typed when it resolved to the
specialism through a short form (e.g. 'numeracy' for maths), so matching can say so.  Requests
logged before this revision have no term: they score as an exact match, as they always did.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("request_specialism") as batch_op:
        batch_op.add_column(sa.Column("term", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("request_specialism") as batch_op:
        batch_op.drop_column("term")
