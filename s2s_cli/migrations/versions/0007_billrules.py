"""who a deployment bills: the school or its trust (issue 13 `--bill-to trust`)

Revision ID: 0007_billrules
Revises: 0007_books
Create Date: 2027-01-04

Adds `bill_to` (school | trust, default school) to requests and deployments, and the frozen
`payer_trust_uid` to deployments: the trust a deployment agreed with `--bill-to trust` invoices.
Existing rows bill the school, as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_billrules"
down_revision = "0007_books"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("support_request") as batch_op:
        batch_op.add_column(sa.Column("bill_to", sa.String(), nullable=False,
                                      server_default="school"))
    with op.batch_alter_table("deployment") as batch_op:
        batch_op.add_column(sa.Column("bill_to", sa.String(), nullable=False,
                                      server_default="school"))
        batch_op.add_column(sa.Column("payer_trust_uid", sa.String(), sa.ForeignKey(
            "trust.uid", name="fk_deployment_payer_trust_uid"), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployment") as batch_op:
        batch_op.drop_column("payer_trust_uid")
        batch_op.drop_column("bill_to")
    with op.batch_alter_table("support_request") as batch_op:
        batch_op.drop_column("bill_to")
