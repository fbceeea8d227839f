"""who a deployment bills: the school or its trust (issue 13 `--bill-to trust`)

Revision ID: 0007_billrules
Revises: 0007_books
Create Date: 2027-01-04

Adds `bill_to` (school | trust, default school) to requests and deployments, and the frozen
`payer_trust_uid` to deployments: the UID of the trust a deployment agreed with `--bill-to
trust` invoices (a copy, like the payer's name on an invoice: no foreign key, so that the
columns come and go with a plain ALTER TABLE on SQLite).  Existing rows bill the school.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_billrules"
down_revision = "0007_books"
branch_labels = None
depends_on = None

COLUMNS = (("support_request", "bill_to"), ("deployment", "bill_to"),
           ("deployment", "payer_trust_uid"))


def upgrade() -> None:
    op.add_column("support_request", sa.Column("bill_to", sa.String(), nullable=False,
                                               server_default="school"))
    op.add_column("deployment", sa.Column("bill_to", sa.String(), nullable=False,
                                          server_default="school"))
    op.add_column("deployment", sa.Column("payer_trust_uid", sa.String(), nullable=True))


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        if op.get_bind().dialect.name == "sqlite":  # no table rebuild (others reference it)
            op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
        else:
            op.drop_column(table, column)
