"""schools' addresses and contacts, kept from the command line

Revision ID: 0004_directory
Revises: 0003
Create Date: 2026-12-02

Adds to `school`: the address lines as GIAS names them (street, locality, address3, town,
county; postcode was already there), phone, website, a finance contact (name and e-mail), the
headteacher's name and `po_required` (the school's finance office wants a purchase order
number on every invoice).  All nullable except `po_required` (false for existing schools), so
every existing row survives unchanged.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_directory"
down_revision = "0003"
branch_labels = None
depends_on = None

TEXT_COLUMNS = ("street", "locality", "address3", "town", "county", "phone", "website",
                "finance_contact", "finance_email", "headteacher")


def upgrade() -> None:
    with op.batch_alter_table("school") as batch_op:
        for name in TEXT_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(), nullable=True))
        batch_op.add_column(sa.Column("po_required", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("school") as batch_op:
        batch_op.drop_column("po_required")
        for name in reversed(TEXT_COLUMNS):
            batch_op.drop_column(name)
